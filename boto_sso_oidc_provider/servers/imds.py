"""Step 7 of the flow: role credentials over HTTP, as an instance-metadata (IMDSv2) endpoint.

The SDKs accept a plain-http container-credentials URL only on loopback and a
few link-local addresses, so a container on Docker Desktop, in a devcontainer,
under WSL2 or Podman cannot reach ``serve``'s container endpoint on the host.
They accept an instance-metadata endpoint anywhere
(``AWS_EC2_METADATA_SERVICE_ENDPOINT``; botocore's ``InstanceMetadataFetcher``,
the JavaScript SDK's ``fromInstanceMetadata``, and every other SDK's EC2 role
provider). :class:`InstanceMetadataEndpoint` is that endpoint for one
profile's credentials; ``boto-sso-oidc serve --imds`` runs it.

The protocol, as the SDKs use it (IMDSv2 only)::

    PUT /latest/api/token   X-aws-ec2-metadata-token-ttl-seconds: 1..21600
        200 <session token>  (the same TTL header back)
    GET /latest/meta-data/iam/security-credentials/          X-aws-ec2-metadata-token: <token>
        200 <role name>
    GET /latest/meta-data/iam/security-credentials/<name>    X-aws-ec2-metadata-token: <token>
        200 {"Code": "Success", "LastUpdated": ..., "Type": "AWS-HMAC", "AccessKeyId": ...,
             "SecretAccessKey": ..., "Token": ..., "Expiration": ..., "AccountId": ...}
    GET /latest/meta-data/placement/availability-zone        <region>a  (botocore's IMDS region)
    GET /latest/meta-data/placement/region                   <region>
    GET /latest/dynamic/instance-identity/document           {"region": ..., "accountId": ...}

As IMDS does: a ``GET`` without a valid, unexpired session token is 401 (an
SDK then fetches a new token; IMDSv1 is not served), a token ``PUT`` without
the TTL header or with a TTL outside 1..21600 is 400, and any request carrying
``X-Forwarded-For`` is 403 (IMDS refuses what a proxy relays). Other paths
are 404, other methods 405, bodies 413. Credential failures are
:class:`~boto_sso_oidc_provider.servers._source.ServedCredentials`'s (424 a
login needed, 503 the portal unreachable, with ``Retry-After``), with a JSON
``{"Code", "Message"}`` body; single flight, back-off and the logout rule are
the same as the container endpoint's, the freshness margin longer
(:data:`~..caches._freshness.IMDS_REFRESH_WINDOW`).

What it cannot do: IMDS has no caller authentication. The session token only
proves the caller can send a ``PUT`` (so a server-side request forgery that
only makes ``GET`` requests cannot read it); anything that reaches the port can
get a token and then the credentials. So it listens on 127.0.0.1 unless told
otherwise, and ``allow`` (``serve --allow``) limits which client networks
reach it at all (others get 403 before their request is read).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from .._clock import Clock, format_timestamp, utc_now
from ..caches._freshness import IMDS_REFRESH_WINDOW
from ._http import HTTPFront, Network, Refusal, Request, Response, check_timeout
from ._source import Endpoint, ServedCredentials
from .container import credentials_body, url_host

if TYPE_CHECKING:  # pragma: no cover
    from ..credentials.role_credentials import RoleCredentials

__all__ = ["ENDPOINT_VARIABLE", "InstanceMetadataEndpoint", "MAX_TOKEN_TTL"]

logger = logging.getLogger(__name__)

ENDPOINT_VARIABLE = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
TOKEN_PATH = "/latest/api/token"
CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
MAX_TOKEN_TTL = 21600
"""Six hours, IMDS's own limit (and what botocore and the JS SDK ask for)."""
_MAX_TOKENS = 10000  # live session tokens kept; the oldest goes first (an SDK fetches a new one on 401)


class _SessionTokens:
    """The session tokens handed out, with their expiry; bounded, oldest dropped first."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: collections.OrderedDict[str, dt.datetime] = collections.OrderedDict()

    def issue(self, ttl: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self._clock() + dt.timedelta(seconds=ttl)
            while len(self._tokens) > _MAX_TOKENS:
                self._tokens.popitem(last=False)
        return token

    def valid(self, presented: str) -> bool:
        now = self._clock()
        with self._lock:  # a dict lookup: hashing leaks nothing useful about a 256-bit random token
            expires = self._tokens.get(presented)
            if expires is None:
                return False
            if expires <= now:
                del self._tokens[presented]
                return False
            return True


class InstanceMetadataEndpoint(Endpoint):
    """An IMDSv2 endpoint serving what ``get_credentials`` returns under ``role_name``.

    ``get_credentials``/``peek`` as for
    :class:`~boto_sso_oidc_provider.servers.container.CredentialsEndpoint`;
    ``region`` (if known) answers the placement paths. ``allow``: the client
    networks served (None: every client that reaches the address). Binds in
    the constructor; raises :class:`OSError` when the address cannot be bound
    and :class:`ValueError` for a bad role name or timeout.
    """

    def __init__(
        self,
        get_credentials: Callable[[], RoleCredentials],
        *,
        role_name: str,
        region: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        refresh_margin: float = IMDS_REFRESH_WINDOW,
        clock: Clock = utc_now,
        request_timeout: float = 5.0,
        max_connections: int = 100,
        allow: Sequence[Network] | None = None,
        names: Sequence[str] = (),
        peek: Callable[[], RoleCredentials | None] | None = None,
        name: str = "",
    ) -> None:
        if not role_name or not all(ch.isalnum() or ch in "+=,.@_-" for ch in role_name):
            raise ValueError("the role name must be IAM name characters (letters, digits, +=,.@_-)")
        self.role_name = role_name
        self.region = region
        self._clock = clock
        self._tokens = _SessionTokens(clock)
        self._served_credentials = ServedCredentials(get_credentials, peek=peek, margin=refresh_margin,
                                                     clock=clock, name=name)
        self._front = HTTPFront(self, host=host, port=port, request_timeout=check_timeout(request_timeout),
                                max_connections=max_connections, allow=allow, names=names, logger=logger,
                                name="imds")
        self.host = host
        self.port: int = self._front.port
        self.url = f"http://{url_host(host)}:{self.port}/"

    def __repr__(self) -> str:
        return f"InstanceMetadataEndpoint({self.url!r})"

    def environment(self) -> dict[str, str]:
        """The variable that points an SDK at this endpoint."""
        return {ENDPOINT_VARIABLE: self.url}

    def _served(self) -> Iterable[ServedCredentials]:
        return [self._served_credentials]

    # -- the application -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if "X-Forwarded-For" in request.headers:
            raise Refusal(403, "Forbidden", "Requests relayed by a proxy (X-Forwarded-For) are refused.")
        if request.has_body:
            raise Refusal(413, "RequestTooLarge", "Requests to this endpoint have no body.")
        path = request.path
        if path == TOKEN_PATH:
            if request.method != "PUT":
                raise Refusal(405, "MethodNotAllowed", "Session tokens are made with PUT.", {"Allow": "PUT"})
            return self._new_token(request)
        if request.method != "GET":
            raise Refusal(405, "MethodNotAllowed", "Only GET is served here.", {"Allow": "GET"})
        presented = request.headers.get(TOKEN_HEADER)
        if not presented or not self._tokens.valid(presented.strip()):
            raise Refusal(401, "Unauthorized",
                          f"Send a valid session token as {TOKEN_HEADER} (PUT {TOKEN_PATH} gives one).")
        return self._metadata(path.rstrip("/") if path != "/" else path, request)

    def _new_token(self, request: Request) -> Response:
        value = (request.headers.get(TTL_HEADER) or "").strip()
        # ASCII digits only: "²" is a digit to str.isdigit and not a number to int()
        number = value.isascii() and value.isdigit() and len(value) <= 6
        if not number or not 1 <= int(value) <= MAX_TOKEN_TTL:
            raise Refusal(400, "BadRequest",
                          f"{TTL_HEADER} must be a number of seconds from 1 to {MAX_TOKEN_TTL}.")
        return Response(200, self._tokens.issue(int(value)).encode("ascii"), "text/plain",
                        {TTL_HEADER: value})

    def _metadata(self, path: str, request: Request) -> Response:
        if path == CREDENTIALS_PATH.rstrip("/"):
            return _text(self.role_name)
        if path == CREDENTIALS_PATH + self.role_name:
            credentials = self._served_credentials.get(request.deadline)
            body = {"Code": "Success", "LastUpdated": format_timestamp(self._clock()), "Type": "AWS-HMAC",
                    **json.loads(credentials_body(credentials))}
            return Response(200, json.dumps(body).encode(), "text/plain")
        if self.region is not None:
            if path == "/latest/meta-data/placement/availability-zone":
                return _text(self.region + "a")
            if path == "/latest/meta-data/placement/region":
                return _text(self.region)
            if path == "/latest/dynamic/instance-identity/document":
                credentials = self._served_credentials.get(request.deadline)
                document = {"region": self.region, "availabilityZone": self.region + "a",
                            "accountId": credentials.account_id}
                return Response(200, json.dumps(document).encode(), "text/plain")
        if path in ("/latest/meta-data", "/latest/meta-data/iam"):
            return _text("iam/\nplacement/" if path == "/latest/meta-data" else "security-credentials/")
        raise Refusal(404, "NotFound", "There is nothing at this path.")


def _text(value: str) -> Response:
    return Response(200, value.encode(), "text/plain")
