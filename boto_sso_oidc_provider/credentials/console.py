"""Step 5 of the flow, for a person: a console sign-in URL, through the AWS federation endpoint.

The IAM User Guide's "custom identity broker" flow: the credentials go to the
federation endpoint's ``getSigninToken`` (one HTTPS GET, hand-written: the
endpoint is not an AWS service API botocore has a model for), which answers a
sign-in token; the URL is the endpoint's ``login`` action with that token and
the console page to land on. Whoever holds the URL can sign in for 15
minutes: it is printed only when asked for (``--url``), never logged.

The endpoint is ``https://signin.aws.amazon.com/federation``; GovCloud
(``signin.amazonaws-us-gov.com``), China (``signin.amazonaws.cn``) and the European
Sovereign Cloud (``<region>.signin.amazonaws-eusc.eu``, console
``<region>.console.amazonaws-eusc.eu``) have their own; ``BOTO_SSO_OIDC_FEDERATION_ENDPOINT``
overrides it (the emulator serves one at ``<url>/federation``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from ..exceptions import SSOProviderError

if TYPE_CHECKING:  # pragma: no cover
    from .._network import Network

__all__ = ["ConsoleSigninError", "ENDPOINT_VARIABLE", "federation_endpoint", "console_destination",
           "signin_url", "MIN_SESSION_DURATION", "MAX_SESSION_DURATION"]

ENDPOINT_VARIABLE = "BOTO_SSO_OIDC_FEDERATION_ENDPOINT"
# The console session's bounds (the federation endpoint's SessionDuration), in seconds; not to be
# confused with the credential caches' refresh window, which happens to be as long.
MIN_SESSION_DURATION = 60 * 15
MAX_SESSION_DURATION = 60 * 60 * 12
_ISSUER = "boto-sso-oidc"
_TIMEOUT = 30.0


class ConsoleSigninError(SSOProviderError):
    """The federation endpoint refused the credentials or could not be reached."""


def _partition_domains(region: str | None) -> tuple[str, str]:
    """(sign-in domain, console domain) of the region's partition."""
    if region and region.startswith("us-gov-"):
        return "signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com"
    if region and region.startswith("cn-"):
        return "signin.amazonaws.cn", "console.amazonaws.cn"
    if region and region.startswith("eusc-"):  # the European Sovereign Cloud: per-region hosts
        return f"{region}.signin.amazonaws-eusc.eu", f"{region}.console.amazonaws-eusc.eu"
    return "signin.aws.amazon.com", "console.aws.amazon.com"


def federation_endpoint(region: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The federation endpoint URL: ``BOTO_SSO_OIDC_FEDERATION_ENDPOINT``, else the partition's."""
    environ = os.environ if environ is None else environ
    override = environ.get(ENDPOINT_VARIABLE, "").strip()
    if override:
        return override
    return f"https://{_partition_domains(region)[0]}/federation"


def console_destination(destination: str | None, region: str | None) -> str:
    """The console URL to land on.

    A full ``https://`` URL is used as it is; a service name (``s3``,
    ``ec2``) becomes that service's console home; nothing is the console home.
    The region, when known, is selected.
    """
    if destination and destination.startswith(("https://", "http://")):
        return destination
    domain = _partition_domains(region)[1]
    query = f"?region={quote(region)}" if region else ""
    if destination:
        return f"https://{domain}/{quote(destination.strip('/'))}/home{query}"
    return f"https://{domain}/console/home{query}"


def signin_url(credentials: Mapping[str, Any], *, destination: str, session_duration: int | None = None,
               endpoint: str, network: Network | None = None) -> str:
    """Exchange role ``credentials`` (``AccessKeyId``, ``SecretAccessKey``, ``SessionToken``)
    for a sign-in token and return the console login URL.

    ``network`` is the profile's (its CA bundle or the OS trust store, its proxy; None: the
    environment's). Raises :class:`ConsoleSigninError` (naming the endpoint and what to do)
    when the endpoint refuses or cannot be reached, and :class:`~.exceptions.NetworkError` for a
    certificate or a proxy in the way; its text never holds a secret.
    """
    import botocore.exceptions

    from .._network import fetch, from_environment

    if session_duration is not None and not MIN_SESSION_DURATION <= session_duration <= MAX_SESSION_DURATION:
        raise ConsoleSigninError(f"The console session duration must be {MIN_SESSION_DURATION} to "
                                 f"{MAX_SESSION_DURATION} seconds, not {session_duration}.")
    session = json.dumps({"sessionId": credentials["AccessKeyId"],
                          "sessionKey": credentials["SecretAccessKey"],
                          "sessionToken": credentials["SessionToken"]})
    params = {"Action": "getSigninToken", "Session": session}
    if session_duration is not None:
        params["SessionDuration"] = str(session_duration)
    try:
        answer = fetch(f"{endpoint}?{urlencode(params)}", network=network or from_environment(),
                       headers={"Accept": "application/json"}, timeout=_TIMEOUT)
    except SSOProviderError:
        raise  # a certificate or a proxy: said with its host and what to do
    except botocore.exceptions.BotoCoreError as error:
        cause: object = getattr(error, "kwargs", {}).get("error") or error
        raise ConsoleSigninError(
            f"Cannot get a sign-in token from the federation endpoint {endpoint} ({cause}). Check the "
            f"network, or {ENDPOINT_VARIABLE} if you set it.") from None
    if answer.status >= 300:
        reason = answer.body[:300].decode("utf-8", "replace").strip() or f"HTTP {answer.status}"
        raise ConsoleSigninError(
            f"The federation endpoint {endpoint} refused the credentials (HTTP {answer.status}: "
            f"{' '.join(str(reason).split())}). Run again to use fresh credentials; if it persists, "
            "check that the role may sign in to the console.")
    try:
        payload = json.loads(answer.body.decode("utf-8"))
    except ValueError:
        payload = None
    token = payload.get("SigninToken") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        raise ConsoleSigninError(f"The federation endpoint {endpoint} answered without a SigninToken. "
                                 f"Check {ENDPOINT_VARIABLE} if you set it.")
    query = urlencode({"Action": "login", "Issuer": _ISSUER, "Destination": destination,
                       "SigninToken": token})
    return f"{endpoint}?{query}"
