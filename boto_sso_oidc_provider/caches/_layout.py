"""Step 4 of the flow: the cache layout shared with the AWS CLI v2 and botocore, defined once.

This is the package's contract with the outside world. The AWS CLI v2,
botocore, boto3 and the other SDKs read and write these files; so does this
package, under these names, so each tool uses what another cached::

    ~/.aws/sso/cache/<token_cache_key>.json         the SSO token of an sso-session
    ~/.aws/sso/cache/<registration_cache_key>.json  the OIDC client registration
    ~/.aws/cli/cache/<role_cache_key>.json          role credentials (botocore's SSOCredentialFetcher)
    ~/.aws/cli/cache/<assume_role_cache_key>.json   assumed-role credentials of a role_arn profile
                                                    (botocore's AssumeRoleCredentialFetcher; the
                                                    AWS CLI v1 and v2 fill and read it too)

and six of this package's own, which no other tool reads::

    ~/.aws/sso/cache/<token_cache_key>.login-cooldown
                                                    until when automatic logins of an sso-session
                                                    stay off after one failed (no secret in it)

    ~/.aws/sso/cache/<token_cache_key>.login-record
                                                    when this machine's login of an sso-session
                                                    began, for its token (see _session_end; no
                                                    secret in it)

    ~/.aws/boto-sso-oidc/directory/<directory_cache_key>.json
                                                    the accounts and roles of an sso-session
                                                    (``list``/``generate``; no secret in it)

    ~/.aws/boto-sso-oidc/resolved/<key>.json        what the config says about one profile, for
                                                    the exact bytes of the config and credentials
                                                    files it was read from (the warm path's memo,
                                                    see ``config._resolved``; no secret in it)

    ~/.aws/boto-sso-oidc/console/<random>.html      a console sign-in page for the browser (0600;
                                                    its sign-in token lasts 15 minutes, the page
                                                    is deleted by the next ``console`` after that)

    ~/.aws/cli/cache/<eks_token_cache_key>.eks-token
                                                    ``eks-token``'s EKS tokens of a profile and
                                                    cluster, beside the role credentials they are
                                                    signed with (no secret but the token itself)

The directories follow ``HOME`` at call time (tests and containers move it).
Standard library only and cheap to import: the warm path of
``credential-process`` imports this module and nothing heavier.
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

__all__ = ["TIMESTAMP_FORMAT", "timestamp_shaped", "cache_timestamp",
           "CHAINED_ROLE_SECONDS", "DEFAULT_LOCK_TIMEOUT", "sso_cache_dir",
           "login_cooldown_file", "login_record_file", "role_cache_dir",
           "directory_cache_dir", "console_page_dir", "resolved_file", "eks_token_cache_file",
           "token_cache_key", "registration_cache_key", "role_cache_key", "sha1_hex", "assume_role_cache_key",
           "directory_cache_key", "eks_token_cache_key"]

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How the caches' timestamps are written (``expiresAt``, ``Expiration``, ...): UTC to the second.
Texts of this shape sort as their moments do, so the warm path compares them without datetime."""

_DIGITS = str.maketrans("123456789", "000000000")
_SHAPE = "0000-00-00T00:00:00Z"


def timestamp_shaped(text: str) -> bool:
    """Whether ``text`` has the shape of :data:`TIMESTAMP_FORMAT` (not whether the date exists)."""
    return text.translate(_DIGITS) == _SHAPE


def cache_timestamp(epoch: float) -> str:
    """``epoch`` (seconds) as a cache timestamp."""
    return time.strftime(TIMESTAMP_FORMAT, time.gmtime(epoch))


CHAINED_ROLE_SECONDS = (900, 3600)
"""The ``duration_seconds`` a role assumed with role credentials may have (AssumeRole's lower bound;
STS caps role chaining at one hour). Every role assumed from IAM Identity Center role credentials is
chained: a profile asking for more is refused (by the config and the warm path alike)."""

DEFAULT_LOCK_TIMEOUT = 600.0
"""Seconds to wait for another process holding an entry's lock: long enough for its login."""


def sso_cache_dir() -> str:
    """``~/.aws/sso/cache``: tokens and client registrations."""
    return os.path.expanduser(os.path.join("~", ".aws", "sso", "cache"))


def login_cooldown_file(token_cache_key: str) -> str:
    """Beside the token: the record of a failed automatic login (``boto_sso_oidc_login_cooldown``)."""
    return os.path.join(sso_cache_dir(), f"{token_cache_key}.login-cooldown")


def login_record_file(token_cache_key: str) -> str:
    """Beside the token: when this machine's login of the session began (see ``_session_end``)."""
    return os.path.join(sso_cache_dir(), f"{token_cache_key}.login-record")


def role_cache_dir() -> str:
    """``~/.aws/cli/cache``: role credentials."""
    return os.path.expanduser(os.path.join("~", ".aws", "cli", "cache"))


def resolved_file(key: str) -> str:
    """``~/.aws/boto-sso-oidc/resolved/<key>.json``: the warm path's memo of one profile's reading."""
    return os.path.expanduser(os.path.join("~", ".aws", "boto-sso-oidc", "resolved", f"{key}.json"))


def console_page_dir() -> str:
    """``~/.aws/boto-sso-oidc/console``: the sign-in pages ``console`` hands to the browser."""
    return os.path.expanduser(os.path.join("~", ".aws", "boto-sso-oidc", "console"))


def eks_token_cache_file(eks_token_cache_key: str) -> str:
    """Beside the role credentials: a profile's EKS tokens for one cluster (``eks-token``)."""
    return os.path.join(role_cache_dir(), f"{eks_token_cache_key}.eks-token")


def directory_cache_dir() -> str:
    """``~/.aws/boto-sso-oidc/directory``: the accounts and roles ``list`` and ``generate`` found."""
    return os.path.expanduser(os.path.join("~", ".aws", "boto-sso-oidc", "directory"))


def sha1_hex(data: bytes) -> str:
    """The hex SHA-1 of ``data``: the digest every key of this layout is made of."""
    try:
        from _sha1 import sha1  # CPython's builtin: skips loading OpenSSL for one small hash
    except ImportError:  # pragma: no cover - other interpreters
        from hashlib import sha1
    digest: str = sha1(data).hexdigest()
    return digest


def token_cache_key(sso_session: str | None, start_url: str) -> str:
    """The token file stem: sha1 of the sso-session name (legacy profiles: of the start URL)."""
    return sha1_hex((sso_session or start_url).encode("utf-8"))


def registration_cache_key(start_url: str, region: str, scopes: list[str] | None,
                           sso_session: str | None) -> str:
    """The registration file stem, as the AWS CLI v2 computes it (one key for both flows)."""
    args = {"tool": "botocore", "startUrl": start_url, "region": region, "scopes": scopes,
            "session_name": sso_session}
    return sha1_hex(json.dumps(args, sort_keys=True).encode("utf-8"))


def role_cache_key(account_id: str, role_name: str, *, sso_session: str | None,
                   start_url: str | None) -> str:
    """botocore ``SSOCredentialFetcher._create_cache_key``, exactly.

    sha1 of the compact, key-sorted JSON of role name, account id and the
    sso-session name (legacy profiles: the start URL), made file-safe.
    """
    args: dict[str, str] = {"roleName": role_name, "accountId": account_id}
    if sso_session:
        args["sessionName"] = sso_session
    else:
        args["startUrl"] = start_url or ""
    digest = sha1_hex(json.dumps(args, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return _file_safe(digest)


def assume_role_cache_key(role_arn: str, *, role_session_name: str | None = None,
                          external_id: str | None = None, mfa_serial: str | None = None,
                          duration_seconds: int | None = None) -> str:
    """botocore ``BaseAssumeRoleCredentialFetcher._create_cache_key`` for a profile's AssumeRole, exactly.

    sha1 of the key-sorted JSON (botocore's default separators, unlike the SSO key) of the
    AssumeRole arguments ``AssumeRoleProvider`` builds from the profile: ``RoleArn`` and those of
    ``RoleSessionName``, ``ExternalId``, ``SerialNumber`` and ``DurationSeconds`` (an integer) the
    profile sets (None: unset). A missing or empty session name takes no part: botocore then
    generates one per call (``botocore-session-<epoch>``) and leaves it out of the key.
    """
    args: dict[str, object] = {"RoleArn": role_arn}
    if role_session_name:
        args["RoleSessionName"] = role_session_name
    if external_id is not None:
        args["ExternalId"] = external_id
    if mfa_serial is not None:
        args["SerialNumber"] = mfa_serial
    if duration_seconds is not None:
        args["DurationSeconds"] = duration_seconds
    return _file_safe(sha1_hex(json.dumps(args, sort_keys=True).encode("utf-8")))


def _file_safe(digest: str) -> str:
    """botocore ``CachedCredentialFetcher._make_file_safe``."""
    return digest.replace(":", "_").replace(os.sep, "_").replace("/", "_")


def directory_cache_key(sso_session: str | None, start_url: str) -> str:
    """The directory cache file stem: sha1 of the sso-session name and start URL (so a session
    pointed at another start URL never reads the old organization)."""
    return sha1_hex(json.dumps({"sessionName": sso_session, "startUrl": start_url},
                                sort_keys=True).encode("utf-8"))


def eks_token_cache_key(profile: str, cluster: str, *, region: str | None, role_arn: str | None,
                        config: Mapping[str, str], environment: Mapping[str, str]) -> str:
    """The EKS token file stem: sha1 of the key-sorted JSON of the profile, the cluster, the
    ``--region`` and ``--role-arn`` asked for, and what else chooses the STS endpoint and the
    signer: the profile's config keys and the ``AWS_*`` variables (the caller leaves the
    credentials out: never a secret in a key)."""
    args = {"profile": profile, "cluster": cluster, "region": region, "roleArn": role_arn,
            "config": dict(config), "environment": dict(environment)}
    return sha1_hex(json.dumps(args, sort_keys=True).encode("utf-8"))
