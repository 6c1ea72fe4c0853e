"""Credentials for ``credential-process``, ``export`` and ``console``: the warm path, else the full path.

The warm path (:mod:`boto_sso_oidc_provider.credentials._warm`) answers from botocore's
role-credential cache without importing boto3 or botocore. Anything it does
not plainly understand goes to the full path: botocore's config loader,
:meth:`~boto_sso_oidc_provider.config.reader.AWSConfig.credentials_profile` and
:func:`~boto_sso_oidc_provider.credentials.chained.credentials_manager` (an SSO role, or
a ``role_arn`` chain ending at one), which refreshes the token and the
credentials (assuming each role of a chain), logs in when a person can answer,
and raises typed errors that name the profile and the fix.

Neither path ever runs a profile's own ``credential_process``: the SSO
settings are read directly, so a profile whose ``credential_process`` calls
this helper for itself cannot loop. Every run also records the profiles being
resolved in ``BOTO_SSO_OIDC_CREDENTIAL_CHAIN`` (inherited by child processes)
and refuses a profile already in it, so a cycle through other programs ends
with a clear error instead of a fork bomb.
"""

from __future__ import annotations

import json
import os

from ..credentials._warm import cached_process_answer

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    from typing import IO, Any

    from ..config.reader import AWSConfig, ProfileCredentialsConfig, SSOSessionConfig

__all__ = ["CHAIN_VARIABLE", "CredentialCycleError", "enter_chain", "process_output", "full_path_output",
           "sso_of"]

CHAIN_VARIABLE = "BOTO_SSO_OIDC_CREDENTIAL_CHAIN"


class CredentialCycleError(Exception):
    """A profile's credentials depend, through ``credential_process``, on themselves."""

    def __init__(self, chain: list[str]) -> None:
        path = " -> ".join(f'"{name}"' for name in chain)
        super().__init__(
            f"credential_process cycle: profile {path}. Each of these runs boto-sso-oidc for the next; "
            f'give profile "{chain[-1]}" sso_session, sso_account_id and sso_role_name instead.'
        )
        self.chain = chain


def enter_chain(profile: str) -> None:
    """Record that ``profile`` is being resolved; raise :class:`CredentialCycleError` if it already is."""
    raw = os.environ.get(CHAIN_VARIABLE, "")
    try:
        chain = json.loads(raw) if raw else []
    except ValueError:
        chain = []
    if not isinstance(chain, list):
        chain = []
    chain = [str(name) for name in chain]
    if profile in chain:
        raise CredentialCycleError([*chain[chain.index(profile):], profile])
    os.environ[CHAIN_VARIABLE] = json.dumps([*chain, profile])


def process_output(profile: str, *, debug: bool = False) -> dict[str, Any]:
    """The profile's role credentials as ``credential_process`` Version 1 JSON.

    Cached credentials outside the refresh window come straight from the
    cache; otherwise they are refreshed (logging in if a person can answer),
    with warnings on stderr and nothing at all on stdout. Raises
    :class:`CredentialCycleError` and the package's typed errors.
    """
    enter_chain(profile)
    warm, notice = cached_process_answer(profile)
    if warm is not None:
        if notice is not None:
            from ._common import warn

            warn(notice)  # the session ends within minutes: stderr, never stdout
        return warm
    return full_path_output(profile, debug=debug)


def full_path_output(profile: str, *, debug: bool = False) -> dict[str, Any]:
    """:func:`process_output` from the full path alone, for a profile already entered
    (:func:`enter_chain`): botocore's parse of the config and the managers, which refresh, log in
    when a person can answer, keep the cool-down and raise the typed errors; logging set up
    (secrets redacted), and nothing on stdout."""
    from ._common import quiet_stdout, setup_logging

    setup_logging(debug)
    with quiet_stdout():
        return _full_path(profile)


def _full_path(profile: str) -> dict[str, Any]:
    import contextlib

    from ..config.reader import AWSConfig
    from ..credentials.chained import credentials_manager
    from ..logins._interaction import LoginPrompt
    from ..options import Options

    settings = _credentials_profile(profile, AWSConfig.load())
    sso = sso_of(settings)
    with contextlib.ExitStack() as stack:
        terminal = _open_terminal()
        if terminal is not None:
            stack.callback(terminal.close)
        # botocore's credential_process runner captures stderr, so the person at
        # the terminal would never see a prompt written there: write to the terminal.
        prompt = LoginPrompt(terminal, browser=sso.settings.open_browser)
        manager = credentials_manager(settings, options=Options(prompt=prompt))
        result: dict[str, Any] = manager.get().to_process_output()
    from ._common import warn_if_session_ends

    warn_if_session_ends(sso, profile)
    return result


def sso_of(settings: ProfileCredentialsConfig) -> SSOSessionConfig:
    """The sso-session a profile's credentials come from (a role chain's: the one it ends at)."""
    from ..config.reader import AssumeRoleProfileConfig

    return (settings.sso_profile if isinstance(settings, AssumeRoleProfileConfig) else settings).sso


def _credentials_profile(profile: str, config: AWSConfig) -> ProfileCredentialsConfig:
    """The profile's SSO settings or role chain; a clearer error when its own credential_process
    would loop back."""
    from ..exceptions import SSOConfigError

    try:
        return config.credentials_profile(profile)
    except SSOConfigError as error:
        process = config.profile_value(profile, "credential_process") or ""
        if error.key == "sso_session" and ("boto-sso-oidc" in process or "boto_sso_oidc" in process):
            raise SSOConfigError(
                f'Profile "{profile}" has no IAM Identity Center settings, and its own credential_process '
                f"({process}) runs boto-sso-oidc again, which would loop: give [profile {profile}] "
                "sso_session, sso_account_id and sso_role_name, or point --profile at a profile "
                "that has them.",
                profile=profile, key="sso_session",
            ) from None
        raise


def _open_terminal() -> IO[str] | None:
    """The controlling terminal (the console on Windows) for writing, or None when there is none."""
    from .._platform import open_terminal

    streams = open_terminal()
    if streams is None:
        return None
    streams[0].close()
    return streams[1]  # closed by the caller
