"""Step 3 (browser): the authorization code grant with PKCE (RFC 7636), as the AWS CLI v2 runs it.

1. A loopback listener is bound on ``127.0.0.1`` (:mod:`._loopback_callback`)
   before anything else, so its redirect URI is known and served.
2. A code verifier (64 characters of letters, digits and ``-._~``) and its
   S256 challenge (unpadded base64url of its SHA-256); the listener's random ``state``.
3. The person is sent to the **resolved** SSO OIDC endpoint's ``/authorize``
   (so ``AWS_ENDPOINT_URL_SSO_OIDC``/``AWS_ENDPOINT_URL`` and the emulator
   work) with ``response_type=code``, ``client_id``, ``redirect_uri``,
   ``state``, ``code_challenge_method=S256``, ``scopes`` and
   ``code_challenge``; the URL is always printed, and a browser opens if allowed.
4. The browser comes back with ``code`` and ``state``; the listener takes only
   a redirect with this login's state (others are answered and ignored).
5. CreateToken with the ``authorization_code`` grant, the code, the verifier
   and the redirect URI.

Failures are typed (:class:`AuthorizationDeniedError`,
:class:`AuthorizationTimeoutError` after ``timeout`` seconds,
:class:`AuthorizationCodeError` for an error redirect or a refused code,
:class:`CallbackPortError`, :class:`LoginCancelledError` on Ctrl-C); the
listener is closed in every case. The URL carries only what the protocol
requires: the verifier, the code and the client secret never leave this
process except to CreateToken. This module never touches the cache;
:mod:`.token` does.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import string
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from .._clients import kms_problem
from ._interaction import LoginPrompt, sanitize
from .device_authorization import TokenResponse
from .registration import AUTHORIZATION_CODE_GRANT, Registration

__all__ = ["new_code_verifier", "code_challenge", "authorize_url", "run_authorization_code_flow",
           "DEFAULT_TIMEOUT"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10 * 60.0
"""Seconds to wait for the browser to come back (the AWS CLI v2 waits 10 minutes)."""

_VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"
_VERIFIER_LENGTH = 64


def new_code_verifier() -> str:
    """A fresh PKCE code verifier: 64 unreserved characters (RFC 7636 section 4.1)."""
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(_VERIFIER_LENGTH))


def code_challenge(verifier: str) -> str:
    """The S256 challenge of ``verifier``: base64url of its SHA-256, without ``=`` padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(oidc_client: Any, *, client_id: str, redirect_uri: str, state: str,
                  challenge: str, scopes: Sequence[str]) -> str:
    """The ``/authorize`` URL on the endpoint the botocore client resolved (overrides included)."""
    endpoint = urlsplit(oidc_client.meta.endpoint_url)
    query = urlencode({
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge_method": "S256",
        "scopes": " ".join(scopes),
        "code_challenge": challenge,
    })
    return f"{endpoint.scheme}://{endpoint.netloc}/authorize?{query}"


def run_authorization_code_flow(
    oidc_client: Any,
    registration: Registration,
    *,
    what: str,
    scopes: Sequence[str],
    prompt: LoginPrompt | None = None,
    redirect_port: int | None = None,
    redirect_port_source: str = "--redirect-port",
    remote: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> TokenResponse:
    """Run the whole browser login and return the token response.

    ``what`` names the session in messages; ``redirect_port`` fixes the
    listener's port (default: any free one), set by ``redirect_port_source`` (for the message
    when it is taken). ``remote``: nothing listens; the person pastes the address the browser
    ended on (:mod:`._pasted_redirect`). Raises the typed login errors in the module docstring;
    other service errors propagate as botocore's.
    """
    from .. import _redaction
    from ..exceptions import CallbackPortError, LoginCancelledError, SSOLoginError
    from ._loopback_callback import LoopbackCallback
    from ._pasted_redirect import PastedRedirect

    prompt = prompt or LoginPrompt()
    listener: Any
    try:
        listener = PastedRedirect(prompt, redirect_port) if remote else LoopbackCallback(redirect_port or 0)
    except OSError as error:
        if redirect_port:
            raise CallbackPortError(
                f"The login to {what} cannot listen for the browser on 127.0.0.1 port "
                f"{redirect_port} ({redirect_port_source}): {error.strerror or error}. Stop the "
                f"program using it, or choose another port with {redirect_port_source}.",
                port=redirect_port) from None
        raise CallbackPortError(
            f"The login to {what} cannot listen for the browser on 127.0.0.1 a free port: "
            f"{error.strerror or error}. Free a port, or use --use-device-code.", port=0) from None
    with listener:
        try:
            token = _authorize_and_redeem(oidc_client, registration, listener, what=what,
                                          scopes=scopes, prompt=prompt, timeout=timeout)
        except SSOLoginError as error:
            listener.finish(False, error.message)
            raise
        except KeyboardInterrupt:
            listener.finish(False, "The login was cancelled in the terminal.")
            prompt.done("Login cancelled.")
            raise LoginCancelledError(
                f"The login to {what} was cancelled; the token cache was left as it was."
            ) from None
        except Exception:
            listener.finish(False, "The login failed; the terminal says why.")
            raise
        listener.finish(True, f"Logged in to {what}.")
    _redaction.remember(token.access_token)
    prompt.done(f"Logged in to {what}.")
    return token


def _authorize_and_redeem(oidc_client: Any, registration: Registration, listener: Any, *,
                          what: str, scopes: Sequence[str], prompt: LoginPrompt,
                          timeout: float) -> TokenResponse:
    from .. import _redaction
    from ..exceptions import AuthorizationCodeError, AuthorizationDeniedError, AuthorizationTimeoutError

    verifier = new_code_verifier()
    state = listener.state
    _redaction.remember(verifier)
    url = authorize_url(oidc_client, client_id=registration.client_id,
                        redirect_uri=listener.redirect_uri, state=state,
                        challenge=code_challenge(verifier), scopes=scopes)
    from ._pasted_redirect import PastedRedirect

    pasted = isinstance(listener, PastedRedirect)
    if pasted:
        prompt.show_remote_authorization(what, url, listener.redirect_uri)
    else:
        prompt.show_authorization(what, url)
    result = listener.wait(timeout)
    if result is None:
        raise AuthorizationTimeoutError(
            f"The login to {what} was not completed in the browser within {timeout:g}s. "
            + ("Run the login again, in a terminal, and paste the address the browser ends on."
               if pasted else "Run the login again (or use --use-device-code where no browser can "
               "reach this machine).")
        )
    # The listener delivers only a redirect carrying this login's state; another (a stale
    # tab, a forged request) was answered 400 and the wait went on.
    if result.error == "access_denied":
        raise AuthorizationDeniedError(
            f"The login to {what} was denied in the browser. Run the login again and allow access."
        )
    if result.error or not result.code:
        # Whoever redirects the browser chooses these words: no escape code reaches the terminal.
        detail = sanitize(" ".join(f"{result.error or 'no code'}: {result.error_description or ''}"
                                   .split()), limit=200)
        raise AuthorizationCodeError(
            f"The login to {what} was refused by SSO OIDC ({detail}). Run the login again."
        )
    _redaction.remember(result.code)
    errors = oidc_client.exceptions
    try:
        response = oidc_client.create_token(
            clientId=registration.client_id,
            clientSecret=registration.client_secret,
            grantType=AUTHORIZATION_CODE_GRANT,
            code=result.code,
            codeVerifier=verifier,
            redirectUri=listener.redirect_uri,
        )
    except (errors.InvalidGrantException, errors.ExpiredTokenException):
        raise AuthorizationCodeError(
            f"SSO OIDC refused the authorization code of the login to {what} (expired, already "
            "used, or not issued for this login). Run the login again."
        ) from None
    except errors.AccessDeniedException as error:
        if kms_problem(error):
            raise  # not the person's answer: the instance's KMS key (see _flows)
        raise AuthorizationDeniedError(
            f"The login to {what} was denied. Run the login again and allow access."
        ) from None
    return TokenResponse.from_response(response)
