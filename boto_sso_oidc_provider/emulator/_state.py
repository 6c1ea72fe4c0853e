"""Everything the emulator remembers, behind one lock, with time from one clock.

Records (registrations, device authorizations, authorization codes, SSO
sessions, tokens, role credentials) are plain dataclasses whose ``repr`` never
shows a secret. The services read and change them only while holding
:attr:`EmulatorState.lock` (a re-entrant lock), so a check and the change it
decides (say, a refresh token's rotation) happen as one step.

Lifetimes: an access token lives ``access_token_ttl`` but never past its SSO
session; a refresh token lives as long as its SSO session
(``refresh_token_ttl`` from the login), and its rotated successors keep that
expiry. Logout ends the session: every access and refresh token of it stops
working. Role credentials are not revoked by Logout (as in AWS); they expire
on their own.
"""

from __future__ import annotations

import datetime as _dt
import secrets
import string
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from ._config import EmulatorConfig
from ._directory import Directory
from ._throttle import RATE_LIMITED_OPERATIONS, Throttle

OPERATIONS: tuple[str, ...] = (
    "RegisterClient",
    "StartDeviceAuthorization",
    "CreateToken",
    "GetRoleCredentials",
    "ListAccounts",
    "ListAccountRoles",
    "Logout",
    "GetCallerIdentity",
    "AssumeRole",
    "GetSigninToken",
    "ConsoleLogin",
    "TokenReview",
)

GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_REFRESH_TOKEN = "refresh_token"
GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_TYPES: tuple[str, ...] = (GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN, GRANT_AUTHORIZATION_CODE)
# What a registration without ``grantTypes`` (as botocore and the AWS CLI v1 make) may use.
LEGACY_GRANT_TYPES: tuple[str, ...] = (GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN)

EXPIRABLE: tuple[str, ...] = (
    "access_tokens",
    "refresh_tokens",
    "role_credentials",
    "registrations",
    "device_codes",
    "authorization_codes",
)

# RFC 8628 section 6.1: no vowels (no words), no look-alike characters.
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
_UPPER_DIGITS = string.ascii_uppercase + string.digits

DeviceStatus = Literal["pending", "approved", "denied", "redeemed"]


def _random_text(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _opaque(prefix: str, nbytes: int = 48) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def normalize_user_code(text: str) -> str:
    """``abcd efgh`` or ``ABCDEFGH`` -> ``ABCD-EFGH``, as a person might type it."""
    letters = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else letters


@dataclass
class Registration:
    """A client registered with RegisterClient."""

    client_id: str
    client_secret: str = field(repr=False)
    client_name: str
    client_type: str
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    issuer_url: str | None
    issued_at: _dt.datetime
    expires_at: _dt.datetime

    def allows(self, grant_type: str) -> bool:
        """Whether this client may use ``grant_type``.

        A registration that named no grant types gets the device code and
        refresh token grants, which is what botocore's registration expects.
        """
        return grant_type in (self.grant_types or LEGACY_GRANT_TYPES)

    @property
    def issues_refresh_tokens(self) -> bool:
        """The emulator's rule: a refresh token comes with every token of a client
        registered with scopes or with the ``refresh_token`` grant type (a legacy
        registration without scopes gets access tokens only, as in AWS)."""
        return bool(self.scopes) or GRANT_REFRESH_TOKEN in self.grant_types


@dataclass
class DeviceAuthorization:
    """A StartDeviceAuthorization waiting for, or past, the user's decision."""

    device_code: str = field(repr=False)
    user_code: str
    client_id: str
    start_url: str
    scopes: tuple[str, ...]
    expires_at: _dt.datetime
    interval: int
    status: DeviceStatus = "pending"
    polls: int = 0
    last_poll_at: _dt.datetime | None = None


@dataclass
class AuthorizationCode:
    """A code issued by ``/authorize`` for the authorization code grant with PKCE."""

    code: str = field(repr=False)
    client_id: str
    redirect_uri: str
    code_challenge: str
    scopes: tuple[str, ...]
    expires_at: _dt.datetime
    used: bool = False


@dataclass
class SsoSession:
    """One sign-in: what every access and refresh token of it belongs to."""

    session_id: str
    client_id: str
    start_url: str | None
    scopes: tuple[str, ...]
    expires_at: _dt.datetime
    ended: bool = False


@dataclass
class AccessToken:
    token: str = field(repr=False)
    session_id: str
    expires_at: _dt.datetime


@dataclass
class RefreshToken:
    token: str = field(repr=False)
    session_id: str
    client_id: str
    expires_at: _dt.datetime
    used: bool = False


@dataclass
class IssuedCredentials:
    """Credentials the emulator gave out (GetRoleCredentials or AssumeRole)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expires_at: _dt.datetime
    account_id: str
    arn: str
    user_id: str
    chained: bool = False
    """Issued by AssumeRole to role credentials (role chaining): the federation endpoint refuses
    a SessionDuration for them, and their console session lasts one hour."""


@dataclass
class Fault:
    """An injected failure or delay for the next ``count`` calls of ``operation``; with
    ``hold``, each such call first waits until :meth:`EmulatorState.release` (at most
    :data:`HOLD_LIMIT` seconds), so a test knows the request is in flight for as long as it likes."""

    operation: str
    error: str | None = None
    delay: float | None = None
    count: int = 1
    grant_type: str | None = None
    reason: str | None = None
    """The ``reason`` member of an SSO OIDC error (the KMS reasons, see ``_oidc.REASONS``)."""
    hold: bool = False


HOLD_LIMIT = 60.0  # seconds: a held request must not keep a server thread for ever


class _Expiring(Protocol):
    expires_at: _dt.datetime


class EmulatorState:
    """The emulator's memory. Every read or change of a record holds :attr:`lock`."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.directory = self.config.directory
        self.lock = threading.RLock()
        unknown = sorted(set(self.config.rate_limits) - set(RATE_LIMITED_OPERATIONS))
        if unknown:
            raise ValueError(f"cannot rate-limit {unknown[0]}: the rate-limited operations are "
                             f"{', '.join(RATE_LIMITED_OPERATIONS)}")
        self.throttle = Throttle(self.config.rate_limits)
        self._holds = threading.Condition(threading.Lock())
        self._held = 0
        self._release_generation = 0
        self._clear()

    def _clear(self) -> None:
        self.registrations: dict[str, Registration] = {}
        self.device_authorizations: dict[str, DeviceAuthorization] = {}
        self.authorization_codes: dict[str, AuthorizationCode] = {}
        self.sessions: dict[str, SsoSession] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.credentials: dict[str, IssuedCredentials] = {}
        self.signin_tokens: dict[str, Any] = {}  # token -> _federation.SigninToken
        self.faults: list[Fault] = []
        self._operations: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()
        self._grants: Counter[str] = Counter()

    # -- time ---------------------------------------------------------------

    def now(self) -> _dt.datetime:
        """The current time from the configured clock (aware UTC)."""
        return self.config.clock()

    def expiry(self, seconds: float) -> _dt.datetime:
        return self.now() + _dt.timedelta(seconds=seconds)

    def alive(self, expires_at: _dt.datetime) -> bool:
        return self.now() < expires_at

    # -- counters and faults ------------------------------------------------

    def count(self, operation: str, grant_type: str | None = None) -> None:
        """Count one request received for ``operation`` (and a CreateToken grant type)."""
        with self.lock:
            self._operations[operation] += 1
            if grant_type is not None:
                self._grants[grant_type[:200]] += 1

    def calls(self) -> dict[str, dict[str, int]]:
        """Requests received so far: every operation and known grant type, 0 if none, and how
        many of each operation's requests were throttled (answered over its rate limit)."""
        with self.lock:
            grants = {grant: 0 for grant in GRANT_TYPES}
            grants.update(self._grants)
            return {
                "operations": {op: self._operations[op] for op in OPERATIONS},
                "grants": grants,
                "throttled": {op: self._throttled[op] for op in OPERATIONS},
            }

    def admit(self, operation: str) -> bool:
        """Whether a request of ``operation`` is within its rate limit now (counted if not)."""
        if self.throttle.allows(operation):
            return True
        with self.lock:
            self._throttled[operation] += 1
        return False

    def set_directory(self, directory: Directory) -> None:
        """Serve ``directory`` from now on (an organization that changed: accounts or roles
        added or removed). Tokens and credentials already issued stay valid."""
        with self.lock:
            self.directory = directory

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, operation: str, grant_type: str | None = None) -> Fault | None:
        """Use up one call of the first queued fault for this operation (and grant type)."""
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.operation != operation:
                    continue
                if fault.grant_type is not None and fault.grant_type != grant_type:
                    continue
                fault.count -= 1
                if fault.count <= 0:
                    del self.faults[index]
                return replace(fault, count=1)
            return None

    # -- control ------------------------------------------------------------

    def expire(self, what: str) -> int:
        """Make every record of one kind (one of :data:`EXPIRABLE`) expired now.

        Returns how many records changed; raises :class:`ValueError` for an
        unknown kind.
        """
        with self.lock:
            now = self.now()
            records: list[_Expiring]
            if what == "access_tokens":
                records = list(self.access_tokens.values())
            elif what == "refresh_tokens":
                # The refresh tokens live as long as the session: end both together.
                records = [*self.refresh_tokens.values(), *self.sessions.values()]
            elif what == "role_credentials":
                records = list(self.credentials.values())
            elif what == "registrations":
                records = list(self.registrations.values())
            elif what == "device_codes":
                records = list(self.device_authorizations.values())
            elif what == "authorization_codes":
                records = list(self.authorization_codes.values())
            else:
                raise ValueError(f"what must be one of {', '.join(EXPIRABLE)}")
            changed = 0
            for record in records:
                if record.expires_at > now:
                    record.expires_at = now
                    changed += 1
            return changed

    def reset(self) -> None:
        """Forget every token, registration, fault and counter (the directory stays); held
        requests go on."""
        with self.lock:
            self._clear()
        self.release()

    # -- held requests ------------------------------------------------------

    def hold(self) -> None:
        """Keep the calling request here until :meth:`release` (or :data:`HOLD_LIMIT` seconds)."""
        with self._holds:
            generation = self._release_generation
            self._held += 1
            self._holds.notify_all()
            try:
                self._holds.wait_for(lambda: self._release_generation != generation, HOLD_LIMIT)
            finally:
                self._held -= 1
                self._holds.notify_all()

    def held(self) -> int:
        """How many requests are being held now."""
        with self._holds:
            return self._held

    def wait_held(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` requests are held; False if ``timeout`` passed first."""
        with self._holds:
            return self._holds.wait_for(lambda: self._held >= count, timeout)

    def release(self) -> int:
        """Let every held request go on; returns how many were held."""
        with self._holds:
            released = self._held
            self._release_generation += 1
            self._holds.notify_all()
            return released

    # -- OIDC records -------------------------------------------------------

    def register_client(
        self,
        *,
        client_name: str,
        client_type: str,
        scopes: tuple[str, ...],
        grant_types: tuple[str, ...],
        redirect_uris: tuple[str, ...],
        issuer_url: str | None,
    ) -> Registration:
        with self.lock:
            registration = Registration(
                client_id=_opaque("emu-client-", 16),
                client_secret=_opaque("emu-secret-", 48),
                client_name=client_name,
                client_type=client_type,
                scopes=scopes,
                grant_types=grant_types,
                redirect_uris=redirect_uris,
                issuer_url=issuer_url,
                issued_at=self.now(),
                expires_at=self.expiry(self.config.registration_ttl),
            )
            self.registrations[registration.client_id] = registration
            return registration

    def start_device_authorization(
        self, registration: Registration, start_url: str
    ) -> DeviceAuthorization:
        with self.lock:
            taken = {auth.user_code for auth in self.device_authorizations.values()}
            user_code = normalize_user_code(_random_text(_USER_CODE_ALPHABET, 8))
            while user_code in taken:  # 20**8 codes: a retry is already rare
                user_code = normalize_user_code(_random_text(_USER_CODE_ALPHABET, 8))
            authorization = DeviceAuthorization(
                device_code=_opaque("emu-device-", 32),
                user_code=user_code,
                client_id=registration.client_id,
                start_url=start_url,
                scopes=registration.scopes,
                expires_at=self.expiry(self.config.device_code_ttl),
                interval=int(self.config.interval),
            )
            self.device_authorizations[authorization.device_code] = authorization
            return authorization

    def device_authorization_for(self, user_code: str) -> DeviceAuthorization | None:
        """The authorization with this user code (any spelling a person may type)."""
        wanted = normalize_user_code(user_code)
        with self.lock:
            for authorization in self.device_authorizations.values():
                if authorization.user_code == wanted:
                    return authorization
            return None

    def decide(self, user_code: str, approve: bool) -> DeviceAuthorization | None:
        """Approve or deny a pending, unexpired device authorization.

        Returns the authorization (its ``status`` says what it is now) or
        ``None`` when no authorization has this user code. Only a pending,
        unexpired one changes; the caller reads the status to tell.
        """
        with self.lock:
            authorization = self.device_authorization_for(user_code)
            if authorization is None:
                return None
            if authorization.status == "pending" and self.alive(authorization.expires_at):
                authorization.status = "approved" if approve else "denied"
            return authorization

    def pending_user_codes(self) -> list[str]:
        """User codes of unexpired device authorizations still waiting for a decision."""
        with self.lock:
            return [
                auth.user_code for auth in self.device_authorizations.values()
                if auth.status == "pending" and self.alive(auth.expires_at)
            ]

    def issue_authorization_code(
        self, registration: Registration, redirect_uri: str, code_challenge: str,
        scopes: tuple[str, ...],
    ) -> AuthorizationCode:
        with self.lock:
            code = AuthorizationCode(
                code=_opaque("emu-code-", 32),
                client_id=registration.client_id,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                scopes=scopes,
                expires_at=self.expiry(self.config.authorization_code_ttl),
            )
            self.authorization_codes[code.code] = code
            return code

    # -- sessions and tokens ------------------------------------------------

    def start_session(
        self, registration: Registration, start_url: str | None, scopes: tuple[str, ...]
    ) -> SsoSession:
        """A new SSO session for the directory's user, signed in through ``registration``."""
        with self.lock:
            session = SsoSession(
                session_id=_opaque("emu-session-", 12),
                client_id=registration.client_id,
                start_url=start_url,
                scopes=scopes,
                expires_at=self.expiry(self.config.refresh_token_ttl),
            )
            self.sessions[session.session_id] = session
            return session

    def issue_tokens(
        self, session: SsoSession, registration: Registration, refresh_expires_at: _dt.datetime
    ) -> tuple[AccessToken, RefreshToken | None]:
        """A new access token in ``session`` and, when the client gets them, a refresh token."""
        with self.lock:
            access = AccessToken(
                token=_opaque("aoa"),
                session_id=session.session_id,
                expires_at=min(self.expiry(self.config.access_token_ttl), session.expires_at),
            )
            self.access_tokens[access.token] = access
            refresh = None
            if registration.issues_refresh_tokens:
                refresh = RefreshToken(
                    token=_opaque("aor", 64),
                    session_id=session.session_id,
                    client_id=registration.client_id,
                    expires_at=refresh_expires_at,
                )
                self.refresh_tokens[refresh.token] = refresh
            return access, refresh

    def session_of(self, access_token: str) -> SsoSession | None:
        """The live session of a valid access token; ``None`` if unknown, expired or ended."""
        with self.lock:
            access = self.access_tokens.get(access_token)
            if access is None or not self.alive(access.expires_at):
                return None
            session = self.sessions.get(access.session_id)
            if session is None or session.ended:
                return None
            return session

    def end_session(self, session: SsoSession) -> None:
        """Log out: the session's access and refresh tokens stop working."""
        with self.lock:
            session.ended = True

    # -- AWS credentials ----------------------------------------------------

    def issue_credentials(
        self, *, account_id: str, arn: str, user_id: str, ttl: float, chained: bool = False
    ) -> IssuedCredentials:
        with self.lock:
            credentials = IssuedCredentials(
                access_key_id="ASIA" + _random_text(_UPPER_DIGITS, 16),
                secret_access_key=secrets.token_urlsafe(30)[:40],
                session_token=_opaque("IQoJb3JpZ2luX2VtdQ", 96),
                expires_at=self.expiry(ttl),
                account_id=account_id,
                arn=arn,
                user_id=user_id,
                chained=chained,
            )
            self.credentials[credentials.access_key_id] = credentials
            return credentials
