"""botocore clients for the services, created one way everywhere; service errors classified once.

The managers never build a client themselves: they ask a :data:`ClientFactory`
(``(service, region) -> client``), by default :class:`SessionClients`, so a
test or an application can hand in its own. Every service call goes through
:func:`call`, which turns botocore's exceptions into two kinds: a definite
answer the caller named (:class:`ServiceRefused`) or something worth trying
again later (:class:`TransientServiceError`). :func:`renew_once` is the one
"the token was refused: renew it once and retry once" loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    import botocore.session

    from ._network import Network

__all__ = ["ClientFactory", "ClientProfile", "interactive", "BULK", "SessionClients", "create_client",
           "botocore_session", "call", "renew_once", "ServiceRefused", "TransientServiceError",
           "error_code", "CONNECT_TIMEOUT", "READ_TIMEOUT", "MAX_ATTEMPTS", "CALL_BOUND",
           "THROTTLE_CODES", "network_of", "session_network"]

_T = TypeVar("_T")

ClientFactory = Callable[[str, str], Any]
"""Makes a botocore client: ``factory(service, region)``."""

CONNECT_TIMEOUT = 3.0
"""Seconds to wait for a TCP connection to an SSO endpoint."""
READ_TIMEOUT = 10.0
"""Seconds to wait for an answer once connected (the real services answer in well under one)."""
MAX_ATTEMPTS = 2
"""Attempts per call: one retry of a transient failure (5xx, throttle, timeout), briefly backed off."""
CALL_BOUND = MAX_ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT) + 2.0
"""The longest one SSO call can take against an endpoint that never answers (about 28 s; 2 s is
botocore's retry back-off). A credential request makes at most two such calls in a row (a token
refresh, then GetRoleCredentials), and the cache locks are released when it fails."""


@dataclass(frozen=True)
class ClientProfile:
    """How a client waits: botocore's timeouts, retry mode and attempts, connection pool.

    Two exist: the interactive one for the credential path (a person or a
    program is waiting: fail fast; :data:`CONNECT_TIMEOUT`, :data:`READ_TIMEOUT`,
    :data:`MAX_ATTEMPTS`, see :func:`interactive`) and :data:`BULK` for listing an
    organization (thousands of calls at the service's pace).
    """

    connect_timeout: float
    read_timeout: float
    max_attempts: int
    max_pool_connections: int = 10


def interactive() -> ClientProfile:
    """The credential path's profile: short timeouts, one retry (see :data:`CALL_BOUND`)."""
    return ClientProfile(CONNECT_TIMEOUT, READ_TIMEOUT, MAX_ATTEMPTS)

BULK = ClientProfile(connect_timeout=5.0, read_timeout=20.0, max_attempts=1,
                     max_pool_connections=32)
"""Listing an organization: one attempt per botocore call, because the listing engine
(:mod:`.organizations._listing`) retries every call itself, through one rate limiter shared by all its
workers, with backoff, jitter and one deadline; botocore retrying on its own would hide
the throttles the limiter must see. Longer read timeout; a pool for the workers."""

THROTTLE_CODES = frozenset({"TooManyRequestsException", "SlowDownException", "ThrottlingException",
                            "Throttling", "RequestLimitExceeded"})
"""Error codes that mean "slow down": the portal's 429 and its kin."""


def botocore_session(
    session: Any = None, profile_name: str | None = None
) -> botocore.session.Session:
    """A botocore session from a boto3 or botocore session, or a new one for ``profile_name``."""
    import botocore.session

    if session is None:
        return botocore.session.Session(profile=profile_name)
    inner = getattr(session, "_session", None)  # boto3.Session wraps a botocore session
    if isinstance(inner, botocore.session.Session):
        return inner
    if isinstance(session, botocore.session.Session):
        return session
    raise TypeError(f"expected a boto3 or botocore Session, got {type(session).__name__}")


def create_client(service: str, region: str | None, session: Any = None, *, signed: bool = False,
                  credentials: tuple[str, str, str | None] | None = None,
                  profile: ClientProfile | None = None, network: Network | None = None) -> Any:
    """A botocore client for ``service`` in ``region`` (None: the session's region), waiting as
    ``profile`` says (None: :func:`interactive`), sending on ``network`` (None: the session's
    profile's, :func:`session_network`): its CA bundle or the OS trust store, its proxies,
    and certificate and proxy failures as :class:`~.exceptions.NetworkError`.

    ``sso-oidc`` and ``sso`` are unsigned: they authenticate with client
    secrets and bearer tokens, never with AWS credentials, so creating them
    never triggers a credential look-up (and so never recurses into us).
    ``credentials`` (access key id, secret key, session token or None) sign the
    client's calls with exactly those (STS AssumeRole with a chain's source
    credentials); no credential look-up happens then either.
    """
    import botocore
    from botocore.config import Config

    from . import _network, _redaction

    _redaction.install()
    # By default an interactive credential path: botocore's defaults (60 s read timeout,
    # 3 attempts) stall a hung endpoint for minutes while holding the cache lock. See CALL_BOUND.
    profile = profile or interactive()
    config = Config(region_name=region, connect_timeout=profile.connect_timeout,
                    read_timeout=profile.read_timeout, max_pool_connections=profile.max_pool_connections,
                    retries={"mode": "standard", "total_max_attempts": profile.max_attempts})
    core = botocore_session(session)
    network = network or session_network(core)
    if credentials is not None:
        key, secret, token = credentials
        client = core.create_client(
            service, region_name=region, config=config, verify=network.verify, aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token)
    else:
        if not signed:
            config = config.merge(Config(signature_version=botocore.UNSIGNED))
        client = core.create_client(service, region_name=region, config=config, verify=network.verify)
    _network.install(client, network)
    return client


class SessionClients:
    """The default :data:`ClientFactory`: clients on ``session``'s endpoint and network settings,
    one per (service, region), made on first use. ``session`` is a boto3 or botocore session, or
    None for a new botocore session of ``profile_name``; ``profile`` says how the clients wait."""

    def __init__(self, session: Any = None, *, profile: ClientProfile | None = None,
                 network: Network | None = None, profile_name: str | None = None) -> None:
        # Without a session: one for ``profile_name`` (None: the default profile), so that its
        # clients take that profile's settings (ca_bundle, endpoint_url ...) as botocore's do,
        # made on first use: a manager that only reads its cache (status, of every profile of
        # a config) never pays for a botocore session (about 8 ms each).
        self._session = session
        self._profile_name = profile_name
        self._profile = profile
        self._network = network
        self._clients: dict[tuple[str, str], Any] = {}

    def __repr__(self) -> str:
        if self._session is None:
            return f"SessionClients(profile_name={self._profile_name!r})"
        return f"SessionClients({type(self._session).__name__})"

    def _core(self) -> Any:
        """The session, the profile's made now if it is not yet."""
        if self._session is None and self._profile_name is not None:
            self._session = botocore_session(None, self._profile_name)
        return self._session

    @property
    def network(self) -> Network:
        """The network of the session's profile (read once), for the calls that are no client's."""
        if self._network is None:
            self._network = session_network(botocore_session(self._core()))
        return self._network

    def with_profile(self, profile: ClientProfile) -> SessionClients:
        """Clients on the same session that wait as ``profile`` says (a bulk listing's)."""
        return SessionClients(self._core(), profile=profile, network=self._network)

    def __call__(self, service: str, region: str) -> Any:
        client = self._clients.get((service, region))
        if client is None:
            client = self._clients[(service, region)] = create_client(
                service, region, self._core(), profile=self._profile, network=self.network)
        return client


def session_network(session: Any, environ: Mapping[str, str] | None = None) -> Network:
    """The network of a botocore session's profile (botocore reads it from the config, as for
    the clients made on that session): its ``ca_bundle`` (``AWS_CA_BUNDLE`` first,
    as botocore reads it), its client config's proxy settings, and ``boto_sso_oidc_truststore``
    (``BOTO_SSO_OIDC_TRUSTSTORE``, else the profile's key, else its sso-session's).

    Raises :class:`~.exceptions.SSOConfigError` for a trust-store value that is not a boolean.
    """
    import botocore.exceptions

    from . import _network

    environ = os.environ if environ is None else environ
    try:
        scoped: Mapping[str, Any] = session.get_scoped_config()
        ca_bundle = session.get_config_variable("ca_bundle")
    except botocore.exceptions.ProfileNotFound:
        scoped, ca_bundle = {}, environ.get("AWS_CA_BUNDLE") or None
    profile = session.profile or "default"
    source = None
    if ca_bundle:
        source = ("AWS_CA_BUNDLE" if environ.get("AWS_CA_BUNDLE") == ca_bundle
                  else f'ca_bundle in profile "{profile}"')
    truststore, truststore_source = _network.truststore_setting(session, scoped, profile, environ)
    config = session.get_default_client_config()
    return _network.Network(
        ca_bundle=ca_bundle or None, ca_bundle_source=source, truststore=truststore,
        truststore_source=truststore_source,
        proxies=getattr(config, "proxies", None) or None,
        proxies_config=getattr(config, "proxies_config", None) or None,
        client_cert=getattr(config, "client_cert", None) or None)


def network_of(factory: Any) -> Network:
    """The network of a :data:`ClientFactory` (its ``network``), else the environment's."""
    from . import _network

    network = getattr(factory, "network", None)
    if isinstance(network, _network.Network):
        return network

    return _network.from_environment()


class ServiceRefused(Exception):
    """The service gave one of the answers the caller listed (a 4xx with that code)."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class TransientServiceError(Exception):
    """A throttle, a 5xx or a network failure: worth trying again later.

    ``reason`` is short and safe to show (an error code or exception class,
    never a request or response body).
    """

    def __init__(self, reason: str, *, retryable: bool = True, advice: str | None = None,
                 throttled: bool = False, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self._advice = advice
        self.throttled = throttled
        """The service said "slow down" (429, a throttling code), not "something broke"."""
        self.unreachable = unreachable
        """Nothing answered: the connection was refused or the host is unknown."""

    @property
    def advice(self) -> str:
        """What to do, for the end of a message."""
        if self._advice:
            return self._advice
        return ("Try again later." if self.retryable
                else "This will not pass by itself: run again with --debug and check the endpoint "
                     "and any proxy in between.")


def error_code(error: Any) -> tuple[str, int]:
    """The service error code and HTTP status of a botocore ``ClientError``."""
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


# The reasons SSO OIDC gives (AccessDeniedException, InvalidRequestException) when an IAM
# Identity Center instance encrypted with a customer managed KMS key cannot use that key.
_KMS_REASONS = {
    "KMS_AccessDeniedException": "the key policy does not let IAM Identity Center use it",
    "KMS_NotFoundException": "the key was not found (deleted, or in another account or region)",
    "KMS_InvalidKeyUsageException": "the key is not a symmetric encryption key",
    "KMS_InvalidStateException": "the key is not in a usable state (pending deletion or import)",
    "KMS_DisabledException": "the key is disabled",
}
KMS_ADVICE = ("Only an administrator of the IAM Identity Center instance can fix its KMS key; "
              "logging in again will not help.")


def kms_problem(error: Any) -> str | None:
    """For a botocore ``ClientError`` carrying one of SSO OIDC's KMS reasons: what is wrong, as
    ``Code (Reason): the instance's customer managed KMS key ...``; else None."""
    response = getattr(error, "response", None) or {}
    reason = response.get("reason")
    if not isinstance(reason, str) or not reason.startswith("KMS_"):
        return None
    what = _KMS_REASONS.get(reason, "IAM Identity Center cannot use it")
    return (f"{error_code(error)[0] or 'error'} ({reason}): the customer managed KMS key of the "
            f"IAM Identity Center instance cannot be used: {what}")


def call(operation: Callable[..., _T], /, *, refusals: Collection[str] = (), **params: Any) -> _T:
    """``operation(**params)``, with failures classified.

    A service error whose code is in ``refusals`` (and whose status is below
    500) raises :class:`ServiceRefused`; every other service error, a network
    failure or a botocore error raises :class:`TransientServiceError` with a
    short reason safe to show (never a request or response body).
    """
    import botocore.exceptions

    from .exceptions import SSOProviderError

    try:
        return operation(**params)
    except SSOProviderError:
        raise  # a certificate or a proxy (NetworkError): already said, and not transient
    except botocore.exceptions.ClientError as error:
        code, status = error_code(error)
        kms = kms_problem(error)
        if kms is not None:  # not the token's fault, nor passing by itself: say what it is
            raise TransientServiceError(kms, retryable=False, advice=KMS_ADVICE) from None
        if code in refusals and status < 500:
            raise ServiceRefused(code, status) from None
        # 4xx other than throttling will not pass by waiting (414, 413, 400 from a proxy...).
        throttled = status == 429 or code in THROTTLE_CODES or "Throttl" in code
        retryable = throttled or status >= 500 or status in (0, 408)
        raise TransientServiceError(f"{code or 'error'} (HTTP {status})", retryable=retryable,
                                    throttled=throttled) from None
    except (botocore.exceptions.BotoCoreError, OSError) as error:
        # Nothing answers at that address (refused, no such host), after botocore's own retries:
        # waiting longer (a listing's backoff) will not make it answer.
        unreachable = isinstance(error, botocore.exceptions.EndpointConnectionError)
        raise TransientServiceError(
            f"{type(error).__name__}{_endpoint_note(operation, error)}", retryable=not unreachable,
            advice=UNREACHABLE_ADVICE if unreachable else None, unreachable=unreachable) from None


UNREACHABLE_ADVICE = "Check that this endpoint is the right one and reachable from here, then try again."


def _endpoint_note(operation: Any, error: BaseException) -> str:
    """`` reaching URL (from WHERE)`` for a network failure: which endpoint, set where."""
    import botocore.exceptions

    if not isinstance(error, (botocore.exceptions.EndpointConnectionError,
                              botocore.exceptions.ConnectTimeoutError,
                              botocore.exceptions.ReadTimeoutError,
                              botocore.exceptions.ConnectionClosedError)):
        return ""
    meta: Any = getattr(getattr(operation, "__self__", None), "meta", None)
    url = getattr(meta, "endpoint_url", None)
    if meta is None or not url:
        return ""
    return f" reaching {url} ({endpoint_source(meta.service_model.service_id.hyphenize())})"


_DEFAULT_SOURCE = "the AWS default for the region, or endpoint_url in the AWS config"


def endpoint_source(service: str, environ: Mapping[str, str] | None = None) -> str:
    """Where botocore took the endpoint of ``service`` (``sso-oidc``, ``sso``) from, for messages."""
    environ = os.environ if environ is None else environ
    specific = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")
    for name in (specific, "AWS_ENDPOINT_URL"):
        if environ.get(name):
            return f"set by {name}"
    return _DEFAULT_SOURCE


def unreachable_message(url: str, environ: Mapping[str, str] | None = None) -> str:
    """The line for a botocore ``EndpointConnectionError`` at ``url`` (a call made outside
    :func:`call`): the URL, the variable that set it (else the default), what to do."""
    environ = os.environ if environ is None else environ
    source = next((f"set by {name}" for name in ("AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_SSO",
                                                  "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL")
                   if environ.get(name) and url.startswith(environ[name].rstrip("/"))),
                  _DEFAULT_SOURCE)
    return f"Could not connect to {url} ({source}). {UNREACHABLE_ADVICE}"


UNAUTHORIZED = "UnauthorizedException"
"""The SSO portal's answer to a revoked, logged-out or expired access token."""


def renew_once(get_token: Callable[[str | None], str], use: Callable[[str], _T], *,
               gave_up: Callable[[], Exception]) -> _T:
    """``use(token)``; if the portal refuses the token, renew it once and retry once.

    ``get_token(rejected)`` returns an access token other than ``rejected``
    (None the first time). ``use`` raises :class:`ServiceRefused` with code
    :data:`UNAUTHORIZED` for a refused token (list it in ``refusals``). A
    second refusal raises ``gave_up()``.
    """
    token = get_token(None)
    try:
        return use(token)
    except ServiceRefused as error:
        if error.code != UNAUTHORIZED:
            raise
    token = get_token(token)
    try:
        return use(token)
    except ServiceRefused as error:
        if error.code != UNAUTHORIZED:
            raise
        raise gave_up() from None
