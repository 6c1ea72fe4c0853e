"""The config's two readers agree: the warm path's scan (``config._scan``) and botocore's parse.

Whenever the scan answers, it must give what botocore's loader and ``SSOCredentialFetcher``
would; whenever in doubt it must answer None (the full path then decides).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from boto_sso_oidc_provider.config import _scan
from boto_sso_oidc_provider.config.reader import AWSConfig, SSOProfileConfig
from boto_sso_oidc_provider.credentials import _warm
from boto_sso_oidc_provider.credentials.role_credentials import role_cache_key
from boto_sso_oidc_provider.exceptions import SSOConfigError

from ..conftest import set_home

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
    set_home(monkeypatch, tmp_path)
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
    warm = _scan.read_profile(profile)
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
    assert _scan.read_profile(profile) is not None


@pytest.mark.parametrize("name", ["disagreeing keys", "unknown session", "no role", "not sso",
                                  "duplicate section", "broken syntax"])
def test_reader_declines_what_is_not_plain(name, tmp_path, monkeypatch):
    _write(tmp_path, CONFIGS[name], monkeypatch)
    assert _scan.read_profile("dev") is None


def test_sso_keys_in_the_credentials_file_send_to_the_full_path(tmp_path, monkeypatch):
    _write(tmp_path, CONFIGS["session"], monkeypatch)
    assert _scan.read_profile("dev") is not None
    (tmp_path / "credentials").write_text("[dev]\nsso_role_name = Other\n")
    assert _scan.read_profile("dev") is None
    (tmp_path / "credentials").write_text("[dev]\naws_access_key_id = x\n")
    assert _scan.read_profile("dev") is not None


def test_config_file_follows_the_environment(tmp_path, monkeypatch):
    set_home(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    assert _scan.config_file() == str(tmp_path / ".aws" / "config")
    monkeypatch.setenv("AWS_CONFIG_FILE", "~/elsewhere")
    assert _scan.config_file() == str(tmp_path / "elsewhere")
    monkeypatch.setenv("AWS_PROFILE", "p")
    assert _scan.default_profile() == "p"
    monkeypatch.delenv("AWS_PROFILE")
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "q")
    assert _scan.default_profile() == "q"


