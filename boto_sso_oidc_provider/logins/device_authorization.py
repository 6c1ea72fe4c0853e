"""Step 3 of the flow: the OAuth 2.0 device authorization grant (RFC 8628), as SSO OIDC runs it.

1. StartDeviceAuthorization returns a device code, a user code, a
   verification URI (with ``_complete`` form), its lifetime and a polling
   ``interval`` (RFC 8628 §3.2; 5 s when absent).
2. The person is told the URL and code on stderr; a browser opens if allowed.
3. CreateToken with the ``device_code`` grant is polled every ``interval``
   seconds (§3.4-3.5): ``authorization_pending`` -> keep polling;
   ``slow_down`` -> add 5 s to the interval for the rest of the flow;
   ``access_denied`` -> :class:`DeviceAuthorizationDeniedError`;
   ``expired_token`` or the device code's lifetime over ->
   :class:`DeviceAuthorizationExpiredError`.

Ctrl-C raises :class:`LoginCancelledError`; nothing was written yet, so the
cache stays as it was. This module never touches the cache; :mod:`.token` does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._clients import kms_problem
from ._interaction import LoginPrompt
from .registration import DEVICE_CODE_GRANT, Registration

__all__ = ["DeviceAuthorization", "TokenResponse", "run_device_flow", "DEFAULT_INTERVAL",
           "SLOW_DOWN_INCREMENT"]

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5
"""RFC 8628 §3.2: the polling interval when the server does not give one."""
SLOW_DOWN_INCREMENT = 5
"""RFC 8628 §3.5: seconds added to the interval on every ``slow_down``."""


@dataclass(frozen=True, repr=False)
class DeviceAuthorization:
    """A started device authorization. The device code is a secret and never shown."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int

    def __repr__(self) -> str:
        return (f"DeviceAuthorization(user_code={self.user_code!r}, "
                f"verification_uri={self.verification_uri!r}, expires_in={self.expires_in})")


@dataclass(frozen=True, repr=False)
class TokenResponse:
    """What CreateToken returned. Its repr never shows the tokens."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return f"TokenResponse(expires_in={self.expires_in}, refreshable={self.refresh_token is not None})"

    @classmethod
    def from_response(cls, response: dict[str, Any]) -> TokenResponse:
        from .. import _redaction

        _redaction.remember(response["accessToken"], response.get("refreshToken"))
        return cls(response["accessToken"], int(response["expiresIn"]), response.get("refreshToken"))


def start_device_authorization(
    oidc_client: Any, registration: Registration, start_url: str
) -> DeviceAuthorization:
    response = oidc_client.start_device_authorization(
        clientId=registration.client_id,
        clientSecret=registration.client_secret,
        startUrl=start_url,
    )
    from .. import _redaction

    _redaction.remember(response["deviceCode"])
    interval = response.get("interval")
    return DeviceAuthorization(
        device_code=response["deviceCode"],
        user_code=response["userCode"],
        verification_uri=response["verificationUri"],
        verification_uri_complete=response.get("verificationUriComplete")
        or response["verificationUri"],
        expires_in=int(response["expiresIn"]),
        interval=DEFAULT_INTERVAL if interval is None else max(0, int(interval)),
    )


def run_device_flow(
    oidc_client: Any,
    registration: Registration,
    start_url: str,
    *,
    what: str,
    prompt: LoginPrompt | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> TokenResponse:
    """Run the whole device flow and return the token response.

    ``what`` names the session in the prompt. ``sleep`` and ``monotonic`` are
    injectable so tests need not wait. Raises the typed login errors described
    in the module docstring; other service errors propagate as botocore's.
    """
    from ..exceptions import (
        DeviceAuthorizationDeniedError,
        DeviceAuthorizationExpiredError,
        LoginCancelledError,
    )

    prompt = prompt or LoginPrompt()
    try:
        authorization = start_device_authorization(oidc_client, registration, start_url)
        prompt.show(what, authorization.verification_uri_complete, authorization.user_code)
        started = monotonic()
        deadline = started + authorization.expires_in
        interval = authorization.interval
        errors = oidc_client.exceptions
        while True:
            if monotonic() >= deadline:
                raise DeviceAuthorizationExpiredError(
                    f"The login to {what} was not approved within {authorization.expires_in}s "
                    "and the code expired. Run the login again."
                )
            try:
                response = oidc_client.create_token(
                    clientId=registration.client_id,
                    clientSecret=registration.client_secret,
                    grantType=DEVICE_CODE_GRANT,
                    deviceCode=authorization.device_code,
                )
            except errors.AuthorizationPendingException:
                pass
            except errors.SlowDownException:
                interval += SLOW_DOWN_INCREMENT
                logger.debug("slow_down: polling interval is now %ss", interval)
            except errors.AccessDeniedException as error:
                if kms_problem(error):
                    raise  # not the person's answer: the instance's KMS key (see _flows)
                raise DeviceAuthorizationDeniedError(
                    f"The login to {what} was denied in the browser. Run the login again "
                    "and approve the request."
                ) from None
            except errors.ExpiredTokenException:
                raise DeviceAuthorizationExpiredError(
                    f"The login code for {what} expired before it was approved. "
                    "Run the login again."
                ) from None
            else:
                prompt.done(f"Logged in to {what}.")
                return TokenResponse.from_response(response)
            now = monotonic()
            prompt.waiting(now - started, deadline - now)
            sleep(max(0.0, min(interval, deadline - now)))
    except KeyboardInterrupt:
        prompt.done("Login cancelled.")
        raise LoginCancelledError(
            f"The login to {what} was cancelled; the token cache was left as it was."
        ) from None
