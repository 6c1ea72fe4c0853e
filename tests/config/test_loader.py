"""``config._loader`` reads the files exactly as botocore's loader does, and a big config costs the
plugin nothing.

The warm path parses the config with ``_loader`` (standard library only) instead of botocore:
on every file of the grammar (tests/config/grammar.py), its profile map is botocore's
``Session.full_config`` of the same bytes, or both refuse the file. The environment's rules
(which file, which profile) are botocore's config variables'.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import botocore.exceptions
import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings

from boto_sso_oidc_provider.config import _loader
from boto_sso_oidc_provider.organizations.generate import Assignment, generated_sections

from ..cli_helpers import login
from ..conftest import REPO, set_home, subprocess_env
from .grammar import Files, files

EXAMPLES = int(os.environ.get("BOTO_SSO_OIDC_TEST_EXAMPLES", "1500"))


def _botocore(config: Path, credentials: Path) -> object:
    """botocore's full_config of these files, or the name of the error it raises."""
    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    session.set_config_variable("credentials_file", str(credentials))
    try:
        return session.full_config
    except botocore.exceptions.ConfigParseError:
        return "ConfigParseError"


def _ours(config: bytes | None, credentials: bytes | None) -> object:
    try:
        return _loader.full_config(config, credentials)
    except _loader.ConfigParseError:
        return "ConfigParseError"


_counted = {"examples": 0, "refused": 0}


@pytest.mark.timeout(900)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
@given(example=files)
def test_the_loader_is_botocores_on_every_file_of_the_grammar(example: Files, tmp_path: Path) -> None:
    config_bytes, credentials_bytes = example.config, example.credentials
    config_path, credentials_path = tmp_path / "config", tmp_path / "credentials"
    config_path.write_bytes(config_bytes)
    credentials_path.unlink(missing_ok=True)
    if credentials_bytes is not None:
        credentials_path.write_bytes(credentials_bytes)
    expected = _botocore(config_path, credentials_path)
    assert _ours(config_bytes, credentials_bytes) == expected
    _counted["examples"] += 1
    _counted["refused"] += expected == "ConfigParseError"


def test_the_grammar_makes_files_of_every_kind():
    """Run after the differential (same module, file order): a fair share of files botocore
    parses and of files it refuses, so the comparison said something about both."""
    if _counted["examples"] < EXAMPLES:
        pytest.skip("run together with the differential test")
    print(f"{_counted['examples']} files, {_counted['refused']} refused by botocore")
    assert 0.1 < _counted["refused"] / _counted["examples"] < 0.9


@pytest.mark.parametrize("data", [
    b"[profile dev]\r\nsso_role_name = A\r\n",                # CRLF
    b"[profile dev]\rsso_role_name = A\rsso_account_id = 1",  # a lone CR ends a line
    b"\xef\xbb\xbf[profile dev]\nregion = x\n",               # a BOM: no header, botocore refuses
    "[profile\u00a0dev]\nregion = x\n".encode(),              # one shlex word: not a profile
    "[profile dev]\n\u00a0[profile  dev]\nregion = y\n".encode(),
    b"[profile d\\ev]\nregion = a\n[profile dev]\nregion = b\n",
    b"[profile dev]\n[note = x\nrole_arn = arn\n",
    b"[DEFAULT]\nregion = d\n[profile dev]\nsso_role_name = A\n",
    b"[profile dev]\ns3 =\n  addressing_style = path\n",
    b"[profile dev]\ns3 =\n  no equals sign\n",
    b"[profile dev]\nregion = a\nRegion = b\n",
    b"[profile dev]\xff\nregion = a\n",
])
def test_the_loader_is_botocores_on_the_audit_cases(data, tmp_path):
    config_path = tmp_path / "config"
    config_path.write_bytes(data)
    assert _ours(data, None) == _botocore(config_path, tmp_path / "none")


def test_the_environment_picks_files_and_profile_as_botocore_does(tmp_path, monkeypatch):
    set_home(monkeypatch, tmp_path)
    for variables in ({}, {"AWS_CONFIG_FILE": ""}, {"AWS_CONFIG_FILE": "~/elsewhere"},
                      {"AWS_SHARED_CREDENTIALS_FILE": "$HOME/c"}, {"AWS_PROFILE": "a"},
                      {"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"}, {"AWS_DEFAULT_PROFILE": ""},
                      {"AWS_PROFILE": ""}):
        for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        session = botocore.session.Session()
        assert _loader.config_file() == os.path.expanduser(os.path.expandvars(
            session.get_config_variable("config_file"))), variables
        assert _loader.credentials_file() == os.path.expanduser(os.path.expandvars(
            session.get_config_variable("credentials_file"))), variables
        profile = session.get_config_variable("profile")
        assert _loader.default_profile() == ("default" if profile is None else profile), variables


# -- a config of thousands of profiles ----------------------------------------------------------


def _big_config(profiles: int) -> str:
    from boto_sso_oidc_provider.emulator import sso_config

    roles = ("AdministratorAccess", "ReadOnlyAccess", "Billing")
    items = [Assignment(str(100_000_000_000 + n // 3), roles[n % 3], f"Account {n // 3:05d}")
             for n in range(profiles)]
    sections = generated_sections(items, sso_session="emulator", extra={"region": "us-east-1"})
    return sso_config() + "\n" + "\n".join(section.render() for section in sections)


def test_a_6000_profile_config_is_parsed_once_per_version(sso_emulator):
    """The warm path parses a 36,000-line config once; later calls read its memo (what the
    profile resolved to, for these bytes) and no configparser at all."""
    from boto_sso_oidc_provider.config._resolved import resolve

    sso_emulator.write_config(_big_config(6000))
    started = time.perf_counter()
    first = resolve("Account-01234.Billing")
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    second = resolve("Account-01234.Billing")
    remembered = time.perf_counter() - started
    print(f"resolve on a 6,000-profile config: {parsed * 1000:.0f} ms parsed, "
          f"{remembered * 1000:.1f} ms from the memo")
    assert first is not None and second is not None
    assert (first.account_id, first.role_name) == (second.account_id, second.role_name) == \
        ("100000001234", "Billing")
    code = ("import sys; from boto_sso_oidc_provider.config._resolved import resolve; "
            "assert resolve('Account-01234.Billing') is not None; print('configparser' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env(sso_emulator),
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


_COUNT_PARSES = """
import sys
import boto3, botocore.configloader
import boto_sso_oidc_provider as sso

config = sys.argv[1]
reads = []
original = botocore.configloader.raw_config_parse

def counting(path, *args, **kwargs):
    if str(path) == config:
        reads.append(path)
    return original(path, *args, **kwargs)

botocore.configloader.raw_config_parse = counting
if sys.argv[2] == "plugin":
    sso.install()
else:
    sso.uninstall()  # in case the startup hook installed it
for _ in range(2):  # the first fills the role cache, the second reads it
    credentials = boto3.Session(profile_name="dev").get_credentials()
    assert credentials.get_frozen_credentials().access_key
print(credentials.method, len(reads))
"""


def test_the_plugin_adds_no_config_parse_on_a_6000_profile_config(sso_emulator):
    """boto3 sessions resolving ``dev``'s credentials in a fresh interpreter, with the plugin
    installed and without: botocore's ``raw_config_parse`` of the config runs as often in both."""
    sso_emulator.write_config(_big_config(6000))
    login()
    env = subprocess_env(sso_emulator)
    counts = {}
    for mode in ("botocore", "plugin"):
        result = subprocess.run([sys.executable, "-c", _COUNT_PARSES, str(sso_emulator.config_file), mode],
                                env=env, capture_output=True, text=True, timeout=120,
                                stdin=subprocess.DEVNULL, cwd=REPO)
        assert result.returncode == 0, result.stderr
        method, count = result.stdout.split()
        assert method == {"botocore": "sso", "plugin": "sso-oidc"}[mode]
        counts[mode] = int(count)
    print(f"raw_config_parse of the 6,000-profile config: {counts['botocore']} without the plugin, "
          f"{counts['plugin']} with it (two credential look-ups each)")
    assert counts["botocore"] >= 1
    assert counts["plugin"] <= counts["botocore"], counts
