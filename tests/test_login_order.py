"""One registration cache and one token cache, two tools, every order of logins.

The AWS CLI v2 (2.36, modelled in :mod:`tests.aws_cli_v2` from its sources)
and this package log in to the same sso-session with either flow, in every
order. After each login both tools must get a token without a second login:
this package refreshes, and botocore's own ``SSOTokenProvider`` (what the AWS
CLI v2 and boto3 refresh with) does too.
"""

from __future__ import annotations

import datetime as _dt
import io
import itertools
import threading
import urllib.request

import pytest

from boto_sso_oidc_provider._clients import SessionClients
from boto_sso_oidc_provider.caches.token import TokenManager
from boto_sso_oidc_provider.config.reader import AWSConfig
from boto_sso_oidc_provider.logins._interaction import LoginPrompt
from boto_sso_oidc_provider.options import Options

from .aws_cli_v2 import AwsCliV2
from .browser_helpers import read_json, registration_file
from .conftest import age_token, token_file

LOGINS = ("cli-browser", "cli-device", "package-browser", "package-device")
REFRESH_GRANT = "refresh_token"


def _soon() -> str:
    """An expiry inside both tools' 15-minute refresh window, but not past."""
    moment = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(minutes=2)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _PersonWithABrowser(LoginPrompt):
    """Visits the authorize URL as the browser would (the emulator approves at once, and
    the redirect lands on the package's loopback listener), on a thread of this process."""

    def show_authorization(self, what: str, authorize_url: str) -> None:
        super().show_authorization(what, authorize_url)
        threading.Thread(target=lambda: urllib.request.urlopen(authorize_url, timeout=60).read(),
                         daemon=True).start()


class _Tools:
    def __init__(self, emulator, monkeypatch) -> None:
        self.emulator = emulator
        self.cli = AwsCliV2(emulator.home, "emulator", emulator.start_url, emulator.region,
                            ["sso:account:access"])
        # A browser could be opened here (so the package picks the browser flow by default).
        monkeypatch.setenv("BROWSER", "/bin/true")
        self.token_path = token_file(emulator.home, "emulator")
        assert self.cli.token_path == self.token_path
        assert self.cli.registration_path == registration_file(emulator.home)
        self.sso = AWSConfig.load().sso_of_profile("dev")
        self.client_factory = SessionClients()  # one client per service, made once

    def manager(self, **options) -> TokenManager:
        return TokenManager(self.sso, options=Options(
            prompt=_PersonWithABrowser(io.StringIO(), browser=False),
            client_factory=self.client_factory, **options))

    def login(self, who: str) -> None:
        if who == "cli-browser":
            self.cli.login_browser()
        elif who == "cli-device":
            self.cli.login_device()
        else:
            manager = self.manager(use_device_code=who == "package-device")
            assert manager.uses_browser_flow() == (who == "package-browser")
            manager.login()

    def refreshes(self) -> int:
        return self.emulator.calls()["grants"][REFRESH_GRANT]

    def package_refresh(self) -> None:
        before, old = self.refreshes(), age_token(self.token_path, expires_at=_soon())
        token = self.manager(allow_login=False).get()
        assert token.access_token != old["accessToken"] and self.refreshes() == before + 1

    def cli_refresh(self) -> None:
        before, old = self.refreshes(), age_token(self.token_path, expires_at=_soon())
        assert self.cli.refresh("dev") != old["accessToken"] and self.refreshes() == before + 1


@pytest.mark.parametrize("order", list(itertools.permutations(LOGINS)), ids="/".join)
def test_every_login_order_works_with_both_tools(sso_emulator, monkeypatch, order):
    """AWS CLI v2 2.36 and this package, each flow, in this order; refreshes in between."""
    tools = _Tools(sso_emulator, monkeypatch)
    for who in order:
        tools.login(who)
        registration = read_json(registration_file(sso_emulator.home))
        browser = who.endswith("browser")
        assert ("authorization_code" in registration.get("grantTypes", [])) == browser, who
        assert read_json(tools.token_path)["clientId"] == registration["clientId"]
        # Neither tool needs another login: each refreshes with the token's own client,
        # also once the other has re-registered.
        tools.package_refresh()
        tools.cli_refresh()
    logins = sso_emulator.calls()["grants"]
    assert logins["authorization_code"] == 2


def test_a_refresh_outlives_the_other_flow_re_registering(sso_emulator, monkeypatch):
    """The token keeps the client that issued its refresh token: the CLI's device login
    replaces the registration entry, and this package's browser-flow token still refreshes."""
    tools = _Tools(sso_emulator, monkeypatch)
    tools.login("package-browser")
    issued_by = read_json(tools.token_path)["clientId"]
    tools.cli._registration(browser=False)  # what `aws sso login --use-device-code` does first
    assert read_json(registration_file(sso_emulator.home))["clientId"] != issued_by
    tools.package_refresh()
    assert read_json(tools.token_path)["clientId"] == issued_by
