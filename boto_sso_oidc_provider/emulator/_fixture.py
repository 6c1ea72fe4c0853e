"""What the ``sso_emulator`` pytest fixture hands a test: a running emulator in a private HOME."""

from __future__ import annotations

import os
from pathlib import Path

from ._runner import EmulatorHandle
from ._server import EmulatorServer

PROFILE = "dev"
SSO_SESSION = "emulator"
START_URL = "https://emulator.awsapps.com/start"
REGION = "us-east-1"
ACCOUNT_ID = "111111111111"
ROLE_NAME = "AdministratorAccess"

def sso_config(
    *,
    profile: str = PROFILE,
    sso_session: str = SSO_SESSION,
    start_url: str = START_URL,
    region: str = REGION,
    account_id: str = ACCOUNT_ID,
    role_name: str = ROLE_NAME,
) -> str:
    """An AWS config with one sso-session and one profile using it, as ``aws configure sso`` writes."""
    return f"""\
[sso-session {sso_session}]
sso_start_url = {start_url}
sso_region = {region}
sso_registration_scopes = sso:account:access

[profile {profile}]
sso_session = {sso_session}
sso_account_id = {account_id}
sso_role_name = {role_name}
region = {region}
"""


DEFAULT_CONFIG = sso_config()


def emulator_environment(home: str | os.PathLike[str], url: str) -> dict[str, str]:
    """The variables that point boto3, botocore and the AWS CLI at ``home`` and the emulator at ``url``.

    ``HOME`` (and on Windows ``USERPROFILE``, the variable Python's ``expanduser`` reads there:
    so every cache follows it), the AWS config and credentials files
    under ``home/.aws``, ``AWS_ENDPOINT_URL`` for all three services, the
    console sign-in federation endpoint (``BOTO_SSO_OIDC_FEDERATION_ENDPOINT``),
    and no instance-metadata look-ups. Callers remove other ``AWS_*`` variables.
    """
    from .._platform import home_environment

    aws_dir = Path(home) / ".aws"
    return {
        **home_environment(home),
        "AWS_CONFIG_FILE": str(aws_dir / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws_dir / "credentials"),
        "AWS_ENDPOINT_URL": url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "BOTO_SSO_OIDC_FEDERATION_ENDPOINT": f"{url}/federation",
    }


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


class SSOEmulator(EmulatorHandle):
    """A running emulator plus the private HOME and AWS config a test runs in.

    ``env`` holds every environment variable the fixture set (``HOME`` and the
    ``AWS_*`` ones), ready to pass to a subprocess; every other ``AWS_*``
    variable was removed from this process's environment.
    """

    def __init__(self, server: EmulatorServer, home: Path) -> None:
        super().__init__(server)
        self.home = home
        self.profile = PROFILE
        self.sso_session = SSO_SESSION
        self.start_url = START_URL
        self.region = REGION
        self.account_id = ACCOUNT_ID
        self.role_name = ROLE_NAME
        aws_dir = private_dir(home / ".aws")
        self.config_file = aws_dir / "config"
        self.credentials_file = aws_dir / "credentials"
        self.env: dict[str, str] = {
            **emulator_environment(home, self.url),
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PROFILE": PROFILE,
        }
        self.write_config(DEFAULT_CONFIG)

    def write_config(self, text: str, append: bool = False) -> Path:
        """Replace the AWS config file with ``text`` (or add it at the end); 0600."""
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        with os.fdopen(os.open(self.config_file, flags, 0o600), "w", encoding="utf-8") as file:
            if append and self.config_file.stat().st_size:
                file.write("\n")
            file.write(text)
        return self.config_file
