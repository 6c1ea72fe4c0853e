"""Step 5 of the flow, warm: role credentials straight from the shared cache, without botocore.

``credential-process`` runs once per AWS CLI command (or SDK start), so its
start-up is felt every time. When botocore's role-credential cache
(``~/.aws/cli/cache/<key>.json``, shared with the AWS CLI v2) holds
credentials that are :data:`~..caches._freshness.Freshness.FRESH`, this module answers
from that file alone: the config's fast reader (:mod:`..config._scan`) says what botocore
would make of the profile, the cache key is computed exactly as botocore's
``SSOCredentialFetcher`` (or ``AssumeRoleCredentialFetcher``, for a role chain) does, and the
file is parsed.

It promises only "these are the credentials botocore would use from cache";
it never refreshes, never logs in, never writes. Whenever anything is not
plain (no cache, credentials near expiry, a config or cache it does not
fully understand), :func:`cached_process_output` returns None and the caller
takes the full path (botocore's loader and
:class:`~boto_sso_oidc_provider.credentials.role_credentials.RoleCredentialsManager`),
which has the error messages. This module must stay cheap to import: the
standard library only, and none of the package's heavier modules.
"""

from __future__ import annotations

import json
import os
import time

from ..caches._freshness import REFRESH_WINDOW, Freshness, epoch_of_timestamp, freshness
from ..caches._layout import (
    assume_role_cache_key,
    role_cache_dir,
    role_cache_key,
    timestamp_shaped,
    token_cache_key,
)
from ..config._scan import WarmChain, WarmProfile, resolve

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["role_cache_file", "chain_cache_file", "role_chain_cache_file", "cached_process_output",
           "cached_process_answer"]

_CREDENTIAL_KEYS = ("AccessKeyId", "SecretAccessKey", "SessionToken")


def role_cache_file(profile: WarmProfile) -> str:
    """The path of the profile's role-credential cache file (follows ``HOME`` now)."""
    key = role_cache_key(profile.account_id, profile.role_name,
                             sso_session=profile.sso_session, start_url=profile.start_url)
    return os.path.join(role_cache_dir(), f"{key}.json")


def chain_cache_file(chain: WarmChain) -> str:
    """The assumed-role cache file of a role chain: botocore's ``AssumeRoleCredentialFetcher`` key
    for the first hop's arguments."""
    key = assume_role_cache_key(chain.role_arn, role_session_name=chain.role_session_name,
                                external_id=chain.external_id, duration_seconds=chain.duration_seconds)
    return os.path.join(role_cache_dir(), f"{key}.json")


def role_chain_cache_file(profile: str, path: str | None = None) -> str | None:
    """The assumed-role cache file of ``role_arn`` profile ``profile``, or None if not plainly a
    role chain ending at an SSO role profile (see :func:`~..config._scan.resolve`)."""
    resolved = resolve(profile, path)
    return chain_cache_file(resolved) if isinstance(resolved, WarmChain) else None


def _cache_file_of(profile: str) -> tuple[str, WarmProfile] | None:
    """The file holding ``profile``'s credentials when it is plainly an SSO role or role chain,
    with the SSO role it comes from (the profile, or the one its chain ends at)."""
    resolved = resolve(profile)
    if resolved is None:
        return None
    if isinstance(resolved, WarmChain):
        return chain_cache_file(resolved), resolved.source
    return role_cache_file(resolved), resolved


def _session_notice(profile: str, role: WarmProfile) -> str | None:
    """The full path's warning that the session ends within minutes, worded the same."""
    from ..caches._session_end import ending_notice
    from ..config._settings import DEFAULT_SESSION_DURATION, parse, source

    key, raw = source(role.settings, "session_duration", os.environ)  # usable: the scan checked it
    duration = DEFAULT_SESSION_DURATION if raw is None else float(parse("session_duration", key, raw))
    where = (f'sso-session "{role.sso_session}"' if role.sso_session
             else f'SSO start URL "{role.start_url}"')
    return ending_notice(token_cache_key(role.sso_session, role.start_url or ""), duration=duration,
                         where=where, login_command=f"boto-sso-oidc login --profile {profile}")


def _canonical_expiration(text: Any) -> str | None:
    """``Expiration`` as ``YYYY-MM-DDTHH:MM:SSZ`` (what botocore, the AWS CLI v2 and this package
    write); other forms other writers use are converted through :mod:`datetime`. None if unparseable."""
    if not isinstance(text, str):
        return None
    if timestamp_shaped(text):
        # 2099-02-30T00:00:00Z: the full path (and botocore) would reject it
        return text if epoch_of_timestamp(text) is not None else None
    from .._clock import format_timestamp, parse_timestamp

    try:
        return format_timestamp(parse_timestamp(text))
    except (TypeError, ValueError):
        return None


def _process_output(data: Any, *, window: float) -> dict[str, Any] | None:
    """``credential_process`` Version 1 JSON from a cache file's content, if fresh enough."""
    if not isinstance(data, dict):
        return None
    credentials = data.get("Credentials")
    if not isinstance(credentials, dict):
        return None
    values = [credentials.get(key) for key in _CREDENTIAL_KEYS]
    if not all(isinstance(value, str) and value for value in values):
        return None
    expiration = _canonical_expiration(credentials.get("Expiration"))
    if expiration is None:
        return None
    expires_at = epoch_of_timestamp(expiration)
    if expires_at is None or freshness(expires_at, time.time(), window) is not Freshness.FRESH:
        return None
    output: dict[str, Any] = {"Version": 1}
    output.update(zip(_CREDENTIAL_KEYS, values, strict=True))
    output["Expiration"] = expiration
    account_id = credentials.get("AccountId")
    if isinstance(account_id, str) and account_id:
        output["AccountId"] = account_id
    return output


def cached_process_output(profile: str, *, window: float = REFRESH_WINDOW) -> dict[str, Any] | None:
    """The profile's cached role credentials as ``credential_process`` JSON, or None.

    None means "take the full path": the profile is not a plain SSO profile
    or role chain here, there is no cache entry, it is unreadable, or it expires within
    ``window`` seconds.
    """
    return cached_process_answer(profile, window=window)[0]


def cached_process_answer(profile: str, *, window: float = REFRESH_WINDOW) \
        -> tuple[dict[str, Any] | None, str | None]:
    """:func:`cached_process_output`, and the warning to show on stderr when the profile's SSO
    session ends within minutes (None if not, or unknown, or if there is no cached output)."""
    found = _cache_file_of(profile)
    if found is None:
        return None, None
    path, role = found
    from .._files import read_small_file

    try:
        data = json.loads(read_small_file(path))
    except (OSError, ValueError, RecursionError):  # absent, not a file, not JSON, nested too deep
        return None, None
    output = _process_output(data, window=window)
    if output is None:
        return None, None  # the full path answers, and warns
    return output, _session_notice(profile, role)
