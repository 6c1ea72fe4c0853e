"""Step 5 of the flow, for kubectl: role credentials as an EKS token, in ``aws eks get-token``'s format.

An EKS token is ``k8s-aws-v1.`` and the unpadded base64url of an STS
GetCallerIdentity URL presigned (SigV4, 60 seconds) with the signed header
``x-k8s-aws-id: <cluster>``; ``aws eks get-token`` prints it in an
``ExecCredential`` whose ``expirationTimestamp`` is 14 minutes on (a presigned STS
URL lives 15). Everything here follows ``awscli/customizations/eks/get_token.py``:
the API version ``KUBERNETES_EXEC_INFO`` asks for (v1 or v1beta1; v1alpha1 with its
deprecation message; v1beta1 with the CLI's messages otherwise), the JSON (or
text) as its formatters print it, ``--role-arn`` as an AssumeRole (session
``EKSGetTokenAuth``) with the profile's credentials, and the environment's
credentials where its chain would take them (:func:`environment_credentials`).

Tokens are kept in a small cache beside the role credentials
(:func:`~..caches._layout.eks_token_cache_file`, 0600), keyed by the profile, cluster,
region, role and every setting that changes the STS endpoint (the profile's keys,
the ``AWS_*`` variables but the credentials). An entry holds the token, its
expiry, the access key ids of the credentials it was signed with and from, and
the endpoint and signing region botocore chose for it; nothing secret but the
token itself. The warm path (:func:`warm_token`, standard library only) answers
from it while the token is FRESH (more than
:data:`~..caches._freshness.EKS_TOKEN_WINDOW` left) and was signed
with the role credentials cached now, and signs a new one itself (``_sigv4``) for
the endpoint botocore chose last time; anything else is the full path's
(:func:`botocore_token`): botocore's presigner, whose URL is compared with the one
``_sigv4`` makes for the same second before its endpoint is recorded, so the warm
path only ever repeats what botocore did.
"""

from __future__ import annotations

import json
import time

from ..caches._freshness import EKS_TOKEN_LIFETIME, EKS_TOKEN_WINDOW, Freshness, epoch_of_timestamp, freshness
from ..caches._layout import cache_timestamp, eks_token_cache_file, eks_token_cache_key

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping
    from typing import Any

__all__ = ["V1_API", "BETA_API", "ALPHA_API", "TOKEN_PREFIX", "CLUSTER_ID_HEADER", "OUTPUTS", "URL_TIMEOUT",
           "exec_api_version", "token_of", "exec_credential",
           "cache_file", "warm_token", "botocore_token", "environment_credentials", "EksToken"]

ALPHA_API = "client.authentication.k8s.io/v1alpha1"
BETA_API = "client.authentication.k8s.io/v1beta1"
V1_API = "client.authentication.k8s.io/v1"
TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
OUTPUTS = ("json", "text")
"""The AWS CLI's ``--output`` formats printed here (kubectl reads json)."""
URL_TIMEOUT = 60
"""Seconds: ``X-Amz-Expires`` of the presigned URL, as the AWS CLI signs it (STS ignores it:
the URL lives 15 minutes after ``X-Amz-Date``)."""

_ERROR_MSG = ("{0} KUBERNETES_EXEC_INFO, defaulting to {1}. This is likely a bug in your Kubernetes "
              "client. Please update your Kubernetes client.")
_UNRECOGNIZED_MSG = ("Unrecognized API version in KUBERNETES_EXEC_INFO, defaulting to {0}. This is "
                     "likely due to an outdated AWS CLI. Please update your AWS CLI.")
_DEPRECATION_MSG = ("Kubeconfig user entry is using deprecated API version {0}. Run "
                    "'aws eks update-kubeconfig' to update.")
_OPERATION = (("Action", "GetCallerIdentity"), ("Version", "2011-06-15"))
# Never part of a cache key (secrets), and never decide the STS endpoint.
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                         "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION")


class EksToken:
    """A token and the ``expirationTimestamp`` that goes with it (``YYYY-MM-DDTHH:MM:SSZ``)."""

    __slots__ = ("token", "expiration")

    def __init__(self, token: str, expiration: str) -> None:
        self.token = token
        self.expiration = expiration

    def __repr__(self) -> str:
        return f"EksToken(token='k8s-aws-v1.…', expiration={self.expiration!r})"


def exec_api_version(raw: str | None) -> tuple[str, str | None]:
    """The ``ExecCredential`` API version ``KUBERNETES_EXEC_INFO`` asks for, and the AWS CLI's
    line for stderr when it falls back or the version is deprecated (else None)."""
    if not raw:
        return BETA_API, None  # kubectl before 1.20 did not always set it
    try:
        info = json.loads(raw)
    except ValueError:
        return BETA_API, _ERROR_MSG.format("Error parsing", BETA_API)
    version = info.get("apiVersion") if isinstance(info, dict) else None
    if version in (V1_API, BETA_API):
        return version, None
    if version == ALPHA_API:
        return version, _DEPRECATION_MSG.format(version)
    return BETA_API, _UNRECOGNIZED_MSG.format(BETA_API)


def token_of(url: str) -> str:
    """``k8s-aws-v1.`` and the unpadded base64url of ``url``."""
    import binascii

    encoded = binascii.b2a_base64(url.encode("utf-8"), newline=False).decode("ascii")
    return TOKEN_PREFIX + encoded.replace("+", "-").replace("/", "_").rstrip("=")


def exec_credential(api_version: str, token: EksToken, *, output: str = "json") -> str:
    """The ``ExecCredential`` exactly as ``aws eks get-token --output json`` (or ``text``: the AWS
    CLI's text formatter, keys sorted, a line per object) prints it."""
    if output == "text":
        return f"{api_version}\tExecCredential\nSTATUS\t{token.expiration}\t{token.token}\n\n"
    body = {"kind": "ExecCredential", "apiVersion": api_version, "spec": {},
            "status": {"expirationTimestamp": token.expiration, "token": token.token}}
    return json.dumps(body, indent=4, ensure_ascii=False) + "\n\n"


# -- the cache --------------------------------------------------------------------------------------

def cache_file(profile: str, cluster: str, region: str | None, role_arn: str | None,
               profile_values: Mapping[str, str], environ: Mapping[str, str]) -> str:
    """The cache file of this profile's tokens for ``cluster``: its key names every setting that
    changes the STS endpoint or the signer (the profile's keys, the ``AWS_*`` variables), the
    credentials' variables left out."""
    environment = {name: value for name, value in environ.items()
                   if name.startswith("AWS_") and name not in _CREDENTIAL_VARIABLES}
    return eks_token_cache_file(eks_token_cache_key(profile, cluster, region=region, role_arn=role_arn,
                                                    config=profile_values, environment=environment))


def _read_entry(path: str) -> dict[str, Any] | None:
    from .._files import read_small_file

    try:
        data = json.loads(read_small_file(path))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    texts = ("token", "expirationTimestamp", "accessKeyId", "sourceAccessKeyId", "cluster")
    if not all(isinstance(data.get(name), str) and data[name] for name in texts):
        return None
    if epoch_of_timestamp(data["expirationTimestamp"]) is None or not data["token"].startswith(TOKEN_PREFIX):
        return None
    return data


def _write_entry(path: str, entry: Mapping[str, Any]) -> None:
    """Atomically, 0600, never through a symlink (the package's cache writer); a failure to
    write only costs the next run a signature."""
    from pathlib import Path

    from ..caches._entry import CacheEntry

    try:
        CacheEntry(Path(path), describe="EKS token cache entry").write(dict(entry))
    except OSError:
        pass


def _fresh(entry: Mapping[str, Any], now: float) -> bool:
    """Whether the entry's token is FRESH by :data:`~..caches._freshness.EKS_TOKEN_WINDOW`."""
    expires_at = epoch_of_timestamp(entry["expirationTimestamp"])
    return expires_at is not None and freshness(expires_at, now, EKS_TOKEN_WINDOW) is Freshness.FRESH


def warm_token(path: str, cluster: str, role_arn: str | None, credentials: Mapping[str, Any],
               now: float | None = None) -> EksToken | None:
    """A token from the cache file ``path`` for ``credentials`` (the profile's cached role
    credentials, with more than the role credentials' window left), or None for the full path.

    Reused while FRESH (more than :data:`~..caches._freshness.EKS_TOKEN_WINDOW` left) and signed
    with (with a role: from) these credentials; else, without a role, signed anew here for the
    endpoint and region botocore chose for the last one, and written back.
    """
    now = time.time() if now is None else now
    entry = _read_entry(path)
    if entry is None or entry["cluster"] != cluster or entry.get("roleArn") != role_arn:
        return None
    access_key_id = credentials["AccessKeyId"]
    if entry["sourceAccessKeyId"] == access_key_id and _fresh(entry, now):
        return EksToken(entry["token"], entry["expirationTimestamp"])
    endpoint, region = entry.get("endpoint"), entry.get("signingRegion")
    if role_arn is not None or not isinstance(endpoint, str) or not isinstance(region, str):
        return None  # a role's credentials are never kept: AssumeRole again, on the full path
    token = _sign(endpoint, region, cluster, credentials, now)
    _write_entry(path, _entry(token, cluster, role_arn, endpoint, region, access_key_id, access_key_id))
    return token


def _sign(endpoint: str, region: str, cluster: str, credentials: Mapping[str, Any],
          now: float) -> EksToken:
    from ._sigv4 import presigned_url

    url = presigned_url(endpoint, _OPERATION, headers={CLUSTER_ID_HEADER: cluster},
                        access_key_id=credentials["AccessKeyId"],
                        secret_access_key=credentials["SecretAccessKey"],
                        session_token=credentials.get("SessionToken"), region=region, service="sts",
                        expires=URL_TIMEOUT, moment=now)
    return EksToken(token_of(url), cache_timestamp(int(now) + EKS_TOKEN_LIFETIME))


def _entry(token: EksToken, cluster: str, role_arn: str | None, endpoint: str | None,
           region: str | None, access_key_id: str, source_access_key_id: str) -> dict[str, Any]:
    return {"token": token.token, "expirationTimestamp": token.expiration, "cluster": cluster,
            "roleArn": role_arn, "endpoint": endpoint, "signingRegion": region,
            "accessKeyId": access_key_id, "sourceAccessKeyId": source_access_key_id}


# -- the full path: botocore's presigner, as the AWS CLI runs it -------------------------------------

def botocore_token(path: str | None, *, profile: str | None, cluster: str, region: str | None,
                   role_arn: str | None, credentials: Mapping[str, Any]) -> EksToken:
    """What ``aws eks get-token --profile P --cluster-name C [--region R] [--role-arn A]`` makes
    with ``credentials`` (the profile's role credentials), written to the cache file ``path`` (if any).
    ``profile`` None: the profile botocore itself finds (``AWS_PROFILE``...), as the AWS CLI
    without ``--profile``.

    botocore resolves the STS endpoint and signs, with the AWS CLI's two event handlers; with a
    role, STS AssumeRole (``RoleSessionName=EKSGetTokenAuth``) first. The endpoint and region are
    recorded for the warm path only when ``_sigv4`` makes the very same URL for that second.
    Raises botocore's errors.
    """
    from .._clients import botocore_session, create_client

    session = botocore_session(None, profile)

    def client(keys: Mapping[str, Any]) -> Any:
        return create_client("sts", region, session, credentials=(
            keys["AccessKeyId"], keys["SecretAccessKey"], keys.get("SessionToken")))

    signing = dict(credentials)
    if role_arn is not None:
        signing = client(credentials).assume_role(RoleArn=role_arn,
                                                  RoleSessionName="EKSGetTokenAuth")["Credentials"]
    sts = client(signing)

    def retrieve(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        if CLUSTER_ID_HEADER in params:
            context[CLUSTER_ID_HEADER] = params.pop(CLUSTER_ID_HEADER)

    def inject(request: Any, **kwargs: Any) -> None:
        if CLUSTER_ID_HEADER in request.context:
            request.headers[CLUSTER_ID_HEADER] = request.context[CLUSTER_ID_HEADER]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", retrieve)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", inject)
    url = sts.generate_presigned_url("get_caller_identity", Params={CLUSTER_ID_HEADER: cluster},
                                     ExpiresIn=URL_TIMEOUT, HttpMethod="GET")
    signed_at, endpoint, signing_region = _signature_inputs(url)
    token = EksToken(token_of(url), cache_timestamp(signed_at + EKS_TOKEN_LIFETIME))
    if endpoint is not None and signing_region is not None:
        ours = _sign(endpoint, signing_region, cluster, signing, signed_at)
        if ours.token != token.token:  # botocore did something _sigv4 does not: never repeat it
            endpoint = signing_region = None
    if path is not None:
        _write_entry(path, _entry(token, cluster, role_arn, endpoint, signing_region,
                                  signing["AccessKeyId"], credentials["AccessKeyId"]))
    return token


def environment_credentials() -> dict[str, Any]:
    """The credentials botocore's chain takes from the environment (``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN`` or ``AWS_SECURITY_TOKEN``,
    ``AWS_CREDENTIAL_EXPIRATION``), read by its own ``EnvProvider``, whose errors (partial or
    expired credentials) are raised as they are."""
    from botocore.credentials import EnvProvider
    from botocore.exceptions import NoCredentialsError

    found = EnvProvider().load()
    if found is None:
        raise NoCredentialsError()
    frozen = found.get_frozen_credentials()
    return {"AccessKeyId": frozen.access_key, "SecretAccessKey": frozen.secret_key,
            "SessionToken": frozen.token}


def _signature_inputs(url: str) -> tuple[int, str | None, str | None]:
    """The signing second (epoch), the endpoint (the URL before ``?``) and the signing region of a
    presigned URL."""
    import calendar
    from urllib.parse import parse_qs

    endpoint, _, query = url.partition("?")
    params = parse_qs(query)
    moment = time.time()
    try:
        moment = calendar.timegm(time.strptime(params["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ"))
        region: str | None = params["X-Amz-Credential"][0].split("/")[2]
    except (KeyError, IndexError, ValueError):
        return int(moment), None, None
    return int(moment), endpoint, region

