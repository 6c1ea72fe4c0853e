"""Step 7 of the flow: role credentials over HTTP, as a container-credentials endpoint.

Every AWS SDK can take refreshing credentials from an HTTP endpoint: it reads
``AWS_CONTAINER_CREDENTIALS_FULL_URI``, sends a ``GET`` with the value of
``AWS_CONTAINER_AUTHORIZATION_TOKEN`` as its ``Authorization`` header, and
refreshes from the same URL before the credentials expire (botocore's
``ContainerProvider``, the JavaScript SDK's ``fromHttp``, the Go, Java and
Rust SDKs' container providers). :class:`CredentialsEndpoint` is such an
endpoint for one profile's role credentials; ``boto-sso-oidc serve`` and
``boto-sso-oidc exec`` run it.

The protocol, as the SDKs expect it (the ECS container-credentials format)::

    GET <path>  Authorization: <token>
    200 {"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ...,
         "Expiration": "2026-11-23T12:00:00Z", "AccountId": ...}

Errors are JSON ``{"Code": ..., "Message": ...}``: 401 without an
``Authorization`` header, 403 with a wrong one (both before anything else
is looked at, so a client without the token learns nothing, not even which
paths exist), 400 malformed, 404 any other path, 405 any method but GET, 413
a request with a body, 431 a request head over ``max_request_bytes``, 408 a
request not complete within ``request_timeout``, 424 when credentials need
something only a person can do (``SSOLoginRequired``: the message names the
login command; ``RoleCredentialsError``, ``SSOConfigError``), 503 when the
SSO portal cannot be reached or every connection slot is busy, 500 for
anything unexpected (logged, never a traceback to the client). 4xx, so
that the JavaScript SDK passes ``Code`` and ``Message`` on; botocore shows
the whole body of any error.

Which URLs the SDKs accept over plain http: botocore any loopback address,
``localhost``, 169.254.170.2, 169.254.170.23 and fd00:ec2::23; the JS SDK's
``fromHttp`` 127.0.0.0/8, ``[::1]``, ``localhost`` and the same link-local
hosts (its older ``fromContainerMetadata`` only ``localhost`` and
127.0.0.1). So the endpoint listens on 127.0.0.1 unless told otherwise.

Freshness, single flight, back-off after failures and the logout rule are
:class:`~boto_sso_oidc_provider.servers._source.ServedCredentials`'s, shared
with the instance-metadata endpoint: credentials are served only with more
than ``refresh_margin`` seconds left (default 15 minutes), renewed through
``get_credentials`` (for the CLI, the locked, shared role-credential cache),
and ``peek`` (what that cache holds now) decides whether those in memory still
stand. Several profiles can be served at once, one path each (``routes``).

Hardening is the shared HTTP front's (:mod:`boto_sso_oidc_provider.servers._http`):
slots only for complete heads, short deadlines, strict parsing, escaped logs;
and here: no request bodies, the token compared in constant time, nothing
secret in the log (only method, path, status and the client's address; never
headers). :meth:`CredentialsEndpoint.shutdown` lets a renewal in progress
finish, its cache write included (at most :data:`RENEWAL_BOUND` seconds).
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._clock import Clock, format_timestamp, utc_now
from ..caches._freshness import REFRESH_WINDOW
from ._http import HTTPFront, Network, Refusal, Request, Response, check_timeout
from ._source import RENEWAL_BOUND, Endpoint, ServedCredentials

if TYPE_CHECKING:  # pragma: no cover
    from ..credentials.role_credentials import RoleCredentials

__all__ = ["CredentialsEndpoint", "DEFAULT_PATH", "FULL_URI_VARIABLE",
           "RENEWAL_BOUND", "TOKEN_FILE_VARIABLE", "TOKEN_VARIABLE", "Source", "credentials_body",
           "new_token"]

logger = logging.getLogger(__name__)

FULL_URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
TOKEN_FILE_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
DEFAULT_PATH = "/role-credentials"

Source = tuple[Callable[[], "RoleCredentials"], Callable[[], "RoleCredentials | None"] | None]
"""``(get, peek)``: renew-if-needed, and what the shared cache holds now (None: not known)."""


def new_token() -> str:
    """A fresh random bearer token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def credentials_body(credentials: RoleCredentials) -> bytes:
    """The ECS/IMDS credentials document (the same fields in both protocols)."""
    body: dict[str, Any] = {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "Token": credentials.session_token,
        "Expiration": format_timestamp(credentials.expiration),
    }
    if credentials.account_id:
        body["AccountId"] = credentials.account_id
    return json.dumps(body).encode()


class CredentialsEndpoint(Endpoint):
    """A container-credentials endpoint serving what ``get_credentials`` returns at ``path``.

    ``get_credentials`` returns :class:`RoleCredentials` (renewing them if
    needed) or raises; it is called only when the credentials in memory have
    no more than ``refresh_margin`` seconds left (or ``peek`` no longer shows
    them), by one thread at a time. ``allow``: the client networks served
    (None: all). ``routes`` serves more sources, one path
    each (``{"/role-credentials/ops": (get, peek)}``); ``get_credentials``
    may then be None. Binding happens in the constructor (``port`` 0 picks a
    free port), so :attr:`url` is known before serving; raises
    :class:`OSError` when the address cannot be bound and :class:`ValueError`
    for a bad path, token or timeout. ``token`` defaults to a new random one.
    """

    def __init__(
        self,
        get_credentials: Callable[[], RoleCredentials] | None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = DEFAULT_PATH,
        token: str | None = None,
        refresh_margin: float = REFRESH_WINDOW,
        clock: Clock = utc_now,
        request_timeout: float = 5.0,
        max_request_bytes: int = 8192,
        max_connections: int = 100,
        peek: Callable[[], RoleCredentials | None] | None = None,
        routes: Mapping[str, Source] | None = None,
        name: str = "",
        allow: Sequence[Network] | None = None,
        names: Sequence[str] = (),
    ) -> None:
        sources: dict[str, Source] = {}
        if get_credentials is not None:
            sources[path] = (get_credentials, peek)
        sources.update(routes or {})
        if not sources or not all(route.startswith("/") for route in sources):
            raise ValueError("serve at least one path, each starting with '/'")
        self.token = token or new_token()
        if "\r" in self.token or "\n" in self.token or not self.token.isascii() or not self.token.strip():
            raise ValueError("the token must be ASCII text on one line")
        self._token = self.token.strip().encode("ascii")
        self.path = next(iter(sources))
        self.request_timeout = check_timeout(request_timeout)
        self.max_request_bytes = max_request_bytes
        self._routes = {route: ServedCredentials(get, peek=peek_route, margin=refresh_margin, clock=clock,
                                                 name=name if route == path else route.rsplit("/", 1)[-1])
                        for route, (get, peek_route) in sources.items()}
        self._front = HTTPFront(self, host=host, port=port, request_timeout=self.request_timeout,
                                max_head_bytes=max_request_bytes, max_connections=max_connections,
                                allow=allow, names=names, logger=logger, name="credentials-endpoint")
        self.host = host
        self.port: int = self._front.port
        self.base_url = f"http://{url_host(host)}:{self.port}"
        self.url = self.base_url + self.path

    def __repr__(self) -> str:  # never the token
        return f"CredentialsEndpoint({self.url!r})"

    def url_of(self, path: str) -> str:
        return self.base_url + path

    def environment(self, path: str | None = None) -> dict[str, str]:
        """The two variables that point an SDK at this endpoint (at ``path``, default the first)."""
        return {FULL_URI_VARIABLE: self.url_of(path or self.path), TOKEN_VARIABLE: self.token}

    def _served(self) -> Iterable[ServedCredentials]:
        return self._routes.values()

    # -- the application -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        self._authorize(request)
        route = self._routes.get(request.path)
        if route is None:
            raise Refusal(404, "NotFound", f"There is nothing at {request.path[:100]}.")
        if request.method != "GET":
            raise Refusal(405, "MethodNotAllowed", "Only GET is served.", {"Allow": "GET"})
        if request.has_body:
            raise Refusal(413, "RequestTooLarge", "Requests to this endpoint have no body.")
        return Response(200, credentials_body(route.get(request.deadline)))

    def _authorize(self, request: Request) -> None:
        values = [value for value in request.headers.get_all("Authorization") if value.strip()]
        if not values:
            raise Refusal(401, "MissingAuthorization",
                          "Send the token as the Authorization header (the SDKs do, from "
                          f"{TOKEN_VARIABLE} or {TOKEN_FILE_VARIABLE}).")
        if len(values) > 1:
            raise Refusal(400, "MalformedRequest", "More than one Authorization header.")
        presented = values[0].strip().encode("latin-1")
        if not hmac.compare_digest(presented, self._token):
            raise Refusal(403, "InvalidAuthorization",
                          "The Authorization header is not this endpoint's token.")


def url_host(host: str) -> str:
    """How a client on this machine names ``host`` in a URL (all interfaces: the loopback one)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
