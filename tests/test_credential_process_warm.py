"""The warm path's reader (``_warm``) agrees with botocore and the full path, in-process.

Whenever the reader answers, it must give what botocore's loader and
``SSOCredentialFetcher`` would; whenever in doubt it must answer None (the
full path then decides).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import botocore.credentials
import pytest

from boto_sso_oidc_provider import _layout, _warm
from boto_sso_oidc_provider._clock import format_timestamp, utc_now
from boto_sso_oidc_provider.config import AWSConfig, SSOProfileConfig
from boto_sso_oidc_provider.exceptions import SSOConfigError
from boto_sso_oidc_provider.role_credentials import RoleCredentials, role_cache_key

SESSION = """\
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
"""

CONFIGS = {
    "session": SESSION + "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n",
    "default section": SESSION + "[default]\nsso_session = corp\nsso_account_id = 2\nsso_role_name = R\n",
    "profile default wins when later": SESSION + "[default]\nsso_session = corp\nsso_account_id = 2\n"
    "sso_role_name = R\n[profile default]\nsso_session = corp\nsso_account_id = 3\nsso_role_name = R\n",
    "quoted name": SESSION + '[profile "dev"]\nsso_session = corp\nsso_account_id = 4\nsso_role_name = R\n',
    "legacy": "[profile dev]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-1\n"
    "sso_account_id = 5\nsso_role_name = R\n",
    "agreeing keys on the profile": SESSION + "[profile dev]\nsso_session = corp\n"
    "sso_region = eu-west-1\nsso_account_id = 6\nsso_role_name = R\n",
    "disagreeing keys": SESSION + "[profile dev]\nsso_session = corp\nsso_region = us-east-1\n"
    "sso_account_id = 7\nsso_role_name = R\n",
    "unknown session": "[profile dev]\nsso_session = nope\nsso_account_id = 8\nsso_role_name = R\n",
    "no role": SESSION + "[profile dev]\nsso_session = corp\nsso_account_id = 9\n",
    "not sso": "[profile dev]\nregion = us-east-1\ncredential_process = echo {}\n",
    "duplicate section": SESSION + "[profile dev]\nsso_session = corp\n[profile dev]\nregion = x\n",
    "broken syntax": "profile dev]\nsso_session = corp\n",
    "comments and spacing": "# comment\n" + SESSION + "[profile dev]  \n  ; note\nsso_session=corp\n"
    "sso_account_id   =   10\nsso_role_name=R\n",
}


def _write(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config"
    path.write_text(text)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return path


def _full_path(profile: str) -> SSOProfileConfig | None:
    try:
        return AWSConfig.load().role_profile(profile)
    except SSOConfigError:
        return None


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("profile", ["dev", "default"])
def test_reader_agrees_with_botocore_or_declines(name, profile, tmp_path, monkeypatch):
    _write(tmp_path, CONFIGS[name], monkeypatch)
    warm = _warm.read_profile(profile)
    full = _full_path(profile)
    if warm is None:
        return  # declining is always safe: the full path decides
    assert full is not None, f"{name}: the reader answered where botocore's loader refuses"
    assert (warm.account_id, warm.role_name) == (full.account_id, full.role_name)
    assert warm.sso_session == full.sso.name
    assert _warm.role_cache_file(warm).endswith(
        role_cache_key(full.sso, full.account_id, full.role_name) + ".json")


@pytest.mark.parametrize("name", ["session", "default section", "quoted name", "legacy",
                                  "agreeing keys on the profile", "comments and spacing"])
def test_reader_answers_for_plain_profiles(name, tmp_path, monkeypatch):
    _write(tmp_path, CONFIGS[name], monkeypatch)
    profile = "default" if name == "default section" else "dev"
    assert _warm.read_profile(profile) is not None


@pytest.mark.parametrize("name", ["disagreeing keys", "unknown session", "no role", "not sso",
                                  "duplicate section", "broken syntax"])
def test_reader_declines_what_is_not_plain(name, tmp_path, monkeypatch):
    _write(tmp_path, CONFIGS[name], monkeypatch)
    assert _warm.read_profile("dev") is None


def test_sso_keys_in_the_credentials_file_send_to_the_full_path(tmp_path, monkeypatch):
    _write(tmp_path, CONFIGS["session"], monkeypatch)
    assert _warm.read_profile("dev") is not None
    (tmp_path / "credentials").write_text("[dev]\nsso_role_name = Other\n")
    assert _warm.read_profile("dev") is None
    (tmp_path / "credentials").write_text("[dev]\naws_access_key_id = x\n")
    assert _warm.read_profile("dev") is not None


def test_config_file_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    assert _warm.config_file() == str(tmp_path / ".aws" / "config")
    monkeypatch.setenv("AWS_CONFIG_FILE", "~/elsewhere")
    assert _warm.config_file() == str(tmp_path / "elsewhere")
    monkeypatch.setenv("AWS_PROFILE", "p")
    assert _warm.default_profile() == "p"
    monkeypatch.delenv("AWS_PROFILE")
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "q")
    assert _warm.default_profile() == "q"


@pytest.mark.parametrize("session_name, start_url", [
    ("corp", None), (None, "https://legacy.awsapps.com/start"), ("with space/and:colon", None),
])
def test_cache_key_is_botocores(session_name, start_url):
    fetcher = botocore.credentials.SSOCredentialFetcher(
        start_url=start_url or "https://x.awsapps.com/start", sso_region="us-east-1",
        role_name="AdministratorAccess", account_id="123456789012", client_creator=None,
        sso_session_name=session_name,
    )
    ours = _layout.role_cache_key("123456789012", "AdministratorAccess",
                                  sso_session=session_name, start_url=start_url)
    assert ours == fetcher._create_cache_key()


def _cache(expiration: str, **extra: str) -> dict:
    return {"ProviderType": "sso", "Credentials": {
        "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret", "SessionToken": "token",
        "Expiration": expiration, **extra}}


def test_output_is_the_full_paths_output():
    expiration = format_timestamp(utc_now() + dt.timedelta(hours=1))
    for data in (_cache(expiration, AccountId="111111111111"), _cache(expiration)):
        full = RoleCredentials.from_cache(data)
        assert full is not None
        assert _warm._process_output(data, window=900) == full.to_process_output()


@pytest.mark.parametrize("suffix", ["Z", "UTC", "+00:00", ".123456Z"])
def test_expiration_formats_other_writers_use(suffix):
    moment = (utc_now() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    output = _warm._process_output(_cache(moment + suffix), window=900)
    assert output is not None and output["Expiration"] == moment + "Z"


@pytest.mark.parametrize("data", [
    _cache(format_timestamp(utc_now() + dt.timedelta(minutes=14))),  # inside the refresh window
    _cache(format_timestamp(utc_now() - dt.timedelta(minutes=1))),
    _cache("tomorrow"),
    {"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "", "SessionToken": "t",
                     "Expiration": "2999-01-01T00:00:00Z"}},
    {"Credentials": "nope"},
    ["not", "an", "object"],
])
def test_anything_unusual_declines(data):
    assert _warm._process_output(data, window=900) is None


def test_missing_or_corrupt_cache_file_declines(tmp_path, monkeypatch):
    _write(tmp_path, CONFIGS["session"], monkeypatch)
    assert _warm.cached_process_output("dev") is None
    settings = _warm.read_profile("dev")
    assert settings is not None
    path = Path(_warm.role_cache_file(settings))
    path.parent.mkdir(parents=True)
    path.write_text("{")
    assert _warm.cached_process_output("dev") is None
    path.write_text(json.dumps(_cache(format_timestamp(utc_now() + dt.timedelta(hours=1)))))
    assert _warm.cached_process_output("dev")["AccessKeyId"] == "ASIAEXAMPLE"

