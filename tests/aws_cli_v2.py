"""A small, faithful model of how the AWS CLI v2 2.36 logs in and caches (``aws sso login``).

Written from the CLI's sources as ``/work/shared/notes/aws-cli-v2-sso.md``
sets them out (``awscli/botocore/utils.py``: ``SSOTokenFetcher``,
``SSOTokenFetcherAuth``; ``awscli/customizations/sso``): the registration
cache key and fields, the ``grantTypes``-aware reuse rule, the browser
flow's RegisterClient and CreateToken, the device flow, and the token cache
entry. Every call goes through a real botocore ``sso-oidc`` client against
the emulator. A refresh is not modelled: the CLI refreshes with botocore's
own :class:`botocore.tokens.SSOTokenProvider`, which :meth:`AwsCliV2.refresh`
runs as it is.

Only the person's part of the browser flow is short-cut: instead of a
browser and a callback server, the authorize URL is fetched (the emulator
approves at once) and the code read from the redirect, which is what the
CLI's callback server would have received.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import secrets
import string
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import botocore
import botocore.session
import botocore.tokens
import botocore.utils
from botocore.config import Config

_BROWSER_GRANTS = ["authorization_code", "refresh_token"]
_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_EXPIRY_WINDOW = _dt.timedelta(minutes=15)


def _timestamp(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> _dt.datetime:
    return _dt.datetime.strptime(text.replace("UTC", "Z"), "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=_dt.timezone.utc)


# One loader for every session: its cache of service models makes new clients cheap.
_LOADER = botocore.session.get_session().get_component("data_loader")


def _session(profile: str | None = None) -> botocore.session.Session:
    session = botocore.session.Session(profile=profile)
    session.register_component("data_loader", _LOADER)
    return session


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class AwsCliV2:
    """``aws sso login --sso-session NAME`` (browser flow) and ``--use-device-code``, 2.36."""

    def __init__(self, home: Path, session_name: str, start_url: str, region: str,
                 scopes: list[str] | None) -> None:
        self.cache = home / ".aws" / "sso" / "cache"
        self.session_name = session_name
        self.start_url = start_url
        self.region = region
        self.scopes = scopes
        session = _session()
        self.oidc = session.create_client(
            "sso-oidc", region_name=region,
            config=Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1}))

    # -- the cache files ----------------------------------------------------------------------

    @property
    def registration_path(self) -> Path:
        args = {"tool": "botocore", "startUrl": self.start_url, "region": self.region,
                "scopes": self.scopes, "session_name": self.session_name}
        key = hashlib.sha1(json.dumps(args, sort_keys=True).encode("utf-8")).hexdigest()
        return self.cache / f"{key}.json"

    @property
    def token_path(self) -> Path:
        return self.cache / f"{hashlib.sha1(self.session_name.encode('utf-8')).hexdigest()}.json"

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))

    def _registration(self, browser: bool) -> dict[str, Any]:
        """Reuse the cached entry if it is outside the 15-minute window and fits the flow."""
        if self.registration_path.exists():
            entry = json.loads(self.registration_path.read_text())
            fits = ("authorization_code" in entry.get("grantTypes", [])) == browser
            if fits and _parse(entry["expiresAt"]) - _dt.datetime.now(_dt.timezone.utc) > _EXPIRY_WINDOW:
                return dict(entry)
        kwargs: dict[str, Any] = {"clientName": f"botocore-client-{self.session_name}",
                                  "clientType": "public"}
        if browser:
            kwargs.update(grantTypes=_BROWSER_GRANTS,
                          redirectUris=["http://127.0.0.1/oauth/callback"],
                          issuerUrl=self.start_url,
                          scopes=self.scopes or ["sso:account:access"])
        elif self.scopes:
            kwargs["scopes"] = self.scopes
        response = self.oidc.register_client(**kwargs)
        entry = {"clientId": response["clientId"], "clientSecret": response["clientSecret"],
                 "expiresAt": _timestamp(_dt.datetime.fromtimestamp(
                     response["clientSecretExpiresAt"], _dt.timezone.utc))}
        if self.scopes:
            entry["scopes"] = self.scopes
        if browser:
            entry["grantTypes"] = _BROWSER_GRANTS
        self._write(self.registration_path, entry)
        return entry

    def _store_token(self, registration: dict[str, Any], response: dict[str, Any]) -> None:
        now = _dt.datetime.now(_dt.timezone.utc)
        token = {
            "startUrl": self.start_url, "region": self.region,
            "accessToken": response["accessToken"],
            "expiresAt": _timestamp(now + _dt.timedelta(seconds=response["expiresIn"])),
            "clientId": registration["clientId"], "clientSecret": registration["clientSecret"],
            "registrationExpiresAt": registration["expiresAt"],
        }
        if "refreshToken" in response:
            token["refreshToken"] = response["refreshToken"]
        self._write(self.token_path, token)

    # -- the two flows ------------------------------------------------------------------------

    def login_browser(self) -> None:
        """``aws sso login`` (authorization code + PKCE)."""
        registration = self._registration(browser=True)
        alphabet = string.ascii_letters + string.digits + "-._~"
        verifier = "".join(secrets.choice(alphabet) for _ in range(64))
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        redirect_uri = "http://127.0.0.1:49999/oauth/callback"
        state = str(uuid.uuid4())
        endpoint = urlsplit(self.oidc.meta.endpoint_url)
        url = f"{endpoint.scheme}://{endpoint.netloc}/authorize?" + urlencode({
            "response_type": "code", "client_id": registration["clientId"],
            "redirect_uri": redirect_uri, "state": state, "code_challenge_method": "S256",
            "scopes": " ".join(self.scopes or ["sso:account:access"]),
            "code_challenge": challenge})
        try:
            urllib.request.build_opener(_NoRedirects).open(url, timeout=30)
            raise AssertionError("the authorize URL did not redirect")
        except urllib.error.HTTPError as redirect:
            with redirect:
                query = parse_qs(urlsplit(redirect.headers["Location"]).query)
        assert query["state"] == [state]
        response = self.oidc.create_token(
            grantType="authorization_code", clientId=registration["clientId"],
            clientSecret=registration["clientSecret"], code=query["code"][0],
            codeVerifier=verifier, redirectUri=redirect_uri)
        self._store_token(registration, response)

    def login_device(self) -> None:
        """``aws sso login --use-device-code``: polls until the emulator approves."""
        registration = self._registration(browser=False)
        device = self.oidc.start_device_authorization(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            startUrl=self.start_url)
        while True:
            try:
                response = self.oidc.create_token(
                    grantType=_DEVICE_GRANT, clientId=registration["clientId"],
                    clientSecret=registration["clientSecret"], deviceCode=device["deviceCode"])
                break
            except self.oidc.exceptions.AuthorizationPendingException:
                continue
        self._store_token(registration, response)

    # -- refresh: botocore's own token provider -----------------------------------------------

    def refresh(self, profile: str) -> str:
        """Any AWS CLI v2 command on ``profile`` once the token is near expiry: botocore's
        :class:`SSOTokenProvider` refreshes with the token entry's own client. Returns the
        access token it used."""
        session = _session(profile)
        # The cache directory as botocore computes it, but for this HOME (botocore's class
        # attribute froze ~ when it was imported).
        cache = botocore.utils.JSONFileCache(str(self.cache),
                                             dumps_func=botocore.tokens._sso_json_dumps)
        provider = botocore.tokens.SSOTokenProvider(session, cache=cache, profile_name=profile)
        token = provider.load_token()
        assert token is not None
        return str(token.get_frozen_token().token)

