"""Step 5 of the flow, warm: role credentials straight from the shared cache, without botocore.

``credential-process`` runs once per AWS CLI command (or SDK start), so its
start-up is felt every time. When botocore's role-credential cache
(``~/.aws/cli/cache/<key>.json``, shared with the AWS CLI v2) holds
credentials that are :data:`~..caches._freshness.Freshness.FRESH`, this module answers
from that file alone. Which file is the config's to say, read as the full path reads it
(:func:`~..config._resolved.resolve`, which keeps its answer while the config files do not
change): the key is botocore's ``SSOCredentialFetcher`` one (or ``AssumeRoleCredentialFetcher``,
for a role chain).

It promises only "these are the credentials botocore would use from cache";
it never refreshes, never logs in, never writes a credential. Whenever anything is not
plain (no cache, credentials near expiry, a config the full path would refuse or warn about,
a cache file it does not fully understand), :func:`cached_process_output` returns None and
the caller takes the full path (botocore's loader and
:class:`~boto_sso_oidc_provider.credentials.role_credentials.RoleCredentialsManager`),
which has the error messages. This module must stay cheap to import: the
standard library only, and none of the package's heavier modules.
"""

from __future__ import annotations

import json
import os
import time

from ..caches._freshness import REFRESH_WINDOW, Freshness, epoch_of_timestamp, freshness
from ..caches._layout import role_cache_dir, timestamp_shaped
from ..config._resolved import Resolution, resolve

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["cache_file", "cached_process_output", "cached_process_answer"]

_CREDENTIAL_KEYS = ("AccessKeyId", "SecretAccessKey", "SessionToken")


def cache_file(resolution: Resolution) -> str:
    """The path of the file holding the profile's credentials (follows ``HOME`` now)."""
    return os.path.join(role_cache_dir(), f"{resolution.cache_key}.json")


def _session_notice(resolution: Resolution) -> str | None:
    """The full path's warning that the session ends within minutes, worded the same."""
    from ..caches._session_end import ending_notice

    return ending_notice(resolution.token_cache_key, duration=resolution.session_duration,
                         where=resolution.where,
                         login_command=f"boto-sso-oidc login --profile {resolution.profile}")


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

    None means "take the full path": the profile is not an SSO role or a role chain ending at
    one as the full path reads it (:func:`~..config._resolved.resolve`), there is no cache
    entry, it is unreadable, or it expires within ``window`` seconds.
    """
    return cached_process_answer(profile, window=window)[0]


def cached_process_answer(profile: str, *, window: float = REFRESH_WINDOW,
                          resolution: Resolution | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """:func:`cached_process_output`, and the warning to show on stderr when the profile's SSO
    session ends within minutes (None if not, or unknown, or if there is no cached output).
    ``resolution``: the profile's, when the caller has it already."""
    resolution = resolution or resolve(profile)
    if resolution is None:
        return None, None
    path = cache_file(resolution)
    from .._files import read_small_file

    try:
        data = json.loads(read_small_file(path))
    except (OSError, ValueError, RecursionError):  # absent, not a file, not JSON, nested too deep
        return None, None
    output = _process_output(data, window=window)
    if output is None:
        return None, None  # the full path answers, and warns
    return output, _session_notice(resolution)
