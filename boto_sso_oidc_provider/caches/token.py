"""Step 4 of the flow: the locked SSO token cache; load, refresh, log in, sign out.

The token lives where the AWS CLI v2 keeps it,
``~/.aws/sso/cache/<sha1 of the sso-session name>.json`` (legacy profiles:
sha1 of the start URL), in its format::

    {"startUrl": ..., "region": ..., "accessToken": ..., "expiresAt": "...Z",
     "clientId": ..., "clientSecret": ..., "registrationExpiresAt": "...Z",
     "refreshToken": ...}

Fields this code does not know are kept. botocore, boto3 and the AWS CLI read
the files this module writes, and this module reads theirs.

:meth:`TokenManager.get` is single-flight across threads and processes: a
token outside the refresh window is returned from a plain read; otherwise the
entry's lock is taken, the file read *again* (another process may have done
the work meanwhile), and only then is the token refreshed, or a login run, and
the result written. N callers that find the token expired make one
CreateToken call; N that need a login show one device authorization.

This module only refreshes a token that a login cached, or logs in when
allowed (:func:`login_allowed`); it never waits for a person who is not there.
The public operations built on it (``login``, ``load_token``, ``logout``) are
in :mod:`..sessions`.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._clients import ServiceRefused, TransientServiceError, call
from .._clock import Clock, after, format_timestamp, parse_timestamp, utc_now
from .._interrupts import deliver_dropped_signal, signals_unwrapped
from ..config.reader import SSOSessionConfig, login_command
from ..logins._interaction import LoginPrompt, login_allowed
from ..logins.registration import REFRESH_TOKEN_GRANT, Registration
from ..options import Options
from ._entry import CacheEntry, PreparedWrite
from ._freshness import REFRESH_WINDOW, Freshness, freshness
from ._layout import login_cooldown_file, login_record_file, sso_cache_dir

if TYPE_CHECKING:  # pragma: no cover
    from ..logins.device_authorization import TokenResponse

__all__ = ["SSOToken", "TokenManager"]

logger = logging.getLogger(__name__)

# CreateToken errors meaning the refresh token or the client is no longer any good:
# the SSO session ended, so only a new login helps, and the refresh token is forgotten.
_SESSION_ENDED = ("InvalidGrantException", "InvalidClientException",
                  "UnauthorizedClientException", "ExpiredTokenException",
                  "AccessDeniedException")
# Refusals that say nothing about the refresh token (a malformed request, a scope the
# service does not take): this refresh failed, but the token is kept for the next one.
_REFUSED_KEEP = ("InvalidRequestException", "InvalidScopeException")

_KNOWN_KEYS = frozenset({"startUrl", "region", "accessToken", "expiresAt", "clientId",
                         "clientSecret", "registrationExpiresAt", "refreshToken"})


@dataclass(frozen=True, repr=False)
class SSOToken:
    """An SSO OIDC access token as cached. Its repr never shows a secret."""

    access_token: str
    expires_at: _dt.datetime
    start_url: str
    region: str
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    registration_expires_at: _dt.datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        return (f"SSOToken(start_url={self.start_url!r}, region={self.region!r}, "
                f"expires_at={format_timestamp(self.expires_at)!r}, "
                f"refreshable={self.refresh_token is not None})")

    def seconds_left(self, clock: Clock = utc_now) -> float:
        return (self.expires_at - clock()).total_seconds()

    def freshness(self, clock: Clock = utc_now, window: float = REFRESH_WINDOW) -> Freshness:
        """FRESH, STALE (inside the refresh window) or EXPIRED (see :mod:`._freshness`)."""
        return freshness(self.expires_at.timestamp(), clock().timestamp(), window)

    def can_refresh(self, clock: Clock = utc_now) -> bool:
        """A refresh token and a registration that has not expired (botocore's rule)."""
        return bool(
            self.refresh_token and self.client_id and self.client_secret
            and self.registration_expires_at is not None
            and self.registration_expires_at > clock()
        )

    def to_cache(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update(startUrl=self.start_url, region=self.region, accessToken=self.access_token,
                    expiresAt=format_timestamp(self.expires_at))
        if self.client_id and self.client_secret:
            data.update(clientId=self.client_id, clientSecret=self.client_secret)
        if self.registration_expires_at is not None:
            data["registrationExpiresAt"] = format_timestamp(self.registration_expires_at)
        if self.refresh_token:
            data["refreshToken"] = self.refresh_token
        else:
            data.pop("refreshToken", None)
        return data

    @classmethod
    def from_cache(cls, data: Mapping[str, Any]) -> SSOToken | None:
        """Parse a cache file's content; None if it lacks what a token needs or is mistyped."""
        try:
            access_token = data["accessToken"]
            if not isinstance(access_token, str) or not access_token:
                return None
            expires_at = parse_timestamp(data["expiresAt"])
            registration_expiry = data.get("registrationExpiresAt")
            optional = {k: data.get(k) for k in ("refreshToken", "clientId", "clientSecret")}
            if any(v is not None and not isinstance(v, str) for v in optional.values()):
                return None
            token = cls(
                access_token=access_token,
                expires_at=expires_at,
                start_url=str(data.get("startUrl", "")),
                region=str(data.get("region", "")),
                refresh_token=optional["refreshToken"],
                client_id=optional["clientId"],
                client_secret=optional["clientSecret"],
                registration_expires_at=(parse_timestamp(registration_expiry)
                                         if registration_expiry is not None else None),
                extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
            )
        except (KeyError, TypeError, ValueError):
            return None
        from .. import _redaction

        _redaction.remember(token.access_token, token.refresh_token, token.client_secret)
        return token


class TokenManager:
    """The token of one sso-session (or legacy start URL), behind its lock.

    ``options`` say whether a login may start, how the person is prompted and
    which clients to use (see :class:`~..options.Options`). ``profile`` is the
    profile the session was reached through, if any: messages name it in the
    login command they give.
    """

    def __init__(self, sso: SSOSessionConfig, *, options: Options | None = None,
                 profile: str | None = None) -> None:
        from .. import _interrupts, _redaction

        _redaction.install()  # this process now handles this session's tokens
        _interrupts.keep_dropped_signals()  # and a signal must not vanish in a finalizer
        self.sso = sso
        self.options = options = options or Options()
        self.login_command = login_command(sso, profile)
        self.refresh_window = REFRESH_WINDOW
        self._clock = options.clock
        self._clients = options.clients(profile)
        self._open_browser = (sso.settings.open_browser if options.open_browser is None
                              else options.open_browser)
        self._environ = os.environ if options.environ is None else options.environ
        self.entry = CacheEntry(
            Path(sso_cache_dir()) / f"{sso.token_cache_key}.json",
            describe=f"SSO token of {sso.display_name}",
            lock_timeout=(sso.settings.lock_timeout if options.lock_timeout is None
                          else options.lock_timeout),
        )

        self._cooldown = CacheEntry(Path(login_cooldown_file(sso.token_cache_key)),
                                    describe=f"login cool-down record of {sso.display_name}")
        self._record = CacheEntry(Path(login_record_file(sso.token_cache_key)),
                                  describe=f"login record of {sso.display_name}")

    def __repr__(self) -> str:
        return f"TokenManager({self.sso.display_name})"

    # -- reading -------------------------------------------------------------------------------

    def cached(self) -> SSOToken | None:
        """The cached token as it is now, valid or not (no lock, no network)."""
        return self.entry.load(SSOToken.from_cache, "a usable SSO token")

    def _fresh(self, token: SSOToken | None, rejected: str | None) -> bool:
        return (token is not None and token.access_token != rejected
                and token.freshness(self._clock, self.refresh_window) is Freshness.FRESH)

    # -- the single-flight entry point ---------------------------------------------------------

    @signals_unwrapped
    def get(self, *, rejected_access_token: str | None = None) -> SSOToken:
        """A token with more than the refresh window left, refreshing or logging in as allowed.

        ``rejected_access_token`` is a token a service refused (revoked, logged
        out): it is not returned again, and the refresh is skipped if another
        process already replaced it. Raises :class:`SSOLoginRequiredError` when a
        login is needed but not allowed, the typed login errors, and
        :class:`SSOProviderError` when the service cannot be reached and no
        usable token is left.
        """
        token = self._get(rejected_access_token)
        deliver_dropped_signal()  # one that landed in a finalizer is raised here, not lost
        return token

    def _get(self, rejected_access_token: str | None) -> SSOToken:
        token = self.cached()
        if self._fresh(token, rejected_access_token):
            assert token is not None
            return token
        with self.entry.locked():
            token = self.cached()
            if self._fresh(token, rejected_access_token):
                assert token is not None
                logger.debug("Another process already renewed the token of %s", self.sso.display_name)
                return token
            rejected = token is not None and token.access_token == rejected_access_token
            if token is not None:
                renewed = self._renew(token, must=rejected)
                if renewed is not None:
                    return renewed
            if self._login_allowed():
                return self._automatic_login(token)
            if rejected and token is not None:
                # A service refused it: mark it expired, so other processes (and the AWS
                # CLI) stop presenting a revoked token and go straight to the login advice.
                # Re-read right before writing: _renew may just have dropped a dead refresh
                # token, and botocore or the AWS CLI (which never take our lock) may have
                # written a new token meanwhile, which must not be overwritten.
                current = self.cached()
                if current is not None and current.access_token == token.access_token:
                    self.entry.write(replace(current, expires_at=self._clock()).to_cache())
            raise self._login_required(token, rejected)

    @signals_unwrapped
    def login(self) -> SSOToken:
        """Always run a login (an explicit one) and cache the new token."""
        with self.entry.locked():
            self._cooldown.delete()  # a person asked: automatic logins may start again
            token = self._login_locked(previous=self.cached())
        deliver_dropped_signal()
        return token

    @signals_unwrapped
    def logout(self) -> bool:
        """Sign out with SSO Logout (best effort) and delete the cached token. True if one was cached."""
        with self.entry.locked():
            token = self.cached()
            if token is not None and token.freshness(self._clock).usable:
                self._sso_logout(token)
            self._record.delete()  # the session is over
            return self.entry.delete()

    # -- refresh -------------------------------------------------------------------------------

    def _renew(self, token: SSOToken, *, must: bool) -> SSOToken | None:
        """Refresh ``token`` if possible. Returns the token to use, or None when only a login helps.

        A still-valid token is returned unchanged when the refresh fails for a
        transient reason (throttling, 5xx, network) or cannot be saved, unless
        ``must`` (a service rejected it).
        """
        usable_as_is = not must and token.freshness(self._clock).usable
        if not token.can_refresh(self._clock):
            if usable_as_is:
                return token
            return None
        try:
            return self._refresh(token)
        except _SessionEnded:
            return self._forget_refresh_token(token, usable_as_is)
        except _RefreshRefused as refused:
            logger.warning("The SSO service refused to refresh the token of %s (%s); the refresh "
                           "token is kept.", self.sso.display_name, refused.code)
            return token if usable_as_is else None
        except TransientServiceError as error:
            if usable_as_is:
                logger.warning("Could not refresh the SSO token of %s (%s); using the current "
                               "token, valid for %d more seconds.", self.sso.display_name,
                               error.reason, token.seconds_left(self._clock))
                return token
            from ..exceptions import SSOProviderError

            raise SSOProviderError(
                f"Could not refresh the SSO token of {self.sso.display_name}: {error.reason}. "
                f"{error.advice}"
            ) from None
        except _CannotSave as unsaved:
            # Refreshing now would rotate the refresh token into memory only: keep the session.
            message = (f"Not refreshing the SSO token of {self.sso.display_name}: its cache file "
                       f"{self.entry.path} cannot be written ({unsaved.reason}), and a refresh "
                       "that cannot be saved would end the SSO session. Fix the file or "
                       "directory and try again")
            if usable_as_is:
                logger.warning("%s; using the current token, valid for %d more seconds.",
                               message, token.seconds_left(self._clock))
                return token
            from ..exceptions import SSOProviderError

            raise SSOProviderError(message + ".") from None

    def _forget_refresh_token(self, token: SSOToken, usable_as_is: bool) -> SSOToken | None:
        """The refresh token was refused for good: forget it so later calls go straight to
        login, unless someone else (botocore, the AWS CLI, another process) wrote a newer
        token meanwhile; that one is used, never overwritten."""
        current = self.cached()  # re-read right before writing: botocore takes no lock
        if current is not None and (current.refresh_token, current.access_token) != (
                token.refresh_token, token.access_token):
            logger.info("Another program renewed the token of %s meanwhile", self.sso.display_name)
            return current if current.freshness(self._clock).usable else None
        token = replace(current or token, refresh_token=None)
        self.entry.write(token.to_cache())
        self._record.delete()  # the session is over: its record says nothing any more
        if usable_as_is and token.freshness(self._clock).usable:
            logger.warning("The SSO session of %s has ended; its last access token is valid "
                           "for %d more seconds. Log in again: %s", self.sso.display_name,
                           token.seconds_left(self._clock), self.login_command)
            return token
        return None

    def _refresh(self, token: SSOToken) -> SSOToken:
        """CreateToken with the refresh token, and the new token saved before anything else.

        The write is prepared first (:class:`_CannotSave` if it cannot be, and then no
        request is sent), and the request-and-write runs to completion even if Ctrl-C or an
        application's SIGTERM exception arrives meanwhile (re-raised afterwards).
        """
        from .._interrupts import run_to_completion

        client = self._oidc()  # made first: the critical section is the request and the write
        try:
            pending = self.entry.prepared_write()
        except OSError as error:
            raise _CannotSave(error.strerror or type(error).__name__) from None
        with pending:
            return run_to_completion(
                lambda cancelled: self._refresh_and_save(client, token, pending),
                notice=f"Saving the refreshed SSO token of {self.sso.display_name} before stopping",
            )

    def _refresh_and_save(self, client: Any, token: SSOToken, pending: PreparedWrite) -> SSOToken:
        try:
            response = call(
                client.create_token,
                refusals=_SESSION_ENDED + _REFUSED_KEEP,
                grantType=REFRESH_TOKEN_GRANT,
                clientId=token.client_id,
                clientSecret=token.client_secret,
                refreshToken=token.refresh_token,
            )
        except ServiceRefused as refused:
            if refused.code in _REFUSED_KEEP:
                raise _RefreshRefused(refused.code) from None
            logger.info("The refresh token of %s was refused (%s)", self.sso.display_name, refused.code)
            raise _SessionEnded() from None
        from ..logins.device_authorization import TokenResponse

        result = TokenResponse.from_response(response)
        renewed = replace(
            token,
            access_token=result.access_token,
            expires_at=after(self._clock, result.expires_in),
            # No new refresh token means the old one stays valid (RFC 6749 §6).
            refresh_token=result.refresh_token or token.refresh_token,
            start_url=self.sso.start_url,
            region=self.sso.region,
        )
        if self._commit(pending, renewed, "refreshed"):
            self._carry_record(token, renewed)
        logger.info("Refreshed the SSO token of %s", self.sso.display_name)
        return renewed

    def _commit(self, pending: PreparedWrite, token: SSOToken, what: str) -> bool:
        """Write ``token``; False (and a warning) if it could not be saved."""
        try:
            pending.commit(token.to_cache())
        except OSError as error:
            logger.warning("The %s SSO token of %s could not be saved to %s (%s): it is used by "
                           "this process only, and other programs will ask for a login.", what,
                           self.sso.display_name, self.entry.path,
                           error.strerror or type(error).__name__)
            return False
        return True

    # -- the login record: when the session began (see _session_end) ---------------------------

    def session_began(self) -> _dt.datetime | None:
        """When the session of the cached token began (this machine's login, or the live session
        it joined), if this package's login record still describes that token; else None."""
        from ._session_end import session_began

        began = session_began(self.sso.token_cache_key)
        return None if began is None else parse_timestamp(began)

    def _note_login(self, login_at: _dt.datetime, previous: SSOToken | None, token: SSOToken) -> None:
        """Record the login that wrote ``token``: it began at ``login_at``, unless it joined the
        still-live session of ``previous`` (ours, refreshable, no Logout first), whose start
        it then keeps (a login inside a live session inherits its end)."""
        from ._session_end import ends_by, login_record, read_record

        began = format_timestamp(login_at)
        old = read_record(self.sso.token_cache_key)
        if (old is not None and previous is not None and previous.refresh_token
                and old["tokenExpiresAt"] == format_timestamp(previous.expires_at)):
            end = ends_by(old["sessionBeganAt"], self.sso.settings.session_duration)
            if end is not None and end > began:
                began = old["sessionBeganAt"]
        self._write_record(login_record(began=began, login_at=format_timestamp(login_at),
                                        token_expires_at=format_timestamp(token.expires_at)))

    def _carry_record(self, refreshed: SSOToken, renewed: SSOToken) -> None:
        """After a refresh: the record follows the session to its new token, if it was ``refreshed``'s."""
        from ._session_end import carried_record, read_record

        old = read_record(self.sso.token_cache_key)
        if old is not None and old["tokenExpiresAt"] == format_timestamp(refreshed.expires_at):
            self._write_record(carried_record(old, format_timestamp(renewed.expires_at)))

    def _write_record(self, record: dict[str, str]) -> None:
        try:
            self._record.write(record)
        except OSError as error:  # only the session-end estimate is lost
            logger.warning("Could not write the login record of %s to %s: %s", self.sso.display_name,
                           self._record.path, error.strerror or type(error).__name__)

    # -- login ---------------------------------------------------------------------------------

    def _login_allowed(self) -> bool:
        if self.options.allow_login is not None:
            return self.options.allow_login
        from ..logins._interaction import browser_available

        return login_allowed(self.sso.settings.auto_login, self._environ,
                             browser_opens=self._open_browser and browser_available(self._environ))

    def _automatic_login(self, previous: SSOToken | None) -> SSOToken:
        """A login nobody asked for, unless one was denied, timed out or abandoned less than
        ``boto_sso_oidc_login_cooldown`` ago: then every caller fails at once (no new prompt,
        no browser tab per caller) until that time or an explicit login.

        Abandoned means stopped by SIGINT with no terminal attached: a supervisor or a job
        runner stopped an unattended caller. Ctrl-C at a terminal is a person's, who may well
        run the program again at once: it starts no cool-down (and stays a KeyboardInterrupt)."""
        from ..exceptions import (
            AuthorizationDeniedError,
            AuthorizationTimeoutError,
            DeviceAuthorizationDeniedError,
            DeviceAuthorizationExpiredError,
            LoginCancelledError,
            SSOLoginRequiredError,
        )

        record = self._cooldown.read()
        if record is not None:
            try:
                until = parse_timestamp(str(record["until"]))
            except (KeyError, ValueError):
                until = None
            if until is not None and until > self._clock():
                from ..logins._interaction import sanitize

                # the record is a file anyone with the user's rights may have edited: its reason
                # reaches a terminal only as printable text, one short word or so
                reason = " ".join(sanitize(str(record.get("reason", "login failed")), 40).split())
                raise SSOLoginRequiredError(
                    f"An automatic login to {self.sso.display_name} failed "
                    f"({reason}); automatic logins stay off until "
                    f"{format_timestamp(until)} (boto_sso_oidc_login_cooldown). Run: {self.login_command}",
                    command=self.login_command)
        try:
            return self._login_locked(previous=previous)
        except LoginCancelledError:
            from ..logins._interaction import terminal_reachable

            if not terminal_reachable():
                self._cool_down("abandoned")
            raise
        except (AuthorizationDeniedError, AuthorizationTimeoutError, DeviceAuthorizationDeniedError,
                DeviceAuthorizationExpiredError) as error:
            self._cool_down({AuthorizationDeniedError: "denied",
                             DeviceAuthorizationDeniedError: "denied"}.get(type(error), "timed out"))
            raise

    def _cool_down(self, reason: str) -> None:
        """Record that automatic logins stay off for ``boto_sso_oidc_login_cooldown`` seconds."""
        seconds = self.sso.settings.login_cooldown
        if seconds <= 0:
            return
        until = format_timestamp(after(self._clock, seconds))
        try:
            self._cooldown.write({"until": until, "reason": reason})
        except OSError as failure:  # the login's own error matters more
            logger.warning("Could not record the login cool-down of %s in %s: %s",
                           self.sso.display_name, self._cooldown.path,
                           failure.strerror or type(failure).__name__)
            return
        logger.warning("The automatic login to %s failed (%s): automatic logins stay off until %s "
                       "(boto_sso_oidc_login_cooldown). Run: %s", self.sso.display_name, reason,
                       until, self.login_command)

    def _login_required(self, token: SSOToken | None, rejected: bool) -> Exception:
        from ..exceptions import SSOLoginRequiredError

        if token is None:
            state = "There is no cached SSO token for"
        elif rejected:
            state = "The SSO token was rejected (revoked or logged out) for"
        else:
            state = "The SSO session has ended for"
        return SSOLoginRequiredError(
            f"{state} {self.sso.display_name} and no login can be started here "
            "(no terminal and no browser to open, CI, or boto_sso_oidc_auto_login = false). "
            f"Run: {self.login_command}",
            command=self.login_command,
        )

    def uses_browser_flow(self) -> bool:
        """The browser flow (authorization code with PKCE), with a listener or pasted back."""
        return self.login_flow() != "device"

    def login_flow(self) -> str:
        """The one place the login flow is chosen: ``"browser"``, ``"remote"`` or ``"device"``.

        As the AWS CLI v2 chooses: the device flow for legacy profiles and when asked for;
        else the browser flow where a browser can be opened here or a redirect port is fixed
        (the person forwards it to a browser elsewhere). Beyond it: ``remote`` (the person
        pastes the address the browser ended on) when asked for, or in a remote shell (SSH
        without a forwarded display, a container) with a terminal to paste into; else the
        device flow, which needs no terminal here.
        """
        from ..logins._interaction import browser_available, person_can_answer, remote_shell

        use_device_code = (self.sso.settings.use_device_code if self.options.use_device_code is None
                           else self.options.use_device_code)
        if self.sso.is_legacy or use_device_code:
            return "device"
        remote = self.options.remote
        if remote is None:  # boto_sso_oidc_remote_login: "true", "false" or "auto"
            setting = self.sso.settings.remote_login
            remote = None if setting == "auto" else setting == "true"
        if self.options.remote:
            return "remote"
        if remote and person_can_answer(self._environ):
            return "remote"
        if self._redirect_port()[0] is not None or browser_available(self._environ):
            return "browser"
        if remote is None and remote_shell(self._environ) is not None \
                and person_can_answer(self._environ):
            return "remote"
        return "device"

    def _redirect_port(self) -> tuple[int | None, str]:
        """The fixed loopback port, and where it was set (for the message when it is taken)."""
        if self.options.redirect_port is not None:
            return self.options.redirect_port, "--redirect-port"
        port = self.sso.settings.redirect_port
        if port is None:
            return None, ""
        from ..config._settings import SETTINGS

        key, _alias, variable = SETTINGS["redirect_port"]
        return port, variable if self._environ.get(variable) else key

    def _login_locked(self, previous: SSOToken | None) -> SSOToken:
        """Run the login flow and save its token.

        The cache write is prepared first, so a token path that cannot be written (a
        directory, a read-only disk) fails before anyone is asked to log in. Ctrl-C during
        the flow cancels it with the cache as it was (the previous session, if any, goes
        on); once the service has issued the token, the write is finished first.
        """
        from .._interrupts import run_to_completion
        from ..exceptions import SSOProviderError
        from ..logins._flows import log_in

        try:
            pending = self.entry.prepared_write()
        except OSError as error:
            raise SSOProviderError(
                f"Cannot log in to {self.sso.display_name}: the token cache file {self.entry.path} "
                f"cannot be written ({error.strerror or type(error).__name__}). Fix it (remove "
                "what is in the way, or make the directory writable) and try again."
            ) from None
        login_at = self._clock()
        flow = self.login_flow()
        port, port_source = self._redirect_port()
        with pending:
            result, registration = log_in(
                self.sso, self._clients, browser=flow != "device",
                prompt=self.options.prompt or LoginPrompt(browser=self._open_browser),
                clock=self._clock, sleep=self.options.sleep, redirect_port=port,
                redirect_port_source=port_source, remote=flow == "remote",
                timeout=self.options.login_timeout)
            return run_to_completion(
                lambda cancelled: self._store_login(result, registration, pending, login_at))

    def _store_login(self, result: TokenResponse, registration: Registration,
                     pending: PreparedWrite, login_at: _dt.datetime) -> SSOToken:
        # Fields other tools keep in the file survive; re-read now, not before the login.
        previous = self.cached()
        token = SSOToken(
            access_token=result.access_token,
            expires_at=after(self._clock, result.expires_in),
            start_url=self.sso.start_url,
            region=self.sso.region,
            refresh_token=result.refresh_token,
            client_id=registration.client_id,
            client_secret=registration.client_secret,
            registration_expires_at=registration.expires_at,
            extra=dict(previous.extra) if previous is not None else {},
        )
        if self._commit(pending, token, "new"):
            self._note_login(login_at, previous, token)
        return token

    # -- plumbing ------------------------------------------------------------------------------

    def _oidc(self) -> Any:
        return self._clients("sso-oidc", self.sso.region)

    def _sso_logout(self, token: SSOToken) -> None:
        try:
            call(self._clients("sso", self.sso.region).logout,
                 accessToken=token.access_token)
        except TransientServiceError as error:
            # The local sign-out still happens; the server session ends on its own.
            logger.warning("SSO Logout for %s failed (%s); removing the local token anyway.",
                           self.sso.display_name, error.reason)


class _SessionEnded(Exception):
    pass


class _RefreshRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _CannotSave(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
