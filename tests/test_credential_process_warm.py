"""The warm path's answers (``credentials._warm``) are the full path's, in-process.

The cache key is botocore's, the output the full path's, and anything unusual in a cache file
sends the caller to the full path. (That the config's fast reader agrees with botocore is
``tests/config/``'s.)
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import botocore.credentials
import pytest

from boto_sso_oidc_provider._clock import format_timestamp, utc_now
from boto_sso_oidc_provider.caches import _layout
from boto_sso_oidc_provider.config._resolved import resolve
from boto_sso_oidc_provider.credentials import _warm
from boto_sso_oidc_provider.credentials.role_credentials import RoleCredentials

from .conftest import set_home

SESSION = """\
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
"""
CONFIG = SESSION + "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n"


def _write(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config"
    path.write_text(text)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    set_home(monkeypatch, tmp_path)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return path


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
    _write(tmp_path, CONFIG, monkeypatch)
    assert _warm.cached_process_output("dev") is None
    resolution = resolve("dev")
    assert resolution is not None
    path = Path(_warm.cache_file(resolution))
    path.parent.mkdir(parents=True)
    path.write_text("{")
    assert _warm.cached_process_output("dev") is None
    path.write_text(json.dumps(_cache(format_timestamp(utc_now() + dt.timedelta(hours=1)))))
    assert _warm.cached_process_output("dev")["AccessKeyId"] == "ASIAEXAMPLE"

