"""A config of thousands of profiles costs the warm path and the plugin nothing for the unrelated ones.

The warm path (``credential-process`` from cache) reads only the sections a profile needs
(``_scan._scan_sections``); for every file botocore's parser accepts, what it finds is what the
full parse finds. With the plugin active, botocore's own config parse runs no more often than
without it. The timing is bench/credential_process.py's (a 36,000-line config beside the small one).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boto_sso_oidc_provider.config import _scan
from boto_sso_oidc_provider.emulator import sso_config
from boto_sso_oidc_provider.organizations.generate import Assignment, generated_sections

from ..cli_helpers import login
from ..conftest import REPO, subprocess_env

LINES = [
    "[profile dev]", "[profile  dev]", '[profile "dev"]', "[default]", "[profile default]",
    "[sso-session s]", "[sso-session  s]", '[sso-session "s"]', "[profile other]", "[profilex dev]",
    "[DEFAULT]", "  [profile dev]", "[profile dev] ; a note", "[sso-session s]x", "[profile dev",
    "sso_session = s", "sso_account_id = 111111111111", "sso_role_name = Admin",
    "sso_start_url = https://x.awsapps.com/start", "sso_region = us-east-1", "region = eu-west-1",
    "role_arn = arn:aws:iam::111111111111:role/r", "source_profile = other", "source_profile = dev",
    "  continued", "\tcontinued = too", "# comment", "; comment", "", "dev = 1", "s = dev", "x=1\r",
    "sso_role_name=Other", "sso_session = dev",
]


def _write(text: str) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".config", delete=False, encoding="utf-8")
    with handle:
        handle.write(text)
    return handle.name


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.sampled_from(LINES), max_size=30),
       profile=st.sampled_from(["dev", "default", "other"]))
def test_the_scan_finds_what_the_full_parse_finds(lines: list[str], profile: str) -> None:
    path = _write("\n".join(lines) + "\n")
    try:
        full = _scan._load_sections(path)
        scanned = _scan._scan_sections(path, profile)
        if full is None:  # a file botocore refuses: the helper's caller stopped at it already
            return
        assert scanned is not None
        assert _scan._sso_role(profile, *scanned).__repr__() == _scan._sso_role(profile, *full).__repr__()
        assert repr(_scan._chain(profile, *scanned)) == repr(_scan._chain(profile, *full))
        assert scanned[0].get(profile) == full[0].get(profile)
    finally:
        Path(path).unlink()


def _big_config(profiles: int) -> str:
    roles = ("AdministratorAccess", "ReadOnlyAccess", "Billing")
    items = [Assignment(str(100_000_000_000 + n // 3), roles[n % 3], f"Account {n // 3:05d}")
             for n in range(profiles)]
    sections = generated_sections(items, sso_session="emulator", extra={"region": "us-east-1"})
    return sso_config() + "\n" + "\n".join(section.render() for section in sections)


def test_the_scan_of_a_generated_config_reads_two_sections(tmp_path):
    config = tmp_path / "config"
    config.write_text(_big_config(6000))
    full = _scan._load_sections(str(config))
    assert full is not None
    for name in ("dev", "Account-01234.Billing", "Account-00000.AdministratorAccess"):
        profiles, sessions = _scan._scan_sections(str(config), name) or ({}, {})
        assert profiles == {name: full[0][name]} and sessions == {"emulator": full[1]["emulator"]}


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
