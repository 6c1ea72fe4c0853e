"""Step 2 of the flow: where a start URL really lives, resolved as the AWS CLI v2 (2.3x) does.

A start URL on an AWS-owned host (``*.awsapps.com``, ``*.app.aws``,
``*.portal.amazonaws.com`` and their China and European Sovereign Cloud
counterparts, the issuer hosts ``identitycenter.amazonaws.com``,
``identitycenter.us-gov.amazonaws.com`` (GovCloud), ``.com.cn`` and ``.eu``) is used
as it is, with the configured ``sso_region``. Any other host is a custom (vanity) domain:
one HEAD request on the profile's network (its CA bundle or the OS trust store, its proxy:
:mod:`.._network`), redirects **not** followed (GET when HEAD answers 405 or 501; 10 s
timeout), and the ``Location`` of a 301/302/303/307/308 joined to the URL must be an
https URL on an AWS-owned host. The region comes from that host where its
pattern carries one (``<id>.portal.<region>.app.aws``,
``<id>.<region>.portal.amazonaws.com`` and ``.com.cn``,
``<id>.portal.<region>.app.amazonwebservices.com.cn``, ``<id>.<region>.portal.amazonaws.eu``,
``<id>.portal.<region>.api.amazonwebservices.eu``), else from the configuration.

Plain http is accepted only on a loopback host (a local emulator serves its
vanity redirect there). The token and registration cache keys keep the
configured URL, as the CLI's do. Errors are :class:`SSOConfigError` naming
the URL and what to fix.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:  # pragma: no cover
    from .._network import Network

__all__ = ["ResolvedStartUrl", "resolve_start_url", "is_aws_owned", "region_of"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0

_AWS_SUFFIXES = (
    ".awsapps.com", ".app.aws", ".portal.amazonaws.com", ".awsapps.cn",
    ".portal.amazonaws.com.cn", ".app.amazonwebservices.com.cn", ".portal.amazonaws.eu",
    ".api.amazonwebservices.eu",
)
# The issuer hosts: commercial, GovCloud (identitycenter.us-gov.amazonaws.com), China, EUSC.
_IDENTITY_CENTER_HOST = re.compile(
    r"(?:^|\.)identitycenter\.(?:us-gov\.)?amazonaws\.com$|(?:^|\.)identitycenter\.amazonaws\.(?:com\.cn|eu)$")
_REGION = r"([a-z]{2,4}(?:-[a-z]+)+-\d+)"  # us-east-1, us-gov-west-1, eusc-de-east-1
_REGION_PATTERNS = (
    re.compile(rf"\.portal\.{_REGION}\.app\.aws$"),
    re.compile(rf"^[^.]+\.{_REGION}\.portal\.amazonaws\.com(?:\.cn)?$"),
    re.compile(rf"\.portal\.{_REGION}\.app\.amazonwebservices\.com\.cn$"),
    # The European Sovereign Cloud (AWS CLI 2.36.x): <id>.<region>.portal.amazonaws.eu and
    # <id>.portal.<region>.api.amazonwebservices.eu
    re.compile(rf"^[^.]+\.{_REGION}\.portal\.amazonaws\.eu$"),
    re.compile(rf"\.portal\.{_REGION}\.api\.amazonwebservices\.eu$"),
)
_REDIRECTS = (301, 302, 303, 307, 308)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ResolvedStartUrl:
    """The AWS-owned start URL to log in with and the region it lives in."""

    url: str
    region: str
    vanity: bool = False
    """True when ``url`` came from a custom domain's redirect."""


def is_aws_owned(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host.endswith(_AWS_SUFFIXES) or bool(_IDENTITY_CENTER_HOST.search(host))


def region_of(host: str) -> str | None:
    """The region an AWS-owned start URL host names, if its pattern carries one."""
    host = host.lower().rstrip(".")
    for pattern in _REGION_PATTERNS:
        match = pattern.search(host)
        if match:
            return match.group(1)
    return None


def _config_error(message: str, what: str):  # type: ignore[no-untyped-def]
    from ..exceptions import SSOConfigError

    return SSOConfigError(f"{what}: {message}", key="sso_start_url")


def _locate(url: str, timeout: float, what: str, network: Network) -> str:
    """The ``Location`` a vanity URL redirects to (or the URL itself when it does not)."""
    import botocore.exceptions

    from .._network import fetch

    for method in ("HEAD", "GET"):
        try:
            answer = fetch(url, network=network, method=method, timeout=timeout,
                           headers={"User-Agent": "boto-sso-oidc-provider"})
        except botocore.exceptions.BotoCoreError as error:
            from ..exceptions import SSOProviderError

            if isinstance(error, SSOProviderError):
                raise  # a certificate or a proxy: said with its host and what to do
            reason = getattr(error, "kwargs", {}).get("error", error)
            raise _config_error(f"cannot reach the start URL {url} ({reason}). Check "
                                "sso_start_url and the network.", what) from None
        if answer.status in _REDIRECTS and answer.headers.get("location"):
            return urljoin(url, answer.headers["location"])
        if answer.status < 300:
            return url
        if method == "HEAD" and answer.status in (405, 501):
            continue
        raise _config_error(
            f"the start URL {url} answered HTTP {answer.status} instead of redirecting to "
            "IAM Identity Center. Check sso_start_url.", what)
    return url  # pragma: no cover - the loop always returns or raises


def resolve_start_url(start_url: str, region: str, *, what: str,
                      timeout: float = DEFAULT_TIMEOUT, network: Network | None = None) -> ResolvedStartUrl:
    """Resolve ``start_url`` (configured with ``region``) as described in the module docstring,
    on ``network`` (None: the environment's: ``AWS_CA_BUNDLE``, the proxy variables).

    ``what`` names the session in errors. Raises :class:`SSOConfigError`, and
    :class:`~..exceptions.NetworkError` for a certificate or a proxy in the way.
    """
    parts = urlsplit(start_url)
    host = parts.hostname or ""
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
        raise _config_error(f"sso_start_url must be an https URL, not {start_url}.", what)
    if is_aws_owned(host):
        return ResolvedStartUrl(start_url, region)
    if network is None:
        from .._network import from_environment

        network = from_environment()
    final = _locate(start_url, timeout, what, network)
    final_parts = urlsplit(final)
    if final_parts.scheme != "https" or not is_aws_owned(final_parts.hostname or ""):
        raise _config_error(
            f"the start URL {start_url} leads to {final}, which is not an IAM Identity Center "
            "start URL (https on an AWS-owned domain such as *.awsapps.com). Set sso_start_url "
            "to your AWS access portal URL.", what)
    derived = region_of(final_parts.hostname or "") or region
    logger.debug("Start URL %s resolves to %s (region %s)", start_url, final, derived)
    return ResolvedStartUrl(final, derived, vanity=True)
