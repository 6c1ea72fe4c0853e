"""The first hour of a new user in an organization (issue 28): one test (or more) per friction.

Each test names the friction of the issue's "Why" it proves gone (1-11). The organization
is the emulator's synthetic one: 5,000 accounts with three roles each, the portal throttled
at IAM Identity Center's published 20 calls a second (ListAccounts, ListAccountRoles and
GetRoleCredentials each), as a big company's is.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time

import botocore.configloader
import pytest

from boto_sso_oidc_provider.emulator import PORTAL_RATE_LIMITS, sso_config

from .cli_helpers import CLI, one_line, run_cli
from .conftest import REPO, run_python, subprocess_env
from .pty_helpers import Pty

START_URL = "https://emulator.awsapps.com/start"
ORG = pytest.mark.sso_emulator(accounts=5000, rate_limits=PORTAL_RATE_LIMITS)
"""5,000 accounts at 20 TPS."""
ACCOUNT = "100000004321"  # "Account 04321"


def _operations(emulator) -> dict[str, int]:
    return dict(emulator.calls()["operations"])


def _delta(after: dict[str, int], before: dict[str, int], *names: str) -> list[int]:
    return [after[name] - before[name] for name in names]


def _unnamed(emulator, *args: str):
    """``boto-sso-oidc ARGS`` with no AWS_PROFILE at all (the fixture sets one)."""
    import subprocess

    env = subprocess_env(emulator)
    env.pop("AWS_PROFILE", None)
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)


def _logged_in(emulator) -> None:
    result = run_cli(emulator, "login", "--profile", "dev")
    assert result.returncode == 0, result.stderr


# -- 1, 2 and 3: configure in an organization ---------------------------------------------------


@ORG
def test_friction_2_every_answer_as_a_flag_lists_nothing(sso_emulator):
    """Friction 2: with --account-id and --role-name, configure lists no account and no role:
    one GetRoleCredentials proves the pair (issue 28 measured 12.25 s and 200 ListAccountRoles
    for 200 accounts)."""
    _logged_in(sso_emulator)
    before = _operations(sso_emulator)
    began = time.monotonic()
    result = run_cli(sso_emulator, "configure", "--sso-session", "emulator", "--sso-start-url",
                     START_URL, "--sso-region", "us-east-1", "--account-id", ACCOUNT,
                     "--role-name", "ReadOnlyAccess", "--profile", "ro")
    elapsed = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    after = _operations(sso_emulator)
    assert _delta(after, before, "ListAccounts", "ListAccountRoles", "GetRoleCredentials") == [0, 0, 1]
    profiles = botocore.configloader.load_config(str(sso_emulator.config_file))["profiles"]
    assert profiles["ro"] == {"sso_session": "emulator", "sso_account_id": ACCOUNT,
                              "sso_role_name": "ReadOnlyAccess"}
    # The credentials that proved the pair are the profile's first: its first use calls nothing.
    process = run_cli(sso_emulator, "credential-process", "--profile", "ro")
    assert process.returncode == 0, process.stderr
    assert _operations(sso_emulator)["GetRoleCredentials"] == after["GetRoleCredentials"]
    print(f"\nconfigure --account-id --role-name, 5,000 accounts at 20 TPS: {elapsed:.2f} s, "
          f"0 ListAccounts, 0 ListAccountRoles, 1 GetRoleCredentials")


@ORG
def test_friction_2_the_account_alone_lists_only_its_roles(sso_emulator):
    _logged_in(sso_emulator)
    before = _operations(sso_emulator)
    result = run_cli(sso_emulator, "configure", "--sso-session", "emulator", "--account-id", ACCOUNT,
                     "--role-name", "Billing", "--profile", "billing", "--no-enable-plugin")
    assert result.returncode == 0, result.stderr
    wrong = run_cli(sso_emulator, "configure", "--sso-session", "emulator", "--account-id", ACCOUNT,
                    "--role-name", "ReadOnly", "--profile", "x")
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines()[-1] == (
        f"boto-sso-oidc configure: --role-name ReadOnly is not a role of account {ACCOUNT}: did you "
        "mean ReadOnlyAccess?")
    after = _operations(sso_emulator)
    # The first proved by GetRoleCredentials; the refused one then lists that account's roles only.
    assert _delta(after, before, "ListAccounts", "ListAccountRoles", "GetRoleCredentials") == [0, 1, 2]


@ORG
def test_friction_2_an_unknown_account_names_the_closest_not_5000(sso_emulator):
    _logged_in(sso_emulator)
    result = run_cli(sso_emulator, "configure", "--sso-session", "emulator", "--account-id",
                     "100000004312x", "--role-name", "Billing", "--profile", "x")
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("boto-sso-oidc configure: --account-id 100000004312x is not one of the "
                           'accounts sso-session "emulator" gives access to: did you mean 100000004312')
    assert len(line) < 400, line


@ORG
def test_friction_2_and_3_the_first_menu_comes_after_the_accounts_only(sso_emulator):
    """Friction 2 at a terminal: the accounts are listed (50 pages of 100, a progress line), the
    first menu shows 20 of the 5,000, typing narrows it, and only the chosen account's roles are
    listed. Friction 3: the sso-session of the config is used as it is: no question about its
    start URL or region. Friction 1: the plugin is turned on by the answer."""
    _logged_in(sso_emulator)
    before = _operations(sso_emulator)
    began = time.monotonic()
    term = Pty([*CLI, "configure"], subprocess_env(sso_emulator), cwd=REPO)
    try:
        term.expect(r"SSO session name \(existing: emulator; or a new name\) \[emulator\]: ")
        term.send("")
        term.expect(r'Using sso-session "emulator" of the config: https://emulator.awsapps.com/start, '
                    r"us-east-1\.")
        term.expect(r"Listing accounts: [\d,]+ so far\.\.\.")  # the listing's progress line
        term.expect(r"There are 5,000 AWS accounts available to you\.\nAccounts:\n")
        menu = time.monotonic() - began
        at_menu = _operations(sso_emulator)
        term.expect(r"  ... and 4980 more: type part of a name, id or e-mail address to narrow the list\n")
        term.expect(r"Number, or text to filter \(1-20\): ")
        term.send("Account 0432")
        term.expect(r"Accounts \(matching 'Account 0432'\):\n(\s+\d+\) 1000000043\d\d .*\n){10}")
        term.send(ACCOUNT)  # an account id narrows to one: taken at once
        term.expect(rf"-> {ACCOUNT}  Account 04321")
        term.expect(r"There are 3 roles available to you in 100000004321\.\n"
                    r"Roles in 100000004321 \(Account 04321\):")
        term.expect(r"\(1-3\): ")
        term.send("ReadOnly")
        term.expect(r"-> ReadOnlyAccess")
        term.expect(r"Profile name \[ReadOnlyAccess-100000004321\]: ")
        term.send("ro")
        term.expect(r"Default region for the profile \[us-east-1\]: ")
        term.send("eu-west1")  # friction 11: a region name that is not one
        term.expect(r"'eu-west1' is not an AWS region name: did you mean eu-west-1")
        term.send("eu-west-1")
        term.expect(r"Default output format .*: ")
        term.send("")
        term.expect(r"Turn the plugin on for sso-session emulator .*\[Y/n\]: ")
        term.send("y")
        term.expect(r"Also write \[profile ro-cli\] .*\[y/N\]: ")
        term.send("n")
        term.expect(r"Wrote \[sso-session emulator\], \[profile ro\]")
        assert term.wait() == 0, term.output
    finally:
        term.close()
    assert "SSO start URL" not in term.output and "SSO region" not in term.output
    assert _delta(at_menu, before, "ListAccounts", "ListAccountRoles") == [50, 0]
    assert _delta(_operations(sso_emulator), before, "ListAccounts", "ListAccountRoles") == [50, 1]
    parsed = botocore.configloader.load_config(str(sso_emulator.config_file))
    assert parsed["sso_sessions"]["emulator"]["boto_sso_oidc_enabled"] == "true"
    assert parsed["profiles"]["ro"]["region"] == "eu-west-1"
    print(f"\nconfigure at a terminal, 5,000 accounts at 20 TPS: the first menu after {menu:.2f} s "
          "(50 ListAccounts, 0 ListAccountRoles); then 1 ListAccountRoles")


def test_friction_3_an_existing_session_is_reused_without_a_terminal(sso_emulator):
    """Friction 3 without a terminal: --sso-session alone names the session of the config; its
    start URL and region are not needed as flags."""
    result = run_cli(sso_emulator, "configure", "--sso-session", "emulator", "--account-id",
                     "222222222222", "--role-name", "ReadOnlyAccess", "--profile", "prod")
    assert result.returncode == 0, result.stderr
    profiles = botocore.configloader.load_config(str(sso_emulator.config_file))["profiles"]
    assert profiles["prod"]["sso_session"] == "emulator"


def test_friction_1_the_flag_turns_the_plugin_on_for_plain_boto3(sso_emulator):
    """Friction 1: --enable-plugin writes boto_sso_oidc_enabled = true in the sso-session; then
    a program that never imports the package gets its credentials through the plugin."""
    result = run_cli(sso_emulator, "configure", "--sso-session", "emulator", "--account-id",
                     "222222222222", "--role-name", "ReadOnlyAccess", "--profile", "prod",
                     "--enable-plugin")
    assert result.returncode == 0, result.stderr
    assert "The plugin is on for sso-session emulator" in result.stderr
    session = botocore.configloader.load_config(str(sso_emulator.config_file))["sso_sessions"]["emulator"]
    assert session["boto_sso_oidc_enabled"] == "true"
    child = run_python("""
        import boto3
        session = boto3.Session(profile_name="prod")
        print(session.get_credentials().method)
        print(session.client("sts").get_caller_identity()["Account"])
    """, subprocess_env(sso_emulator))
    assert child.stdout.split() == ["sso-oidc", "222222222222"]


def test_friction_11_configure_dry_run_with_a_failed_login_leaves_no_cool_down(sso_emulator):
    """Friction 11: a login that configure runs is one the person asked for: when it fails (here
    denied), no cool-down of automatic logins is recorded for a session never written."""
    sso_emulator.fault("CreateToken", error="AccessDeniedException", count=1)
    result = run_cli(sso_emulator, "configure", "--sso-session", "corp", "--sso-start-url", START_URL,
                     "--sso-region", "us-east-1", "--account-id", "111111111111", "--role-name",
                     "ReadOnlyAccess", "--profile", "x", "--dry-run")
    assert result.returncode == 1
    assert "was denied in the browser" in result.stderr
    cache = sso_emulator.home / ".aws" / "sso" / "cache"
    assert not list(cache.glob("*.login-cooldown")), list(cache.iterdir())
    assert "[sso-session corp]" not in sso_emulator.config_file.read_text()


# -- 5 and 6: serve --------------------------------------------------------------------------------


def _served_variables(emulator, fmt: str, *args: str) -> dict[str, str]:
    """Start ``serve --format FMT ARGS``, read the variables it prints, stop it (SIGTERM).

    The variables are printed at once, as one block: the block is read up to its end (JSON's
    closing brace, or a whole line after AWS_DEFAULT_REGION) or until stdout was quiet for 5 s,
    so a missing variable is an assertion's failure here, not a test waiting for a line that
    never comes."""
    import os
    import selectors
    import shlex
    import subprocess

    proc = subprocess.Popen([*CLI, "serve", "--profile", "dev", "--format", fmt, *args],
                            env=subprocess_env(emulator), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        read = b""
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            while not (fmt == "json" and read.rstrip().endswith(b"}")) \
                    and not (b"AWS_DEFAULT_REGION=" in read and read.endswith(b"\n")) \
                    and selector.select(timeout=30 if not read else 5):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                read += chunk
        assert read, proc.communicate(timeout=30)
        text = read.decode()
        lines = text.splitlines()
        if fmt == "json":
            return dict(json.loads(text))
        if fmt == "docker":
            words = shlex.split(text)
            return dict(word.split("=", 1) for word in words[1::2])
        pairs = (line.strip().removeprefix("export ").split("=", 1) for line in lines if "=" in line)
        return {name: shlex.split(value)[0] for name, value in pairs}
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.parametrize("imds", [False, True], ids=["container", "imds"])
def test_friction_5_serve_gives_its_clients_the_profiles_region_in_every_format(sso_emulator, imds):
    """Friction 5: every output format of serve (container and --imds) carries the profile's
    region, and plain boto3 with only those variables (no region of its own, no config) calls STS."""
    _logged_in(sso_emulator)
    sso_emulator.write_config(sso_config().replace("region = us-east-1\n", "region = eu-west-1\n")
                              .replace("sso_region = eu-west-1", "sso_region = us-east-1"))
    extra = ["--imds"] if imds else []
    for fmt in ("env", "dotenv", "json", "docker"):
        variables = _served_variables(sso_emulator, fmt, *extra)
        assert (variables.get("AWS_REGION"), variables.get("AWS_DEFAULT_REGION")) == \
            ("eu-west-1", "eu-west-1"), (fmt, sorted(variables))
    # The global --region wins over the profile's, as in exec.
    assert _served_variables(sso_emulator, "json", *extra, "--region", "ap-south-1")["AWS_REGION"] == \
        "ap-south-1"
    import subprocess

    proc = subprocess.Popen([*CLI, "serve", "--profile", "dev", "--format", "json", *extra],
                            env=subprocess_env(sso_emulator), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        text = ""
        while not text.rstrip().endswith("}"):
            line = proc.stdout.readline()
            assert line, proc.communicate(timeout=30)
            text += line
        env = {k: v for k, v in subprocess_env(sso_emulator).items()
               if k not in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EC2_METADATA_DISABLED")}
        env.update(json.loads(text), AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        child = run_python("""
            import boto3
            session = boto3.Session()
            print(session.region_name, session.client("sts").get_caller_identity()["Account"])
        """, env)
        assert child.stdout.split() == ["eu-west-1", "111111111111"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.parametrize("args, said", [
    (["--imds", "--host", "0.0.0.0"], "no caller authentication"),
    (["--imds", "--token-file", "/tmp/x"], "--token-file is for the container endpoint"),
    (["--allow", "not-a-network"], "not-a-network"),
])
def test_friction_6_serves_usage_errors_are_usage_errors(sso_emulator, args, said):
    """Friction 6: options that do not go together are a usage error: exit 2, one line, no
    'unexpected', before anything is started or logged in."""
    result = run_cli(sso_emulator, "serve", "--profile", "dev", *args)
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert said in line and "unexpected" not in line
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 0


# -- 4: output that scales -----------------------------------------------------------------------


@pytest.fixture
def six_hundred(sso_emulator):
    """``generate`` wrote 600 profiles (200 accounts, 3 roles) beside the fixture's ``dev``; logged
    in, and ``dev``'s role credentials cached."""
    from boto_sso_oidc_provider.emulator import Directory

    sso_emulator.state.set_directory(Directory.synthetic(200, 3))
    _logged_in(sso_emulator)
    result = run_cli(sso_emulator, "generate", "--sso-session", "emulator", "--rate", "1000")
    assert result.returncode == 0, result.stderr
    sso_emulator.state.set_directory(Directory())  # dev's account again, for its credentials
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    return sso_emulator


def test_friction_4_status_summarises_600_profiles_in_a_few_lines(six_hundred):
    """Friction 4: after generate wrote 600 profiles, status (no profile named) prints at most 15
    lines: the session, the counts, the default profile; --all prints every profile (issue 28
    counted 1,214 lines by default)."""
    summary = _unnamed(six_hundred, "status")
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.splitlines()
    assert len(lines) <= 15, summary.stdout
    assert lines[0] == 'sso-session "emulator" (https://emulator.awsapps.com/start, us-east-1)'
    assert lines[1].startswith("  logged in: the access token expires ")
    assert lines[2] == "  601 profiles: 1 with valid role credentials cached, 600 with none cached"
    assert lines[-1] == ("601 SSO profiles: boto-sso-oidc status --all lists every one, --profile NAME "
                         "shows one.")
    every = _unnamed(six_hundred, "status", "--all")
    assert every.returncode == 0, every.stderr
    assert every.stdout.count('\nprofile "') == 601
    print(f"\nstatus after generate of 600 profiles: {len(lines)} lines; --all: "
          f"{len(every.stdout.splitlines())} lines")


def test_friction_4_the_default_profile_and_expiring_ones_are_named(six_hundred):
    """The profiles that matter: the default one (a [default] the config defines), and those whose
    role credentials expire within 15 minutes."""
    six_hundred.write_config("\n[default]\nsso_session = emulator\nsso_account_id = 111111111111\n"
                             "sso_role_name = AdministratorAccess\n", append=True)
    for path in (six_hundred.home / ".aws" / "cli" / "cache").glob("*.json"):
        data = json.loads(path.read_text())
        data["Credentials"]["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                          time.gmtime(time.time() + 300))
        path.write_text(json.dumps(data))
    summary = _unnamed(six_hundred, "status")
    assert summary.returncode == 0, summary.stderr
    assert len(summary.stdout.splitlines()) <= 15, summary.stdout
    assert 'profile "default" (the default profile): account 111111111111, role AdministratorAccess' \
        in summary.stdout
    assert 'profile "dev": role credentials expire ' in summary.stdout


def test_friction_4_aws_profile_names_the_profile_as_documented(six_hundred):
    """``--profile`` defaults to $AWS_PROFILE (the help says so): AWS_PROFILE=dev reports dev and
    its session only."""
    result = run_cli(six_hundred, "status", AWS_PROFILE="dev")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('profile "') == 1 and 'profile "dev": account 111111111111' in result.stdout
    assert len(result.stdout.splitlines()) <= 10


@pytest.mark.parametrize("command", [["status"], ["login"], ["list"], ["export"], ["console", "--url"],
                                     ["credential-process"], ["exec", "--", "true"], ["generate"]])
def test_friction_4_an_unknown_profile_fails_everywhere_with_did_you_mean(six_hundred, command):
    """An unknown profile is a non-zero exit for every command, in one short line naming the
    closest profile, never the 601 names (login --profile deev printed a 25 KB line)."""
    result = run_cli(six_hundred, *command[:1], "--profile", "deev", *command[1:])
    assert result.returncode != 0
    line = result.stderr.strip().splitlines()[-1]
    assert "did you mean dev?" in line, line
    assert len(line) < 400, line
    if command == ["credential-process"]:
        return  # its --profile is required: the AWS CLI runs it with one
    by_variable = run_cli(six_hundred, *command, AWS_PROFILE="deev")
    assert by_variable.returncode != 0
    assert "did you mean dev?" in by_variable.stderr.strip().splitlines()[-1], by_variable.stderr


# -- 7: a person's Ctrl-C --------------------------------------------------------------------------

_RETRYING_SCRIPT = """
import sys, boto3
for attempt in range(3):  # a retry loop, as scripts have
    try:
        boto3.Session(profile_name="dev").client("sts").get_caller_identity()
        break
    except Exception as error:
        print("caught by except Exception:", type(error).__name__, flush=True)
"""


@pytest.mark.sso_emulator(auto_approve=False)  # the login waits for a person who never comes
def test_friction_7_ctrl_c_during_an_automatic_login_stops_the_script_and_starts_no_cool_down(
        sso_emulator, tmp_path):
    """Friction 7: at a terminal, Ctrl-C during the automatic login of a plain boto3 script (the
    plugin on by the config) is a KeyboardInterrupt: no `except Exception` retry loop catches it,
    the script ends as Ctrl-C ends it (SIGINT: exit 130 in a shell), and no cool-down starts: the
    next run logs in again. (Without a terminal, SIGINT still starts it: tests/test_swarm.py.)"""
    import signal

    from .programs import ENABLED

    sso_emulator.write_config(sso_config().replace("sso_role_name =", ENABLED + "sso_role_name ="))
    script = tmp_path / "script.py"
    script.write_text(_RETRYING_SCRIPT)
    cache = sso_emulator.home / ".aws" / "sso" / "cache"
    for run in (1, 2):
        term = Pty([sys.executable, str(script)], subprocess_env(sso_emulator), cwd=REPO)
        try:
            term.expect(r"/device\?user_code=")
            import os

            os.write(term.master, b"\x03")
            code = term.wait()
        finally:
            term.close()
        assert code == -signal.SIGINT, term.output  # the shell says 130
        assert "caught by except Exception" not in term.output
        assert "Login cancelled." in term.output
        assert not list(cache.glob("*.login-cooldown")), term.output
        assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == run


# -- 11: the smaller ones ----------------------------------------------------------------------------


@pytest.mark.sso_emulator(auto_approve=False, interval=1)
def test_friction_11_waiting_notices_never_land_inside_the_login_countdown(sso_emulator):
    """Friction 11: a process waiting for the token lock says so on a line of its own, even while
    another process of the same terminal shows its live countdown (rewritten in place)."""
    from .pty_helpers import screen_lines

    script = (f"{' '.join(CLI)} login --profile dev --use-device-code & sleep 2; "
              f"{' '.join(CLI)} credential-process --profile dev > /dev/null; wait")
    term = Pty(["sh", "-c", script], subprocess_env(sso_emulator), cwd=REPO)
    try:
        code = term.expect(r"user_code=([A-Z]{4}-[A-Z]{4})").group(1)
        term.expect(r"Waiting for approval\.\.\. \d+s")
        term.expect(r"Waiting for another process to finish with the SSO token")
        term.expect(r"Waiting for approval\.\.\. \d+s")  # the countdown goes on below it
        sso_emulator.approve(code)
        assert term.wait() == 0, term.output
    finally:
        term.close()
    shown = screen_lines(term.output)
    notices = [line for line in shown if "Waiting for another process" in line]
    assert notices and all(line.startswith("Waiting for another process") for line in notices), shown
    assert _operations(sso_emulator)["StartDeviceAuthorization"] == 1


def test_friction_10_list_says_when_it_answers_from_the_cache(sso_emulator):
    """Friction 10: a list answered from the directory cache says so, and how old it is."""
    _logged_in(sso_emulator)
    first = run_cli(sso_emulator, "list", "--profile", "dev")
    assert first.returncode == 0, first.stderr
    assert "directory cache" not in first.stderr  # listed now
    calls = _operations(sso_emulator)["ListAccounts"]
    again = run_cli(sso_emulator, "list", "--profile", "dev", "--json")
    assert again.returncode == 0, again.stderr
    assert _operations(sso_emulator)["ListAccounts"] == calls
    assert re.fullmatch(r"From the directory cache of \S+Z \(\d+s old, \S+\.json\); --refresh lists again\.",
                        one_line(again.stderr)), again.stderr
    assert json.loads(again.stdout)["accounts"]  # stdout stays the JSON alone


def test_friction_11_status_piped_into_head_stops_quietly(six_hundred):
    """Friction 11: `status --all | head -4` ends without a word on stderr (the reader stopped
    reading on purpose); credential-process, whose stdout a program reads, still says it."""
    import subprocess

    env = subprocess_env(six_hundred)
    env.pop("AWS_PROFILE")
    shell = subprocess.run(["bash", "-c", f"{' '.join(CLI)} status --all | head -4"], env=env,
                           capture_output=True, text=True, timeout=60, cwd=REPO)
    assert len(shell.stdout.splitlines()) == 4
    assert shell.stderr == "", shell.stderr


def test_friction_11_a_corrupt_role_credential_file_is_one_warning(sso_emulator):
    """Friction 11: the warning about a corrupt cache file is printed once per command, not once
    per read (the full path reads it before its lock and under it)."""
    _logged_in(sso_emulator)
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    [path] = (sso_emulator.home / ".aws" / "cli" / "cache").glob("*.json")
    path.write_text("{not json")
    result = run_cli(sso_emulator, "credential-process", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Ignoring the role credentials") == 1, result.stderr


def test_friction_11_no_empty_lock_file_is_left_in_the_aws_directory(sso_emulator):
    """Friction 11: login, credential-process, generate and configure leave no config.lock or
    *.json.lock behind."""
    _logged_in(sso_emulator)
    for command in (["credential-process", "--profile", "dev"], ["generate", "--sso-session", "emulator"],
                    ["configure", "--sso-session", "emulator", "--account-id", "222222222222",
                     "--role-name", "ReadOnlyAccess", "--profile", "prod"]):
        result = run_cli(sso_emulator, *command)
        assert result.returncode == 0, result.stderr
    left = sorted(str(p.relative_to(sso_emulator.home)) for p in sso_emulator.home.rglob("*.lock"))
    assert left == []


@pytest.mark.parametrize("value, seconds", [("8h", 28800), ("90m", 5400), ("8h 0m", 28800),
                                            ("2d 3h", 183600), ("1800", 1800)])
def test_friction_11_durations_are_read_as_status_prints_them(sso_emulator, value, seconds):
    """Friction 11: BOTO_SSO_OIDC_SESSION_DURATION=8h is read (status prints durations as 8h 0m),
    by the full path and the warm path alike."""
    _logged_in(sso_emulator)
    status = run_cli(sso_emulator, "status", "--profile", "dev", "--json",
                     BOTO_SSO_OIDC_SESSION_DURATION=value)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["sso_sessions"][0]["session_duration"] == seconds
    warm = run_cli(sso_emulator, "credential-process", "--profile", "dev",
                   BOTO_SSO_OIDC_SESSION_DURATION=value)
    assert warm.returncode == 0, warm.stderr


_READ_TOO = "must be true or false (yes/no, on/off and 1/0 are read too)"


@pytest.mark.parametrize("value, said", [
    ("flase", f"{_READ_TOO}, not 'flase': did you mean false?"),
    ("maybe", f"{_READ_TOO}, not 'maybe'."),
])
def test_friction_11_a_boolean_that_is_refused_says_what_is_read(sso_emulator, value, said):
    """Friction 11: yes/1/on are read, and the message of a refused value says so (it said 'must
    be true or false' while taking yes), with the closest spelling."""
    sso_emulator.write_config(sso_config().replace("sso_role_name =",
                                                   f"boto_sso_oidc_enabled = {value}\nsso_role_name ="))
    result = run_cli(sso_emulator, "status", "--profile", "dev")
    assert result.returncode == 1
    assert one_line(result.stderr).endswith(f'Profile "dev": boto_sso_oidc_enabled {said}')


def test_friction_11_a_region_that_is_not_one_is_refused_at_once(sso_emulator):
    """Friction 11: eu-west1 is refused when given (it failed later as a connection error)."""
    result = run_cli(sso_emulator, "configure", "--sso-session", "corp", "--sso-start-url", START_URL,
                     "--sso-region", "eu-west1", "--account-id", "1", "--role-name", "R", "--profile", "x")
    assert result.returncode == 2
    assert "'eu-west1' is not an AWS region name: did you mean eu-west-1" in result.stderr
    assert _operations(sso_emulator)["StartDeviceAuthorization"] == 0


def test_friction_11_status_of_a_profile_with_valid_role_credentials_exits_0(sso_emulator):
    """Friction 11: the session needs a login, but the profile's role credentials are valid for
    an hour: status --profile dev exits 0 (it said "needs a login", exit 1)."""
    from .conftest import age_token, token_file

    _logged_in(sso_emulator)
    assert run_cli(sso_emulator, "credential-process", "--profile", "dev").returncode == 0
    path = token_file(sso_emulator.home, "emulator")
    data = age_token(path)
    del data["refreshToken"]
    path.write_text(json.dumps(data))
    result = run_cli(sso_emulator, "status", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert "login needed" in result.stdout and "role credentials: cached, expire" in result.stdout


# -- 8 and 9: the README and the examples ----------------------------------------------------------


def _examples_snippet() -> str:
    """examples/README.md's shell lines after "Try the `credential_process` one" (a fenced block,
    or the indented one it used to be)."""
    text = (REPO / "examples" / "README.md").read_text(encoding="utf-8")
    after = text.split("Try the `credential_process` one", 1)[1].split("\n")
    lines: list[str] = []
    fenced = False
    for line in after[1:]:
        if line.startswith("```"):
            if fenced:
                break
            fenced = True
            continue
        if fenced or line.startswith("    "):
            lines.append(line[4:] if line.startswith("    ") and not fenced else line)
        elif lines and not fenced:
            break
    return "\n".join(lines) + "\n"


def test_friction_9_the_examples_emulator_snippet_cannot_race(sso_emulator, tmp_path):
    """Friction 9: examples/README.md's snippet, run as written on a machine where the emulator
    takes 2 s to start (a shim before the real boto-sso-oidc on PATH): it waits for the emulator
    instead of sending the login to AWS itself with an empty AWS_ENDPOINT_URL."""
    import os
    import shutil
    import subprocess

    from .cli_helpers import console_script

    script = console_script()
    if script is None or shutil.which("aws", path=str(script.parent)) is None:
        pytest.skip("needs the boto-sso-oidc console script and the AWS CLI beside it "
                    "(pip install -e '.[test]')")
    shim = tmp_path / "bin" / "boto-sso-oidc"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nif [ "$1" = emulator ]; then sleep 2; fi\nexec {script} "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "clone"
    shutil.copytree(REPO / "examples", work / "examples")
    env = {k: v for k, v in subprocess_env(sso_emulator).items() if not k.startswith("AWS_")}
    env.update(PATH=f"{shim.parent}{os.pathsep}{script.parent}{os.pathsep}{env['PATH']}",
               AWS_EC2_METADATA_DISABLED="true")
    proc = subprocess.Popen(["bash", "-e", "-c", _examples_snippet()], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=90)
    finally:  # an emulator the snippet started and did not stop is in its process group
        import signal

        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGTERM)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "amazonaws.com" not in result.stderr, result.stderr
    assert result.stdout.count('"Account"') == 2
