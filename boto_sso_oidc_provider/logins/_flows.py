"""Steps 2 and 3 of the flow: one login, either flow: where the start URL lives, which client, which grant.

:mod:`.token` decides *which* flow (:meth:`TokenManager.uses_browser_flow`)
and stores the result; this module runs it: resolve the start URL
(:mod:`._start_url`, vanity domains included), pick the registration that
fits the flow (:mod:`.registration`, shared with the AWS CLI v2), run
:mod:`.authorization_code` or :mod:`.device_authorization`, and register
anew once if the service no longer knows the cached client. A new
registration is cached only once the login worked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from .._clients import ClientFactory
from .._clock import Clock, utc_now
from ..config.reader import SSOSessionConfig
from ._interaction import LoginPrompt
from .device_authorization import TokenResponse
from .registration import DEFAULT_BROWSER_SCOPES, Registration, get_registration, store_registration

__all__ = ["log_in"]

logger = logging.getLogger(__name__)


def log_in(
    sso: SSOSessionConfig,
    clients: ClientFactory,
    *,
    browser: bool,
    prompt: LoginPrompt,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    redirect_port: int | None = None,
    redirect_port_source: str = "--redirect-port",
    remote: bool = False,
    timeout: float | None = None,
) -> tuple[TokenResponse, Registration]:
    """Run the browser (``browser``) or device flow for ``sso``; the token and the client
    that obtained it. Call with the session's token lock held.

    ``clients`` makes the SSO OIDC client, of the region the start URL lives
    in (the configured one unless a vanity URL says otherwise). Raises
    :class:`SSOConfigError` for a start URL that does not resolve and the
    flows' typed login errors.
    """
    import botocore.exceptions

    from .._clients import KMS_ADVICE, error_code, kms_problem, network_of
    from ._start_url import resolve_start_url

    location = resolve_start_url(sso.start_url, sso.region, what=sso.display_name,
                                 network=network_of(clients))
    client = clients("sso-oidc", location.region)
    if location.region != sso.region:
        logger.warning("%s: the start URL %s is in region %s, but sso_region is %s; logging in "
                       "in %s. Set sso_region = %s in the AWS config.", sso.display_name,
                       sso.start_url, location.region, sso.region, location.region,
                       location.region)

    def attempt(force_new: bool) -> tuple[TokenResponse, Registration]:
        registration = get_registration(client, sso, clock=clock, force_new=force_new,
                                        browser=browser, issuer_url=location.url, store=False,
                                        sleep=sleep)
        if browser:
            from .authorization_code import DEFAULT_TIMEOUT, run_authorization_code_flow

            scopes = registration.scopes or sso.registration_scopes or DEFAULT_BROWSER_SCOPES
            return run_authorization_code_flow(
                client, registration, what=sso.display_name, scopes=scopes, prompt=prompt,
                redirect_port=redirect_port, redirect_port_source=redirect_port_source, remote=remote,
                timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            ), registration
        from .device_authorization import run_device_flow

        return run_device_flow(client, registration, location.url, what=sso.display_name,
                               prompt=prompt, sleep=sleep), registration

    try:
        try:
            result = attempt(force_new=False)
        except botocore.exceptions.ClientError as error:
            if error_code(error)[0] != "InvalidClientException":
                raise
            # The service no longer knows the cached client: register anew, once.
            result = attempt(force_new=True)
    except botocore.exceptions.ClientError as error:
        kms = kms_problem(error)
        if kms is None:
            raise
        from ..exceptions import SSOLoginError

        raise SSOLoginError(f"Cannot log in to {sso.display_name}: {kms}. {KMS_ADVICE}") from None
    # Only now: a login that failed leaves both caches byte for byte as they were.
    store_registration(sso, result[1])
    return result
