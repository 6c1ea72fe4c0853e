"""Step 1 of the flow, for the warm path: what the config says about one profile, read once per
version of the files.

The warm path (``credential-process``, ``export``, ``console``, ``eks-token``) must answer in a
few milliseconds, and must never answer for another account than botocore would. It does not
read the config a second way: :func:`resolve` reads it exactly as the full path does, with
botocore's loader replicated on the bytes it read (:mod:`._loader`) and the full path's own
:class:`~.reader.AWSConfig` (botocore's provider order, its checks, this package's settings),
and keeps the answer, a :class:`Resolution`, in a small memo beside the other caches
(``~/.aws/boto-sso-oidc/resolved/<key>.json``, 0600, no secret in it). The memo holds the SHA-1
of the config and credentials files it was read from; it is used only while both files hold
exactly those bytes, for the same profile, file paths, ``BOTO_SSO_OIDC_*`` variables, Python
and package version. Any other change (an edit, a line end, an environment variable) reads the
files again. So the warm path cannot disagree with the full path, and the full path's reading
is checked against botocore's own on generated configs (``tests/config/``).

None means "the full path decides": a file that cannot be read or parsed, a profile that is
not an IAM Identity Center role or a role chain ending at one, a configuration the full path
refuses or warns about. The full path has the messages.

Standard library only until a memo is missing (then :mod:`configparser` and the reader).
"""

from __future__ import annotations

import json
import os
import sys

from ..caches._layout import resolved_file, sha1_hex
from ._loader import config_file, credentials_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping
    from typing import Any

    from .reader import ProfileCredentialsConfig

__all__ = ["Resolution", "resolve"]

_FORMAT = 1
_MAX_CONFIG_BYTES = 16 << 20
# Never kept in the memo: the credentials file's secrets, merged into its profile.
_SECRET_KEYS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                          "aws_security_token"})


class Resolution:
    """One profile as the full path reads it: the role credentials it uses (an IAM Identity
    Center role, or a role chain ending at one) and what the warm path needs besides."""

    __slots__ = ("profile", "kind", "cache_key", "account_id", "role_name", "role_arn",
                 "sso_session", "start_url", "token_cache_key", "session_duration", "values")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.profile: str = data["profile"]
        self.kind: str = data["kind"]
        """"sso-role" or "role-chain"."""
        self.cache_key: str = data["cache_key"]
        """The stem of the file in ``~/.aws/cli/cache`` holding its credentials (botocore's key)."""
        self.account_id: str = data["account_id"]
        self.role_name: str = data["role_name"]
        """The IAM Identity Center role (of the SSO profile a chain ends at)."""
        self.role_arn: str | None = data["role_arn"]
        """A chain's first role (None for an IAM Identity Center role)."""
        self.sso_session: str | None = data["sso_session"]
        self.start_url: str = data["start_url"]
        self.token_cache_key: str = data["token_cache_key"]
        self.session_duration: float = data["session_duration"]
        self.values: dict[str, Any] = data["values"]
        """The profile's own keys (``region``, endpoints ...), its credentials' keys left out."""

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @property
    def where(self) -> str:
        """The sso-session (or legacy start URL) in words, as messages name it."""
        return f'sso-session "{self.sso_session}"' if self.sso_session else \
            f'SSO start URL "{self.start_url}"'

    def __repr__(self) -> str:
        return (f"Resolution(profile={self.profile!r}, kind={self.kind!r}, "
                f"account_id={self.account_id!r}, role_name={self.role_name!r}, "
                f"role_arn={self.role_arn!r}, sso_session={self.sso_session!r})")


def _read(path: str) -> bytes | None:
    """The file's bytes; None when botocore would find no file there (absent, a directory, a
    FIFO). Raises :class:`OSError` when it cannot be read as botocore would (too big to be
    sure, unreadable)."""
    from .._files import NotARegularFileError, read_small_file

    try:
        return read_small_file(path, _MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return None
    except NotARegularFileError:
        if os.path.isfile(path):  # a regular file over the bound: botocore would read it
            raise
        return None


def resolve(profile: str, environ: Mapping[str, str] | None = None) -> Resolution | None:
    """What the config says ``profile`` uses, read as the full path reads it; None when the full
    path should decide (see the module docstring). Reads the config and credentials files
    once; parses them only when they changed since the memo was made."""
    environ = os.environ if environ is None else environ
    paths = (config_file(environ), credentials_file(environ))
    try:
        config, credentials = (_read(path) for path in paths)
    except OSError:
        return None
    own = sorted((name, value) for name, value in environ.items() if name.startswith("BOTO_SSO_OIDC_"))
    from .. import __version__

    key = sha1_hex(json.dumps([_FORMAT, __version__, sys.version_info[:2], profile, paths, own])
                   .encode("utf-8"))
    version = {"config": _digest(config), "credentials": _digest(credentials),
               "encoding": _encoding(config, credentials)}
    memo = _memo(key)
    if memo is not None and all(memo.get(name) == value for name, value in version.items()):
        try:
            return Resolution(memo["resolution"])
        except (KeyError, TypeError):
            pass  # not the shape this version writes: read the files again
    resolution = _read_profile(profile, config, credentials, environ)
    if resolution is not None:
        _remember(key, {**version, "resolution": resolution.to_json()})
    return resolution


def _digest(data: bytes | None) -> str | None:
    """A 160-bit BLAKE2b of a file's bytes: five times as fast as SHA-1 on a 36,000-line config,
    and a builtin module (hashlib's import loads OpenSSL, milliseconds)."""
    if data is None:
        return None
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - other interpreters
        from hashlib import blake2b
    digest: str = blake2b(data, digest_size=20).hexdigest()
    return digest


def _encoding(*files: bytes | None) -> str | None:
    """The encoding the files are read with, when it matters (a byte outside ASCII)."""
    if all(data is None or data.isascii() for data in files):
        return None
    from ._loader import file_encoding

    return file_encoding()


def _memo(key: str) -> dict[str, Any] | None:
    from .._files import read_small_file

    try:
        data = json.loads(read_small_file(resolved_file(key)))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and data.get("format") == _FORMAT else None


def _remember(key: str, data: dict[str, Any]) -> None:
    """Write the memo atomically, owner-only, never through a link; a failure only costs the
    next call a parse."""
    from .._files import ensure_private_dir
    from ..exceptions import CacheDirectoryError

    path = resolved_file(key)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        ensure_private_dir(os.path.dirname(path))
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            os.write(fd, json.dumps({"format": _FORMAT, **data}, sort_keys=True).encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except (OSError, CacheDirectoryError):
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _read_profile(profile: str, config: bytes | None, credentials: bytes | None,
                  environ: Mapping[str, str]) -> Resolution | None:
    """The full path's reading of ``profile`` from these bytes, or None where it would refuse,
    warn or not serve."""
    from ..exceptions import SSOConfigError
    from ._loader import ConfigParseError, full_config
    from .reader import AssumeRoleProfileConfig, AWSConfig

    try:
        aws_config = AWSConfig(full_config(config, credentials), environ=environ, quiet=True)
        resolved: ProfileCredentialsConfig = aws_config.credentials_profile(profile)
    except (ConfigParseError, SSOConfigError):
        return None
    chain = resolved.chain if isinstance(resolved, AssumeRoleProfileConfig) else (profile,)
    if any(aws_config.unknown_settings(name) for name in chain):
        return None  # the full path warns about the misspelled setting, every time
    sso_profile = resolved.sso_profile if isinstance(resolved, AssumeRoleProfileConfig) else resolved
    sso = sso_profile.sso
    values = {key: value for key, value in aws_config.profile_values(profile).items()
              if key not in _SECRET_KEYS}
    return Resolution({
        "profile": profile,
        "kind": "role-chain" if isinstance(resolved, AssumeRoleProfileConfig) else "sso-role",
        "cache_key": (resolved.cache_key if isinstance(resolved, AssumeRoleProfileConfig)
                      else sso_profile.cache_key),
        "account_id": sso_profile.account_id,
        "role_name": sso_profile.role_name,
        "role_arn": resolved.role_arn if isinstance(resolved, AssumeRoleProfileConfig) else None,
        "sso_session": sso.name,
        "start_url": sso.start_url,
        "token_cache_key": sso.token_cache_key,
        "session_duration": sso.settings.session_duration,
        "values": values,
    })
