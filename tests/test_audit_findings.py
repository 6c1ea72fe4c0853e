"""Round 4's audit, its low findings one by one (issue 25): each test failed before its fix.

The high finding (the warm path serving another account) is tests/config/'s; the DNS
rebinding one tests/test_http_front.py's.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
import time
from pathlib import Path

import botocore.session

from boto_sso_oidc_provider.caches._layout import console_page_dir, directory_cache_dir

from .cli_helpers import login, role_cache_files, run_cli
from .conftest import token_file

OTHER_PROFILE = """
[profile other]
sso_session = emulator
sso_account_id = 222222222222
sso_role_name = ReadOnlyAccess
region = us-east-1
"""


# -- AWS_CONFIG_FILE set to nothing: botocore reads no config, and neither does the warm path --

def test_an_empty_aws_config_file_variable_reads_no_config_on_any_path(sso_emulator):
    login()
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0  # warm now
    session = botocore.session.Session()
    os.environ["AWS_CONFIG_FILE"] = ""
    try:
        assert "dev" not in session.full_config["profiles"]  # botocore: no config at all
    finally:
        os.environ["AWS_CONFIG_FILE"] = str(sso_emulator.config_file)
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev", AWS_CONFIG_FILE="")
    assert result.returncode == 1 and result.stdout == ""
    assert 'Profile "dev" is not defined' in result.stderr


# -- AWS_DEFAULT_PROFILE before AWS_PROFILE, as botocore reads them, in every command -------------

def _account_of_exported(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["AccountId"]


def test_every_command_takes_the_profile_botocore_takes(sso_emulator):
    """With AWS_PROFILE=dev and AWS_DEFAULT_PROFILE=other, boto3 and the AWS CLI use "other":
    so do export, exec, serve and eks-token (the same function picks it for every command)."""
    sso_emulator.write_config(OTHER_PROFILE, append=True)
    login()
    both = {"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "other"}
    session = botocore.session.Session()
    os.environ.update(both)
    try:
        assert session.profile == "other"
    finally:
        for name in both:
            os.environ.pop(name)
    exported = run_cli(sso_emulator, "export", "--format", "process", **both)
    assert _account_of_exported(exported) == "222222222222"
    code = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('AWS_')}))"
    executed = run_cli(sso_emulator, "exec", "--env", "--", sys.executable, "-c", code, **both)
    assert executed.returncode == 0, executed.stderr
    assert json.loads(executed.stdout)["AWS_ACCESS_KEY_ID"] == json.loads(exported.stdout)["AccessKeyId"]
    token = run_cli(sso_emulator, "eks-token", "--cluster-name", "c", **both)
    assert token.returncode == 0, token.stderr
    assert json.loads(exported.stdout)["AccessKeyId"] in _presigned_url(token.stdout)
    statused = run_cli(sso_emulator, "status", **both)
    assert statused.returncode == 0, statused.stderr
    assert "other" in statused.stdout + statused.stderr


def _presigned_url(exec_credential: str) -> str:
    import base64

    token = json.loads(exec_credential)["status"]["token"].removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


# -- login --force forgets what it signed out -----------------------------------------------------

def test_login_force_forgets_the_role_credentials_of_the_session_it_signed_out(sso_emulator):
    login()
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    [cached] = role_cache_files(sso_emulator.home)
    old = json.loads(cached.read_text())["Credentials"]["AccessKeyId"]
    assert run_cli(sso_emulator, "login", "--force", "--profile", "dev").returncode == 0
    assert not cached.exists()  # signed out: its role credentials are gone with its token
    again = run_cli(sso_emulator, "credential-process", "--profile", "dev")
    assert json.loads(again.stdout)["AccessKeyId"] != old


# -- the account directory: bound to the token it was listed with, removed by logout ----------------

def test_the_directory_cache_goes_with_logout_and_is_not_used_after_another_login(sso_emulator):
    login()
    listed = run_cli(sso_emulator, "list", "--sso-session", "emulator")
    assert listed.returncode == 0, listed.stderr
    files = list(Path(directory_cache_dir()).glob("*.json"))
    assert len(files) == 1
    calls = sso_emulator.calls()["operations"]["ListAccounts"]
    assert run_cli(sso_emulator, "list", "--sso-session", "emulator").returncode == 0
    assert sso_emulator.calls()["operations"]["ListAccounts"] == calls  # the same token: the cache
    assert run_cli(sso_emulator, "logout", "--sso-session", "emulator").returncode == 0
    assert not files[0].exists()

    login()
    listed = run_cli(sso_emulator, "list", "--sso-session", "emulator")
    calls = sso_emulator.calls()["operations"].get("ListAccounts", 0)
    assert run_cli(sso_emulator, "login", "--force", "--sso-session", "emulator").returncode == 0
    relisted = run_cli(sso_emulator, "list", "--sso-session", "emulator")
    assert relisted.returncode == 0, relisted.stderr
    assert sso_emulator.calls()["operations"]["ListAccounts"] > calls  # another login lists anew


# -- nothing read from a file reaches the terminal raw ----------------------------------------------

def test_a_cool_down_record_with_control_characters_is_printed_as_text(sso_emulator):
    login()
    path = token_file(sso_emulator.home, "emulator")
    path.unlink()
    record = path.with_suffix(".login-cooldown")
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    record.write_text(json.dumps({"until": until, "reason": "\x1b]0;owned\x07\x1b[2J\r\nspoof\u202e"}))
    record.chmod(0o600)
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev",
                     BOTO_SSO_OIDC_AUTO_LOGIN="true")
    assert result.returncode == 1 and "automatic logins stay off" in result.stderr
    assert not any(char in result.stderr for char in ("\x1b", "\x07", "\r", "\u202e"))
    assert result.stderr.count("\n") == 1  # one line


# -- the console's sign-in URL never on a command line -------------------------------------------

_BROWSER = textwrap.dedent("""
    import json, re, sys, urllib.request
    from pathlib import Path
    from urllib.parse import unquote, urlparse
    log = Path(sys.argv[1])
    page = Path(unquote(urlparse(sys.argv[2]).path))
    text = page.read_text()
    target = re.search(r'content="0;url=([^"]+)"', text).group(1).replace("&amp;", "&")

    class Stop(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        status = urllib.request.build_opener(Stop).open(target).status
    except urllib.error.HTTPError as error:
        status = error.code
    log.write_text(json.dumps({"argv": sys.argv[2:], "page": str(page), "status": status,
                               "mode": page.stat().st_mode}))
""")


def test_the_console_opens_a_private_page_never_the_sign_in_url_on_a_command_line(sso_emulator, tmp_path):
    login()
    browser = tmp_path / "browser.py"
    browser.write_text(_BROWSER)
    log = tmp_path / "browser.json"
    stale = Path(console_page_dir())
    stale.mkdir(parents=True, mode=0o700)
    old_page = stale / "old.html"
    old_page.write_text("an old sign-in page")
    os.utime(old_page, (time.time() - 16 * 60, time.time() - 16 * 60))
    result = run_cli(sso_emulator, "console", "--profile", "dev",
                     BROWSER=f"{sys.executable} {browser} {log} %s")
    assert result.returncode == 0, result.stderr
    for _ in range(100):
        if log.exists():
            break
        time.sleep(0.1)
    seen = json.loads(log.read_text())
    assert not any("SigninToken" in arg or "federation" in arg for arg in seen["argv"])
    assert seen["argv"][0].startswith("file://")
    assert seen["status"] == 302  # the page's target signed in at the emulator
    assert sso_emulator.calls()["operations"]["ConsoleLogin"] == 1
    assert stat.S_IMODE(seen["mode"]) == 0o600
    assert stat.S_IMODE(os.stat(console_page_dir()).st_mode) == 0o700
    assert not old_page.exists()  # pages past the sign-in token's 15 minutes are deleted
