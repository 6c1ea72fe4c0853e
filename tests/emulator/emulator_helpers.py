"""Helpers for the emulator's own tests: real botocore clients over real HTTP.

Kept out of ``conftest.py`` so tests can import them by a name no other
directory uses.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import botocore
import botocore.session
import pytest
from botocore.config import Config

from boto_sso_oidc_provider.emulator import EmulatorControl

REGION = "us-east-1"
START_URL = "https://emulator.awsapps.com/start"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
UNSIGNED = Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1})


# A fresh session per client (each test has its own environment and config
# file) sharing one loader, whose cache of service models makes clients cheap.
_LOADER = botocore.session.get_session().get_component("data_loader")


def client(url: str, service: str, **kwargs: Any) -> Any:
    """A botocore client for ``service`` at the emulator; unsigned unless keys are given."""
    if "aws_access_key_id" not in kwargs:
        kwargs.setdefault("config", UNSIGNED)
    else:
        kwargs.setdefault("config", Config(retries={"total_max_attempts": 1}))
    kwargs.setdefault("region_name", REGION)
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session.create_client(service, endpoint_url=url, **kwargs)


@dataclass
class Login:
    """A registered client and the tokens of one completed device-flow login."""

    client_id: str
    client_secret: str
    access_token: str
    refresh_token: str | None
    response: dict[str, Any]


class Clients:
    """The three services of one emulator, plus the flows tests repeat."""

    def __init__(self, emulator: EmulatorControl) -> None:
        self.emulator = emulator
        self.oidc = client(emulator.url, "sso-oidc")
        self.sso = client(emulator.url, "sso")

    def register(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("clientName", "emulator-tests")
        kwargs.setdefault("clientType", "public")
        kwargs.setdefault("scopes", ["sso:account:access"])
        return dict(self.oidc.register_client(**kwargs))

    def start(self, registration: dict[str, Any], start_url: str = START_URL) -> dict[str, Any]:
        return dict(self.oidc.start_device_authorization(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            startUrl=start_url))

    def poll(self, registration: dict[str, Any], device: dict[str, Any]) -> dict[str, Any]:
        return dict(self.oidc.create_token(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            grantType=DEVICE_GRANT, deviceCode=device["deviceCode"]))

    def refresh(self, registration: dict[str, Any], refresh_token: str) -> dict[str, Any]:
        return dict(self.oidc.create_token(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            grantType="refresh_token", refreshToken=refresh_token))

    def login(self, **register_kwargs: Any) -> Login:
        """Register, start, see one pending poll, approve through the control plane, redeem."""
        registration = self.register(**register_kwargs)
        device = self.start(registration)
        with pytest.raises(self.oidc.exceptions.AuthorizationPendingException):
            self.poll(registration, device)
        if device["userCode"] in self.emulator.pending():
            self.emulator.approve(device["userCode"])
        token = self.poll(registration, device)
        return Login(registration["clientId"], registration["clientSecret"],
                     token["accessToken"], token.get("refreshToken"), token)

    def role_credentials(self, access_token: str, account_id: str = "111111111111",
                         role_name: str = "AdministratorAccess") -> dict[str, Any]:
        return dict(self.sso.get_role_credentials(
            accessToken=access_token, accountId=account_id, roleName=role_name
        )["roleCredentials"])

    def sts(self, credentials: dict[str, Any], region: str = REGION, **overrides: Any) -> Any:
        """An STS client signing with role credentials (portal or AssumeRole shaped)."""
        keys = {
            "aws_access_key_id": credentials.get("accessKeyId", credentials.get("AccessKeyId")),
            "aws_secret_access_key":
                credentials.get("secretAccessKey", credentials.get("SecretAccessKey")),
            "aws_session_token": credentials.get("sessionToken", credentials.get("SessionToken")),
        }
        keys.update(overrides)
        return client(self.emulator.url, "sts", region_name=region, **keys)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def address(url: str) -> tuple[str, int]:
    """The host and port of an ``http://host:port`` URL."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def raw(url: str, method: str, path: str, body: bytes | str | None = None,
        headers: dict[str, str] | None = None) -> RawResponse:
    """One hand-made HTTP request (for what no SDK would send), redirects not followed."""
    connection = http.client.HTTPConnection(*address(url), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()},
                           response.read())
    finally:
        connection.close()
