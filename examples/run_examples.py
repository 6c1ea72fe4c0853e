"""Run the other examples against the bundled IAM Identity Center emulator, in a temporary HOME.

    python examples/run_examples.py

Nothing touches your real ~/.aws: HOME, AWS_CONFIG_FILE and AWS_ENDPOINT_URL
point at a temporary directory and a local emulator that approves logins
by itself. Shows the automatic login once, then every later run reusing
the cached token and role credentials.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from boto_sso_oidc_provider.emulator import emulator_environment, run_emulator

HERE = Path(__file__).resolve().parent

RUNS = [
    ("profile_settings.ini", ["boto3_session.py", "prod-readonly"],
     "boto_sso_oidc_auto_login = false, nobody logged in yet: a one-line error"),
    ("profile_settings.ini", ["boto3_session.py", "dev"], "boto_sso_oidc_auto_login = true: logs in"),
    ("profile_settings.ini", ["boto3_session.py", "prod-readonly"],
     "same sso-session, token cached: no login"),
    ("profile_settings.ini", ["global_install.py", "dev"], "warm caches: only the STS call"),
    ("role_chaining.ini", ["global_install.py", "prod-deploy"], "role chaining via AssumeRole"),
    ("config_enabled.ini", ["plain_boto3.py", "team-dev"],
     "boto_sso_oidc_enabled = true, no code change: logs in to the other sso-session"),
]


def main() -> int:
    with tempfile.TemporaryDirectory() as home, run_emulator(auto_approve=True, interval=0) as emulator:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_SSO_OIDC_"))}
        env.update(emulator_environment(home, emulator.url), BOTO_SSO_OIDC_OPEN_BROWSER="false")
        failures = 0
        for config, command, what in RUNS:
            env["AWS_CONFIG_FILE"] = str(HERE / config)
            print(f"\n$ AWS_CONFIG_FILE={config} python {' '.join(command)}   # {what}", flush=True)
            result = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]],
                                    env=env, stdin=subprocess.DEVNULL, start_new_session=True)
            failures += result.returncode != 0 and "error" not in what
        calls = emulator.calls()["operations"]
        print("\nEmulator calls:", {k: v for k, v in calls.items() if v})
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
