"""A local IAM Identity Center: SSO OIDC, the SSO portal and STS on one loopback URL.

Unmodified AWS SDKs and the AWS CLI work against it: point
``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_SSO_OIDC``, ``AWS_ENDPOINT_URL_SSO``
and ``AWS_ENDPOINT_URL_STS``) at its URL. It implements RegisterClient,
StartDeviceAuthorization and CreateToken (device code, refresh token with
rotation, authorization code with PKCE); GetRoleCredentials, ListAccounts,
ListAccountRoles and Logout; STS GetCallerIdentity and AssumeRole with real
SigV4 verification; the console sign-in federation endpoint (``/federation``:
getSigninToken and login, for the credentials it issued); the EKS authenticator's
TokenReview webhook (``/authenticate``: ``k8s-aws-v1.`` tokens checked as
aws-iam-authenticator checks them), and beside it a tiny EKS cluster endpoint for
kubectl (:func:`run_kubernetes_api`). People approve
logins on its ``/device`` and ``/authorize`` pages; ``/start`` answers as a
vanity start URL does (a 302 to the AWS-owned ``portal_url``); programs use
the ``/_emulator/`` control plane
(:class:`EmulatorControl`) to approve, inject faults, expire tokens and count
calls.

Modules: ``_config`` (settings), ``_directory`` (user, accounts, roles; the
``--state`` file schema), ``_state`` (records, lifetimes, the lock and the
clock), ``_oidc``, ``_portal``, ``_sts`` with ``_sigv4`` and ``_identity``,
``_federation`` (console sign-in), ``_eks`` (the EKS authenticator),
``_kubernetes`` (a cluster endpoint for kubectl), ``_throttle`` (rate limits), ``_pages`` (HTML),
``_control`` (control plane) and ``_client`` (its client), ``_http``
(request/response records), ``_server`` (HTTP),
``_runner`` (:func:`run_emulator`), ``_fixture`` and ``pytest_plugin`` (the
``sso_emulator`` fixture).

Example::

    from boto_sso_oidc_provider.emulator import run_emulator

    with run_emulator(auto_approve=True, interval=0) as emulator:
        os.environ["AWS_ENDPOINT_URL"] = emulator.url
        ...
"""

from __future__ import annotations

from ._client import EmulatorControl, EmulatorControlError
from ._config import DEFAULT_SCOPES, EmulatorConfig
from ._directory import Account, Directory, DirectoryError, User
from ._fixture import SSOEmulator, emulator_environment, sso_config
from ._kubernetes import KubernetesAPI, run_kubernetes_api
from ._runner import EmulatorHandle, run_emulator
from ._server import EmulatorServer
from ._state import EXPIRABLE, OPERATIONS, EmulatorState
from ._throttle import PORTAL_RATE_LIMITS

__all__ = [
    "emulator_environment",
    "sso_config",
    "Account",
    "DEFAULT_SCOPES",
    "Directory",
    "DirectoryError",
    "EXPIRABLE",
    "EmulatorConfig",
    "EmulatorControl",
    "EmulatorControlError",
    "EmulatorHandle",
    "EmulatorServer",
    "EmulatorState",
    "KubernetesAPI",
    "OPERATIONS",
    "PORTAL_RATE_LIMITS",
    "SSOEmulator",
    "User",
    "run_emulator",
    "run_kubernetes_api",
]
