"""botocore clients for the three services, created one way everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import botocore.session

__all__ = ["create_client", "botocore_session"]


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


def create_client(service: str, region: str, session: Any = None, *, signed: bool = False) -> Any:
    """A botocore client for ``service`` in ``region``.

    ``sso-oidc`` and ``sso`` are unsigned: they authenticate with client
    secrets and bearer tokens, never with AWS credentials, so creating them
    never triggers a credential look-up (and so never recurses into us).
    """
    import botocore
    from botocore.config import Config

    from . import _redaction

    _redaction.install()
    # Standard retries, three attempts in all: a transient 5xx or throttle is retried
    # briefly, and a still-valid token is used instead of making the caller wait long.
    config = Config(region_name=region, retries={"mode": "standard", "total_max_attempts": 3})
    if not signed:
        config = config.merge(Config(signature_version=botocore.UNSIGNED))
    return botocore_session(session).create_client(service, region_name=region, config=config)


class TransientServiceError(Exception):
    """A throttle, a 5xx or a network failure: worth trying again later.

    ``reason`` is short and safe to show (an error code or exception class,
    never a request or response body).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def error_code(error: Any) -> tuple[str, int]:
    """The service error code and HTTP status of a botocore ``ClientError``."""
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status
