"""``boto-sso-oidc demo``: the whole flow, end to end, on the embedded emulator.

No AWS account and nothing of the user's ``~/.aws`` is touched: the demo
starts an emulator on a loopback port, makes a temporary home (``HOME``, and
on Windows ``USERPROFILE``, the one botocore reads there) with its own
AWS config (an sso-session and a profile), points ``AWS_ENDPOINT_URL`` at the
emulator, and restores the environment and removes the directory at the end.
Then, narrated with timings:

1. a real login: with ``interactive`` and a browser on this machine, the
   browser flow (authorization code + PKCE; the person clicks Allow on the
   emulator's consent page); otherwise the device flow (URL and code shown;
   the emulator approves after the first poll, or with ``interactive`` the
   person does in a browser);
2. boto3 with the plugin installed resolves role credentials and calls STS
   GetCallerIdentity, whose SigV4 signature the emulator verifies;
3. the warm path: a ``credential-process`` subprocess answers from the cache
   (the emulator's GetRoleCredentials counter does not move);
4. a refresh: the emulator expires the access token and the cached copies
   are aged, and the next call refreshes the token with the refresh-token
   grant (the emulator's counters show it).

Exit codes: 0 every step showed what it should; 1 a step failed (one line on
stderr); 2 usage; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ._common import add_debug, report, setup_logging

__all__ = ["run_demo", "PROFILE", "SSO_SESSION", "configure", "run"]

PROFILE = "demo"
SSO_SESSION = "demo"
class DemoError(Exception):
    """A step of the demo did not show what it should."""


class _Narrator:
    """Numbered steps with their wall time, on one stream."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.step = 0
        self.started = time.perf_counter()

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    @contextlib.contextmanager
    def section(self, title: str) -> Iterator[None]:
        self.step += 1
        self.say(f"\n[{self.step}] {title}")
        began = time.perf_counter()
        yield
        self.say(f"    ({_ms(time.perf_counter() - began)})")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


@contextlib.contextmanager
def _private_environment(home: Path, endpoint: str) -> Iterator[dict[str, str]]:
    """Point the home, the AWS config and every endpoint at the demo; restore everything after."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("AWS_", "BOTO_SSO_OIDC_")):
            del os.environ[name]
    from ..emulator import emulator_environment

    os.environ.update(emulator_environment(home, endpoint))
    try:
        yield dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _counts(emulator: Any) -> dict[str, int]:
    calls = emulator.calls()
    counts = {op: int(n) for op, n in calls.get("operations", {}).items()}
    counts["refresh_token grants"] = int(calls.get("grants", {}).get("refresh_token", 0))
    return counts


def _show_counts(narrator: _Narrator, before: dict[str, int], after: dict[str, int],
                 names: tuple[str, ...]) -> None:
    narrator.say("    emulator counters: " + ", ".join(
        f"{name} {before.get(name, 0)} -> {after.get(name, 0)}" for name in names))


def _caller_identity(profile: str) -> tuple[str, Any]:
    """GetCallerIdentity through a boto3 session with the plugin installed."""
    from ..providers.installation import session

    boto3_session = session(profile_name=profile)
    identity = boto3_session.client("sts").get_caller_identity()
    return str(identity["Arn"]), boto3_session


def _age_caches(home: Path, profile: str) -> None:
    """Move the cached token's and role credentials' expiry into the past, as time would."""
    from ..sessions import role_credentials_manager

    manager = role_credentials_manager(profile)
    for entry, field in ((manager.token_manager.entry, None), (manager.entry, "Credentials")):
        data = entry.read()
        if data is None:
            raise DemoError(f"nothing cached at {entry.path}")
        target = data[field] if field else data
        target["expiresAt" if field is None else "Expiration"] = "2000-01-01T00:00:00Z"
        entry.write(data)


def run_demo(*, interactive: bool = False, out: IO[str] | None = None) -> int:
    """Run the demo, narrating on ``out`` (stdout by default). Returns 0, or raises :class:`DemoError`."""
    from ..emulator import run_emulator, sso_config
    from ..logins._interaction import LoginPrompt, browser_available

    narrator = _Narrator(out if out is not None else sys.stdout)
    say = narrator.say
    say("boto-sso-oidc demo: IAM Identity Center login and credentials, end to end, on a local "
        "emulator.\nNo AWS account is used and your ~/.aws is not touched.")
    home = Path(tempfile.mkdtemp(prefix="boto-sso-oidc-demo-"))
    try:
        with contextlib.ExitStack() as stack:
            with narrator.section("Starting the IAM Identity Center emulator"):
                emulator = stack.enter_context(run_emulator(auto_approve=not interactive, interval=1))
                say(f"    SSO OIDC, SSO portal and STS at {emulator.url}")
            from .._platform import HOME_VARIABLE

            env = stack.enter_context(_private_environment(home, emulator.url))
            with narrator.section("Writing a temporary AWS config"):
                aws = home / ".aws"
                aws.mkdir(mode=0o700)
                config = sso_config(profile=PROFILE, sso_session=SSO_SESSION,
                                    start_url="https://demo.awsapps.com/start")
                (aws / "config").write_text(config)
                say(f"    {aws / 'config'} ({HOME_VARIABLE}={home}):")
                say("\n".join(f"      {line}" if line else "" for line in config.splitlines()))

            # The browser flow when a person is there with a browser; otherwise the device
            # flow, which the emulator approves by itself (or the person, on another machine).
            browser = interactive and browser_available()
            if browser:
                title = ("Logging in with the browser flow (authorization code + PKCE): click "
                         "Allow in your browser")
            elif interactive:
                title = ("Logging in with the device authorization flow (no browser here): open "
                         "the URL in a browser and approve the code")
            else:
                title = ("Logging in with the device authorization flow (the emulator approves "
                         "after the first poll)")
            with narrator.section(title):
                from ..options import Options
                from ..sessions import token_manager

                manager = token_manager(PROFILE, options=Options(
                    prompt=LoginPrompt(narrator.out, browser=interactive),
                    use_device_code=not browser))
                token = manager.login()
                say(f"    token cached in {manager.entry.path}; refreshable: {token.can_refresh()}")

            with narrator.section("boto3 with the plugin installed: STS GetCallerIdentity"):
                say("    boto3_session = boto_sso_oidc_provider.session(profile_name="
                    f"{PROFILE!r})")
                arn, _ = _caller_identity(PROFILE)
                say(f"    signed with the role credentials; the emulator checked the signature: {arn}")

            with narrator.section("The warm path: credential-process answers from the cache"):
                from ._common import helper_command

                command = [*helper_command(), "credential-process", "--profile", PROFILE]
                before = _counts(emulator)
                times: list[float] = []
                for _ in range(3):  # the first run may also pay for reading files from disk
                    began = time.perf_counter()
                    result = subprocess.run(command, env=env, capture_output=True, text=True,
                                            stdin=subprocess.DEVNULL, timeout=60)
                    times.append(time.perf_counter() - began)
                    if result.returncode != 0:
                        raise DemoError(f"credential-process failed: {result.stderr.strip()}")
                output = json.loads(result.stdout)
                after = _counts(emulator)
                say(f"    $ boto-sso-oidc credential-process --profile {PROFILE}")
                say(f"    Version {output['Version']}, AccessKeyId {output['AccessKeyId']}, "
                    f"Expiration {output['Expiration']} (secrets not shown)")
                say(f"    3 runs, each a new process as the AWS CLI starts it: "
                    f"{', '.join(_ms(t) for t in times)}")
                _show_counts(narrator, before, after, ("GetRoleCredentials", "CreateToken"))
                if after.get("GetRoleCredentials") != before.get("GetRoleCredentials"):
                    raise DemoError("credential-process called GetRoleCredentials: the cache was not used")

            with narrator.section("A refresh: the access token expires, the refresh token renews it"):
                expired = emulator.expire("access_tokens")
                _age_caches(home, PROFILE)
                say(f"    the emulator expired {expired} access token(s); the cached token and role "
                    "credentials now look expired too")
                before = _counts(emulator)
                arn, _ = _caller_identity(PROFILE)
                after = _counts(emulator)
                _show_counts(narrator, before, after,
                             ("refresh_token grants", "GetRoleCredentials", "GetCallerIdentity"))
                if after["refresh_token grants"] != before["refresh_token grants"] + 1:
                    raise DemoError("the token was not refreshed exactly once")
                say(f"    no login needed; GetCallerIdentity again: {arn}")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    say(f"\nDone in {_ms(time.perf_counter() - narrator.started)}: login, boto3, the credential_process "
        "warm path and a refresh, all against the emulator.\nThe temporary home is removed and your "
        "environment is as it was.")
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit codes: 0 demo completed, 1 a step failed (reason on stderr), 2 bad usage."
    parser.add_argument("--interactive", action="store_true",
                        help="approve the login yourself instead of letting the emulator "
                             "approve it: in the browser flow where a browser can be opened here, "
                             "else with the device flow's URL and code")
    add_debug(parser)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.debug)
    try:
        return run_demo(interactive=args.interactive)
    except Exception as error:  # one line for a person, never a traceback
        return report("demo", error, debug=args.debug)
