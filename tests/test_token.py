"""The token layer against the emulator: device flow, refresh, registration, cache, errors."""

from __future__ import annotations

import io
import json
import logging
import threading
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider import _platform
from boto_sso_oidc_provider.caches.token import TokenManager
from boto_sso_oidc_provider.config.reader import AWSConfig, SSOSessionConfig
from boto_sso_oidc_provider.logins import _interaction
from boto_sso_oidc_provider.logins._interaction import LoginPrompt
from boto_sso_oidc_provider.options import Options

from .conftest import age_token, assert_owner_only, read_json, token_file


def resolve(profile: str) -> SSOSessionConfig:
    return AWSConfig.load().resolve(profile)


def _manager(**options: Any) -> TokenManager:
    return TokenManager(resolve("dev"), options=Options(**options))


def _oidc_client() -> object:
    return boto3.client("sso-oidc", region_name="us-east-1",
                        config=Config(signature_version=botocore.UNSIGNED))


class _Prompt(LoginPrompt):
    """Captures what the person would be told (a real LoginPrompt writing to a buffer)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        super().__init__(self.buffer, browser=False)
        self.shown: list[tuple[str, str]] = []

    def show(self, what: str, verification_uri_complete: str, user_code: str) -> None:
        self.shown.append((verification_uri_complete, user_code))
        super().show(what, verification_uri_complete, user_code)


# -- the device authorization flow ------------------------------------------------------------


@pytest.mark.sso_emulator(auto_approve=False)
def test_device_flow_pending_then_approved_by_a_person(sso_emulator, capsys):
    prompt = _Prompt()
    polls: list[float] = []

    def approve_after_two_polls(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:
            (code,) = sso_emulator.pending()
            assert code == prompt.shown[0][1]
            sso_emulator.approve(code)

    token = _manager(prompt=prompt, sleep=approve_after_two_polls).login()

    calls = sso_emulator.calls()
    assert calls["grants"]["urn:ietf:params:oauth:grant-type:device_code"] == 3  # 2 pending + 1
    url, code = prompt.shown[0]
    assert url.startswith(sso_emulator.url) and code in url
    assert code in prompt.buffer.getvalue() and url in prompt.buffer.getvalue()
    assert capsys.readouterr().out == ""  # nothing for a person ever goes to stdout
    cached = read_json(token_file(sso_emulator.home, "emulator"))
    assert cached["accessToken"] == token.access_token
    assert cached["refreshToken"] == token.refresh_token
    assert cached["startUrl"] == sso_emulator.start_url and cached["region"] == "us-east-1"
    assert cached["expiresAt"].endswith("Z")


@pytest.mark.sso_emulator(auto_approve=False)
def test_device_flow_denied(sso_emulator):
    def deny(_: float) -> None:
        for code in sso_emulator.pending():
            sso_emulator.deny(code)

    with pytest.raises(sso.DeviceAuthorizationDeniedError, match='sso-session "emulator"'):
        _manager(sleep=deny, prompt=_Prompt()).login()
    assert not token_file(sso_emulator.home, "emulator").exists()


@pytest.mark.sso_emulator(auto_approve=False)
def test_device_code_expired_at_the_service(sso_emulator):
    with pytest.raises(sso.DeviceAuthorizationExpiredError, match="expired"):
        _manager(sleep=lambda _: sso_emulator.expire("device_codes"), prompt=_Prompt()).login()


@pytest.mark.sso_emulator(auto_approve=False)
def test_device_code_lifetime_over_on_the_client(sso_emulator):
    from boto_sso_oidc_provider.logins.device_authorization import run_device_flow
    from boto_sso_oidc_provider.logins.registration import get_registration

    client = _oidc_client()
    registration = get_registration(client, resolve("dev"))
    now = [1000.0]

    def sleep(seconds: float) -> None:
        now[0] += 601  # the emulator's device code lives 600 s; nobody approves meanwhile

    with pytest.raises(sso.DeviceAuthorizationExpiredError, match="within 600s"):
        run_device_flow(client, registration, sso_emulator.start_url, what="test",
                        prompt=_Prompt(), sleep=sleep, monotonic=lambda: now[0])
    assert sso_emulator.calls()["grants"]["urn:ietf:params:oauth:grant-type:device_code"] == 1


def test_slow_down_adds_five_seconds_to_the_interval(sso_emulator):
    sso_emulator.fault("CreateToken", error="SlowDownException", count=2)
    sleeps: list[float] = []
    _manager(sleep=sleeps.append, prompt=_Prompt()).login()
    # interval 0, then slow_down, slow_down, pending (auto-approve answers the first real poll
    # pending), token: the interval grew by 5 s twice and stayed there.
    assert sleeps == [5, 10, 10]


def test_ctrl_c_cancels_and_leaves_the_cache_as_it_was(sso_emulator):
    sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    before = path.read_bytes()

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(sso.LoginCancelledError, match="left as it was"):
        _manager(sleep=interrupt, prompt=_Prompt()).login()
    assert path.read_bytes() == before


# -- refresh ---------------------------------------------------------------------------------


def test_refresh_rotates_the_refresh_token(sso_emulator):
    first = sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    age_token(path)
    calls_before = sso_emulator.calls()

    second = sso.load_token("dev", allow_login=False)

    calls = sso_emulator.calls()
    assert calls["grants"].get("refresh_token", 0) == 1 + calls_before["grants"].get("refresh_token", 0)
    started = "StartDeviceAuthorization"
    assert calls["operations"][started] == calls_before["operations"][started]
    assert second.access_token != first.access_token
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert read_json(path)["refreshToken"] == second.refresh_token
    # The service rotated it: the old refresh token is now refused.
    client = _oidc_client()
    with pytest.raises(client.exceptions.InvalidGrantException):
        client.create_token(grantType="refresh_token", clientId=first.client_id,
                            clientSecret=first.client_secret, refreshToken=first.refresh_token)


def test_a_fresh_token_is_used_without_any_call(sso_emulator):
    token = sso.login("dev")
    before = sso_emulator.calls()
    assert sso.load_token("dev", allow_login=False).access_token == token.access_token
    assert sso_emulator.calls() == before


def test_unknown_fields_are_preserved_through_refresh(sso_emulator):
    sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    data = age_token(path)
    data["someFutureField"] = {"kept": True}
    path.write_text(json.dumps(data))
    sso.load_token("dev", allow_login=False)
    assert read_json(path)["someFutureField"] == {"kept": True}


def test_rejected_refresh_token_without_login_raises_naming_the_command(sso_emulator):
    sso.login("dev")
    age_token(token_file(sso_emulator.home, "emulator"))
    sso_emulator.expire("refresh_tokens")
    with pytest.raises(sso.SSOLoginRequiredError) as caught:
        sso.load_token("dev", allow_login=False)
    assert caught.value.command == "boto-sso-oidc login --profile dev"
    assert "boto-sso-oidc login --profile dev" in str(caught.value)
    # The dead refresh token is forgotten, so the next call does not try it again.
    assert "refreshToken" not in read_json(token_file(sso_emulator.home, "emulator"))


def test_rejected_refresh_token_falls_back_to_login_when_allowed(sso_emulator):
    sso.login("dev")
    age_token(token_file(sso_emulator.home, "emulator"))
    sso_emulator.expire("refresh_tokens")
    before = sso_emulator.calls()["operations"]["StartDeviceAuthorization"]
    token = _manager(allow_login=True, prompt=_Prompt()).get()
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == before + 1
    assert token.seconds_left() > 3000


def test_expired_registration_gets_a_new_registration(sso_emulator):
    sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    data = age_token(path)
    data["registrationExpiresAt"] = "2000-01-01T00:00:00Z"
    path.write_text(json.dumps(data))
    reg_path = path.parent / f"{resolve('dev').registration_cache_key}.json"
    registration = read_json(reg_path)
    registration["expiresAt"] = "2000-01-01T00:00:00Z"
    reg_path.write_text(json.dumps(registration))
    before = sso_emulator.calls()["operations"]

    token = _manager(allow_login=True, prompt=_Prompt()).get()

    after = sso_emulator.calls()
    assert after["operations"]["RegisterClient"] == before["RegisterClient"] + 1
    assert after["grants"].get("refresh_token", 0) == 0  # botocore's rule: no refresh past registration
    assert token.client_id == read_json(reg_path)["clientId"] != registration["clientId"]


def test_registration_revoked_at_the_service_is_replaced_once(sso_emulator):
    sso.login("dev")
    age_token(token_file(sso_emulator.home, "emulator"))
    sso_emulator.expire("registrations")
    before = sso_emulator.calls()["operations"]["RegisterClient"]
    token = _manager(allow_login=True, prompt=_Prompt()).get()
    assert sso_emulator.calls()["operations"]["RegisterClient"] == before + 1
    assert token.seconds_left() > 3000


def test_transient_failure_keeps_a_still_valid_token(sso_emulator, caplog):
    first = sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    age_token(path, expires_at=_in_minutes(5))  # inside the refresh window, not expired
    sso_emulator.fault("CreateToken", error="InternalServerException", count=10)
    with caplog.at_level(logging.WARNING):
        token = sso.load_token("dev", allow_login=False)
    assert token.access_token == first.access_token
    assert "using the current token" in caplog.text


def test_transient_failure_with_an_expired_token_is_a_typed_error(sso_emulator):
    sso.login("dev")
    age_token(token_file(sso_emulator.home, "emulator"))
    sso_emulator.fault("CreateToken", error="InternalServerException", count=10)
    with pytest.raises(sso.SSOProviderError, match="Try again later"):
        sso.load_token("dev", allow_login=False)


def _in_minutes(minutes: int) -> str:
    import datetime as dt

    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the cache file --------------------------------------------------------------------------


def test_cache_files_are_private(sso_emulator):
    sso.login("dev")
    path = token_file(sso_emulator.home, "emulator")
    assert_owner_only(path)
    assert_owner_only(path.parent)
    lock = path.with_name(path.name + ".lock")
    assert not lock.exists()  # removed by its holder: no empty lock file left in ~/.aws
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", '{"accessToken": 5}',
                                     '{"accessToken": "x", "expiresAt": "soon"}', "\x00\x01"])
def test_corrupt_cache_is_a_warning_and_a_fresh_start(sso_emulator, caplog, content):
    path = token_file(sso_emulator.home, "emulator")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    with caplog.at_level(logging.WARNING):
        with pytest.raises(sso.SSOLoginRequiredError):
            sso.load_token("dev", allow_login=False)
        token = _manager(allow_login=True, prompt=_Prompt()).get()
    assert "Ignoring the SSO token" in caplog.text and str(path) in caplog.text
    assert read_json(path)["accessToken"] == token.access_token


def test_lock_wait_is_bounded(sso_emulator):
    import filelock

    manager = _manager(lock_timeout=0.3)
    holder = filelock.FileLock(str(manager.entry.lock_path), thread_local=False)
    manager.entry.path.parent.mkdir(parents=True, exist_ok=True)
    ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder:
            ready.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        ready.wait(5)
        with pytest.raises(sso.CacheLockTimeoutError, match="boto_sso_oidc_lock_timeout") as caught:
            manager.get()
        assert caught.value.lock_path == str(manager.entry.lock_path)
    finally:
        release.set()
        thread.join()


# -- compatibility with botocore and the AWS CLI v2 -------------------------------------------


def test_botocore_reads_the_token_this_package_wrote(sso_emulator):
    token = sso.login("dev")
    from botocore.tokens import SSOTokenProvider

    provider = SSOTokenProvider(botocore.session.Session(profile="dev"), profile_name="dev")
    # botocore computes its cache directory at import time; point it at this test's HOME.
    from botocore.utils import JSONFileCache

    provider._cache = JSONFileCache(str(sso_emulator.home / ".aws" / "sso" / "cache"))
    from botocore.utils import SSOTokenLoader

    provider._token_loader = SSOTokenLoader(cache=provider._cache)
    assert provider.load_token().get_frozen_token().token == token.access_token


def test_plain_boto3_without_this_package_uses_our_cache(sso_emulator):
    from .conftest import run_python, subprocess_env

    sso.login("dev")
    result = run_python(
        """
        import sys, boto3
        arn = boto3.Session(profile_name="dev").client("sts").get_caller_identity()["Arn"]
        # The startup hook is switched off: nothing of the package was imported.
        assert not [m for m in sys.modules if m.startswith("boto_sso_oidc_provider")]
        print(arn)
        """,
        subprocess_env(sso_emulator, BOTO_SSO_OIDC_ENABLED="false"),
    )
    expected = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"
    assert result.stdout.strip().startswith(expected)


def test_a_cache_written_by_the_aws_cli_v2_is_used_without_a_new_login(sso_emulator):
    # Do what `aws sso login` does, with plain botocore, and write its files the way it does.
    client = _oidc_client()
    registration = client.register_client(clientName="botocore-client-emulator", clientType="public",
                                          scopes=["sso:account:access"])
    device = client.start_device_authorization(clientId=registration["clientId"],
                                               clientSecret=registration["clientSecret"],
                                               startUrl=sso_emulator.start_url)
    sso_emulator.approve(device["userCode"])
    created = client.create_token(clientId=registration["clientId"],
                                  clientSecret=registration["clientSecret"],
                                  grantType="urn:ietf:params:oauth:grant-type:device_code",
                                  deviceCode=device["deviceCode"])
    import datetime as dt

    reg_expiry = dt.datetime.fromtimestamp(registration["clientSecretExpiresAt"], dt.timezone.utc)
    cache_dir = sso_emulator.home / ".aws" / "sso" / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    cli_token = {
        "startUrl": sso_emulator.start_url, "region": "us-east-1",
        "accessToken": created["accessToken"], "expiresAt": _in_minutes(60),
        "clientId": registration["clientId"], "clientSecret": registration["clientSecret"],
        "registrationExpiresAt": reg_expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "refreshToken": created["refreshToken"],
    }
    token_file(sso_emulator.home, "emulator").write_text(json.dumps(cli_token))
    (cache_dir / f"{resolve('dev').registration_cache_key}.json").write_text(json.dumps({
        "clientId": registration["clientId"], "clientSecret": registration["clientSecret"],
        "expiresAt": cli_token["registrationExpiresAt"], "scopes": ["sso:account:access"]}))
    before = sso_emulator.calls()

    assert sso.load_token("dev", allow_login=False).access_token == created["accessToken"]
    assert sso_emulator.calls() == before

    age_token(token_file(sso_emulator.home, "emulator"))
    refreshed = sso.load_token("dev", allow_login=False)
    after = sso_emulator.calls()
    assert after["grants"].get("refresh_token", 0) == 1
    assert after["operations"]["RegisterClient"] == before["operations"]["RegisterClient"]
    assert after["operations"]["StartDeviceAuthorization"] == before["operations"]["StartDeviceAuthorization"]
    assert refreshed.client_id == registration["clientId"]


def test_registration_cache_key_matches_the_aws_cli_v2():
    import hashlib

    sso_config = AWSConfig({
        "profiles": {"dev": {"sso_session": "s"}},
        "sso_sessions": {"s": {"sso_start_url": "https://x.awsapps.com/start", "sso_region": "eu-west-1",
                               "sso_registration_scopes": "sso:account:access, ,openid"}}}).resolve("dev")
    expected = hashlib.sha1(json.dumps({
        "tool": "botocore", "startUrl": "https://x.awsapps.com/start", "region": "eu-west-1",
        "scopes": ["sso:account:access", "openid"], "session_name": "s"},
        sort_keys=True).encode()).hexdigest()
    assert sso_config.registration_cache_key == expected


def test_legacy_profile_logs_in_and_is_keyed_by_start_url(sso_emulator):
    sso_emulator.write_config(
        "[profile legacy]\n"
        f"sso_start_url = {sso_emulator.start_url}\n"
        "sso_region = us-east-1\n"
        "sso_account_id = 111111111111\n"
        "sso_role_name = ReadOnlyAccess\n",
        append=True,
    )
    token = TokenManager(resolve("legacy"), options=Options(prompt=_Prompt())).login()
    cached = read_json(token_file(sso_emulator.home, sso_emulator.start_url))
    assert cached["accessToken"] == token.access_token
    assert "refreshToken" not in cached  # as in botocore: no refresh for legacy profiles


# -- when a login may start ------------------------------------------------------------------


def test_ci_means_nobody_can_answer(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert _interaction.person_can_answer() is False
    assert _interaction.login_allowed("auto") is False
    assert _interaction.login_allowed("true") is True


def test_auto_login_disabled_by_config_key(sso_emulator, monkeypatch):
    from boto_sso_oidc_provider.emulator._fixture import DEFAULT_CONFIG

    sso_emulator.write_config(DEFAULT_CONFIG.replace(
        "sso_registration_scopes", "sso_auto_login = false\nsso_registration_scopes"))
    monkeypatch.setattr(_interaction, "_terminal_reachable", lambda: True)  # a person is there...
    with pytest.raises(sso.SSOLoginRequiredError, match="boto_sso_oidc_auto_login"):
        sso.load_token("dev")  # ...but the profile says no


def test_auto_login_disabled_by_environment(sso_emulator, monkeypatch):
    monkeypatch.setattr(_interaction, "_terminal_reachable", lambda: True)
    monkeypatch.setenv("BOTO_SSO_OIDC_AUTO_LOGIN", "false")
    with pytest.raises(sso.SSOLoginRequiredError):
        sso.load_token("dev")


def test_automatic_login_with_a_person_present(sso_emulator, monkeypatch):
    monkeypatch.setattr(_interaction, "_terminal_reachable", lambda: True)
    token = sso.load_token("dev")
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 1
    assert token.seconds_left() > 3000


def test_no_terminal_never_hangs(sso_emulator):
    from .conftest import run_python, subprocess_env

    result = run_python(
        "import boto_sso_oidc_provider as p; p.load_token('dev')",
        subprocess_env(sso_emulator), check=False, timeout=30,
    )
    assert result.returncode == 1
    assert "SSOLoginRequiredError" in result.stderr
    assert "boto-sso-oidc login --profile dev" in result.stderr
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 0


def test_open_browser_only_for_http_urls_with_a_display(monkeypatch):
    opened: list[str] = []
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", lambda url, new=0: opened.append(url) or True)
    monkeypatch.setattr(_interaction.sys, "platform", "linux")
    display = {"DISPLAY": ":0"}
    assert _interaction.open_browser("javascript:alert(1)", display) is False
    assert _interaction.open_browser("file:///etc/passwd", display) is False
    assert _interaction.open_browser("https://device.example/?user_code=A", {}) is False
    assert _interaction.open_browser("https://device.example/?user_code=A", display) is True
    assert opened == ["https://device.example/?user_code=A"]


# -- configuration errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "profile", "message", "key"),
    [
        ("[profile dev]\nsso_session = nope\n", "dev",
         'sso-session "nope" (used by profile "dev") is not defined', "sso_session"),
        ("[profile dev]\nsso_session = s\n[sso-session s]\nsso_start_url = https://a/start\n", "dev",
         "missing sso_region", "sso_region"),
        ("[profile dev]\nsso_session = s\nsso_region = eu-west-1\n[sso-session s]\n"
         "sso_start_url = https://a/start\nsso_region = us-east-1\n", "dev", "sso_region", "sso_region"),
        ("[profile dev]\nsso_start_url = https://a/start\n", "dev", "missing sso_region", "sso_region"),
        ("[profile dev]\nsso_session = s\n[sso-session s]\nsso_start_url = a.awsapps.com\n"
         "sso_region = us-east-1\n", "dev", "https://", "sso_start_url"),
        ("[profile dev]\nregion = us-east-1\n", "dev", "no IAM Identity Center settings", "sso_session"),
        ("[profile dev]\nsso_session = s\n[sso-session s]\nsso_start_url = https://a/start\n"
         "sso_region = us-east-1\nsso_auto_login = maybe\n", "dev", "sso_auto_login must be",
         "sso_auto_login"),
        ("[profile other]\n", "dev", 'Profile "dev" is not defined', None),
    ],
)
def test_configuration_mistakes_name_the_profile_and_key(sso_emulator, config, profile, message, key):
    sso_emulator.config_file.write_text(config)
    with pytest.raises(sso.SSOConfigError) as caught:
        sso.load_token(profile, allow_login=False)
    assert message in str(caught.value)
    assert caught.value.key == key
    # botocore's own credential errors catch it too.
    from botocore.exceptions import InvalidConfigError

    assert isinstance(caught.value, InvalidConfigError)


def test_importing_the_package_does_not_import_botocore(sso_emulator):
    from .conftest import run_python, subprocess_env

    result = run_python(
        "import sys, boto_sso_oidc_provider as p; p.__version__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))",
        subprocess_env(sso_emulator),
    )
    assert result.stdout.strip() == "[]"


def test_token_repr_and_errors_never_show_secrets(sso_emulator):
    token = sso.login("dev")
    text = repr(token) + str(token)
    for secret in (token.access_token, token.refresh_token, token.client_secret):
        assert secret and secret not in text


def test_a_rejected_token_that_cannot_be_renewed_is_marked_expired(sso_emulator):
    first = sso.login("dev")
    sso_emulator.expire("refresh_tokens")  # the session ended: no refresh possible
    manager = _manager(allow_login=False)
    with pytest.raises(sso.SSOLoginRequiredError, match="rejected"):
        manager.get(rejected_access_token=first.access_token)
    cached = manager.cached()
    assert cached is not None and cached.seconds_left() <= 0
    # Later callers go straight to the advice, without presenting the revoked token again.
    before = sso_emulator.calls()
    with pytest.raises(sso.SSOLoginRequiredError):
        _manager(allow_login=False).get()
    assert sso_emulator.calls()["operations"] == before["operations"]


@pytest.mark.sso_emulator(auto_approve=False)
def test_progress_is_shown_while_waiting_only_at_a_terminal(sso_emulator):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def approve_on_third_poll(_: float) -> None:
        if len(polls) == 2:
            sso_emulator.approve(sso_emulator.pending()[0])
        polls.append(1)

    for stream, expect_progress in ((Terminal(), True), (io.StringIO(), False)):
        polls: list[int] = []
        prompt = LoginPrompt(stream, browser=False)
        _manager(prompt=prompt, sleep=approve_on_third_poll).login()
        text = stream.getvalue()
        # The line is erased first: VT's erase, or blanks where no console reads it (Windows).
        erase = _platform.erase_line(stream)
        assert erase in ("\r\x1b[K", "\r" + " " * 79 + "\r")
        assert (f"{erase}Waiting for approval... " in text) is expect_progress
        assert text.rstrip().endswith('Logged in to sso-session "emulator".')
