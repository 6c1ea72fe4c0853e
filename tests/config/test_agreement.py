"""Never the wrong account: the warm path, the full path and botocore give a profile the same
credentials, or the warm path steps aside and the full path fails.

The differential: on every config, credentials file and environment of the grammar
(tests/config/grammar.py), with a cache file for every (account, role, session) and every
assume-role argument set, each carrying its own access key id, three readers resolve each
profile: botocore's own credential chain (an explicit profile, and the default one through the
environment), the warm path (``credentials._warm``, the memo of ``config._resolved``) and the
full path (``AWSConfig`` and the credential managers, no login allowed). The warm path answers
botocore's key or nothing; the full path answers botocore's key or fails; where botocore fails,
both do. The memos of earlier examples stay on disk: none may answer for a later file.

Then the audit's cases, each end to end through ``boto-sso-oidc credential-process``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections import Counter
from pathlib import Path

import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings

from boto_sso_oidc_provider._clock import format_timestamp, utc_now
from boto_sso_oidc_provider.config import _loader
from boto_sso_oidc_provider.config.reader import AWSConfig
from boto_sso_oidc_provider.credentials import _warm
from boto_sso_oidc_provider.credentials.chained import profile_credentials
from boto_sso_oidc_provider.exceptions import SSOProviderError
from boto_sso_oidc_provider.options import Options

from ..conftest import set_home
from .grammar import NAMES, Files, assume_role_entries, files, role_entries

EXAMPLES = int(os.environ.get("BOTO_SSO_OIDC_TEST_EXAMPLES", "1500")) // 3 * 2

# No credentials from anywhere but the files: no environment keys, no instance metadata, and
# an endpoint that refuses at once for the calls a cache miss would make.
_QUIET = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
          "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard", "BOTO_SSO_OIDC_OPEN_BROWSER": "false"}


def _fill_caches(home: Path) -> None:
    cache = home / ".aws" / "cli" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    expiration = format_timestamp(utc_now() + dt.timedelta(hours=3))
    for key, access_key in {**role_entries(), **assume_role_entries()}.items():
        (cache / f"{key}.json").write_text(json.dumps({"Credentials": {
            "AccessKeyId": access_key, "SecretAccessKey": "secret", "SessionToken": "token",
            "Expiration": expiration}}))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("AWS_", "BOTO_SSO_OIDC_")):
            monkeypatch.delenv(name)
    for name, value in _QUIET.items():
        monkeypatch.setenv(name, value)
    set_home(monkeypatch, tmp_path)
    (tmp_path / ".aws").mkdir(mode=0o700)
    _fill_caches(tmp_path)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / ".aws" / "credentials"))
    return tmp_path


_BOTOCORE: list[botocore.session.Session] = []


def _session(profile: str | None) -> botocore.session.Session:
    """The one botocore session, its config, profile and credentials forgotten (a new session
    costs 50 ms of event handlers; its loader's service data are read once this way)."""
    if not _BOTOCORE:
        _BOTOCORE.append(botocore.session.Session())
    session = _BOTOCORE[0]
    session._config = session._profile_map = session._profile = session._credentials = None
    session._session_instance_vars.pop("profile", None)
    if profile is not None:
        session.set_config_variable("profile", profile)
    return session


def botocore_key(profile: str | None) -> str:
    """The access key id botocore's credential chain gives ``profile`` (None: the default, as the
    environment picks it), with the AWS CLI's file cache of role credentials, or
    "error: <type>", or "none". One botocore session serves every call (its loader's service
    data read once): its config, profile and credentials are forgotten first."""
    import botocore.credentials
    import botocore.utils

    session = _session(profile)
    cache = botocore.utils.JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "cli", "cache")))
    try:
        credentials = botocore.credentials.create_credential_resolver(session, cache=cache).load_credentials()
        return "none" if credentials is None else credentials.get_frozen_credentials().access_key
    except Exception as error:  # noqa: BLE001 - any failure of botocore's is "botocore fails"
        return f"error: {type(error).__name__}"


def warm_key(profile: str) -> str | None:
    output = _warm.cached_process_output(profile)
    return None if output is None else output["AccessKeyId"]


def full_key(profile: str) -> str:
    try:
        return profile_credentials(AWSConfig.load(_session(profile)), profile,
                                   options=Options(allow_login=False)).get().access_key_id
    except SSOProviderError as error:  # the package's typed errors: one line, no credentials
        return f"error: {type(error).__name__}"


def check(profile: str | None, tally: Counter[str]) -> None:
    """The three readers agree on ``profile`` (None: the default profile)."""
    name = _loader.default_profile() if profile is None else profile
    expected, warm, full = botocore_key(profile), warm_key(name), full_key(name)
    assert warm is None or warm == expected, (name, expected, warm)
    assert full == expected or full.startswith("error"), (name, expected, full)
    if expected.startswith("error") or expected == "none":
        assert warm is None and full.startswith("error"), (name, expected, warm, full)
    tally["warm answered"] += warm is not None
    tally["botocore served SSO or a chain"] += expected.startswith("ASIA")
    tally["botocore failed"] += expected.startswith("error")
    tally[f"botocore: {expected if not expected.startswith('ASIA') else 'served'}"] += 1
    tally["checked"] += 1


_TALLY: Counter[str] = Counter()


def _settled(path: Path) -> None:
    """Date the file a minute back: the full path rereads a file that cannot be parsed for a
    few seconds after it changed (another tool may be writing it), which is not what is tested."""
    moment = time.time() - 60
    os.utime(path, (moment, moment))


@pytest.mark.timeout(1800)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(example=files)
def test_the_warm_path_answers_botocores_account_or_nothing(example: Files, home: Path) -> None:
    (home / ".aws" / "config").write_bytes(example.config)
    credentials_file = home / ".aws" / "credentials"
    credentials_file.unlink(missing_ok=True)
    if example.credentials is not None:
        credentials_file.write_bytes(example.credentials)
    _settled(home / ".aws" / "config")
    environ = example.environment
    saved = {name: os.environ.get(name) for name in environ}
    try:
        for name, value in environ.items():
            if value is None:
                os.environ.pop(name, None)
            elif value != "FILE":
                os.environ[name] = value
        for profile in NAMES:
            check(profile, _TALLY)
        check(None, _TALLY)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_the_differential_said_something():
    """Run after the differential (same module, file order): the grammar made profiles botocore
    serves from IAM Identity Center, profiles it refuses, and the warm path answered for many."""
    if _TALLY["checked"] < EXAMPLES * (len(NAMES) + 1):
        pytest.skip("run together with the differential test")
    print(dict(_TALLY))
    assert _TALLY["warm answered"] > 0.2 * _TALLY["botocore served SSO or a chain"] > 0
    assert _TALLY["botocore failed"] > 0.1 * _TALLY["checked"]


# -- the audit's cases, one by one ---------------------------------------------------------------

_SESSION = "[sso-session a]\nsso_start_url = https://a.awsapps.com/start\nsso_region = us-east-1\n"
_OTHER = "[profile other]\nsso_session = a\nsso_account_id = 111111111111\nsso_role_name = Admin\n"
_DEV = "sso_session = a\nsso_account_id = 222222222222\nsso_role_name = Admin\n"

AUDIT_CASES: dict[str, tuple[str, str | None]] = {
    # (config, credentials file): profile "dev" asks for 222222222222; "other" is 111111111111
    "a header with a non-breaking space": (_SESSION + _OTHER + "[profile\u00a0dev]\n" + _DEV, None),
    **{f"a header with {char!r}": (_SESSION + _OTHER + f"[profile{char}dev]\n" + _DEV, None)
       for char in ("\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u2003", "\u3000")},
    "an indented header right after another header": (
        _SESSION + _OTHER.replace("other", "dev") + "[profile other]\n\u00a0[profile  dev]\n" + _DEV,
        None),
    "a name botocore unescapes, redefining one before it": (
        _SESSION + _OTHER.replace("other", "dev") + "[profile d\\ev]\n" + _DEV, None),
    "a bare CR in the config": (
        _SESSION + _OTHER.replace("other", "dev") + "note = a\rsso_account_id = 222222222222\n", None),
    "a bare CR in the credentials file": (
        _SESSION + "[profile dev]\n" + _DEV, "[dev]\nnote = a\rsso_account_id = 111111111111\n"),
    "a [ line that is not a header": (
        _SESSION + "[profile dev]\n" + _DEV + "[note = x\nrole_arn = arn:aws:iam::333333333333:role/R1\n"
        "source_profile = other\n" + _OTHER, None),
    "mfa_serial in the credentials file": (
        _SESSION + _OTHER + "[profile dev]\nrole_arn = arn:aws:iam::333333333333:role/R1\n"
        "source_profile = other\n", "[dev]\nmfa_serial = arn:aws:iam::333333333333:mfa/m\n"),
    "external_id in the credentials file": (
        _SESSION + _OTHER + "[profile dev]\nrole_arn = arn:aws:iam::333333333333:role/R1\n"
        "source_profile = other\n", "[dev]\nexternal_id = e1\n"),
    "role_session_name and duration_seconds in the credentials file": (
        _SESSION + _OTHER + "[profile dev]\nrole_arn = arn:aws:iam::333333333333:role/R1\n"
        "source_profile = other\n", "[dev]\nrole_session_name = s1\nduration_seconds = 900\n"),
    "an empty sso_session": (
        _SESSION + "[profile dev]\nsso_session =\nsso_start_url = https://b.awsapps.com/start\n"
        "sso_region = us-east-1\nsso_account_id = 222222222222\nsso_role_name = Admin\n", None),
    "sso_registration_scopes disagreeing with the session": (
        _SESSION + "sso_registration_scopes = sso:account:access\n[profile dev]\n" + _DEV
        + "sso_registration_scopes = other\n", None),
    "a [DEFAULT] key the profile overrides": (
        "[DEFAULT]\nregion = us-east-1\n" + _SESSION + "[profile dev]\n" + _DEV + "region = eu-west-1\n",
        None),
    "web_identity_token_file beside the SSO keys": (
        _SESSION + "[profile dev]\n" + _DEV + "web_identity_token_file = /nonexistent\n", None),
}


# Where botocore serves (here: from its cache) what this package does not support, it refuses
# with one line, never another session's credentials: an MFA chain, whose code it never asks for.
REFUSED = {"mfa_serial in the credentials file": "needs an MFA code (mfa_serial)"}


@pytest.mark.parametrize("case", sorted(AUDIT_CASES))
def test_credential_process_on_each_audit_case_answers_as_botocore(case, home, monkeypatch):
    """``boto-sso-oidc credential-process --profile dev``, warm (every role cache filled, the
    memos of an earlier run on disk), gives botocore's credentials for ``dev`` or fails where
    botocore fails; the full path in-process agrees."""
    import subprocess
    import sys

    from ..cli_helpers import console_script

    config, credentials = AUDIT_CASES[case]
    (home / ".aws" / "config").write_bytes(config.encode("utf-8"))
    _settled(home / ".aws" / "config")
    if credentials is not None:
        (home / ".aws" / "credentials").write_bytes(credentials.encode("utf-8"))
    expected = botocore_key("dev")
    script = console_script()
    command = [str(script)] if script else [sys.executable, "-m", "boto_sso_oidc_provider"]
    env = {name: value for name, value in os.environ.items()}
    for _ in range(2):  # the second run reads the memo the first one wrote
        result = subprocess.run([*command, "credential-process", "--profile", "dev"], env=env,
                                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if expected.startswith("ASIA") and case in REFUSED:
            assert result.returncode == 1 and REFUSED[case] in result.stderr, (case, result.stderr)
        elif expected.startswith("ASIA"):
            assert result.returncode == 0, (case, result.stderr)
            assert json.loads(result.stdout)["AccessKeyId"] == expected, (case, result.stdout)
        else:
            assert result.returncode == 1 and result.stdout == "", (case, expected, result.stdout)
    assert warm_key("dev") in (None, expected)
    full = full_key("dev")
    assert full == expected or full.startswith("error"), (case, expected, full)
