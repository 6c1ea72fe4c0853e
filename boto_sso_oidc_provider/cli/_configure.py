"""``boto-sso-oidc configure``: from nothing to a working SSO profile, as ``aws configure sso``.

Asks (or takes as flags) the start URL, the SSO region and the sso-session
name; logs in (a cached, valid token of that session is reused); lists the
accounts and roles and lets the person pick one of each from numbered lists
(typing filters them; a single choice is taken at once); asks the profile
name, region and output format; then writes ``[sso-session NAME]`` and
``[profile NAME]`` (and, with ``--credential-process``, ``[profile NAME-cli]``
for the AWS CLI v1 and other ``credential_process`` users) through
:mod:`boto_sso_oidc_provider.config.writer`.

Every answer has a flag, so onboarding scripts run it without a terminal;
without one, a missing answer fails at once with the flags to give. An
existing section with other values is never changed without asking (or
``--overwrite``); ``--dry-run`` prints the change as a diff and writes nothing.

Exit codes: 0 written (or nothing to change); 1 failure (one line on stderr);
2 usage; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ._common import EXIT_OK, command_line, fail, helper_command, report, setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from ..config.writer import ConfigEdit
    from ._prompt import Terminal

DEFAULT_SCOPES = "sso:account:access"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Without a terminal, give every answer as a flag: boto-sso-oidc configure --sso-session my-org "
        "--sso-start-url https://my-org.awsapps.com/start --sso-region eu-west-1 --account-id "
        "111111111111 --role-name ReadOnlyAccess --profile dev. Exit codes: 0 written, 1 failure "
        "(reason on stderr), 2 bad usage, 130 interrupted.")
    parser.add_argument("--profile", metavar="NAME", help="the profile to write (asked if not given)")
    parser.add_argument("--sso-session", metavar="NAME", dest="sso_session",
                        help="the [sso-session NAME] to write or reuse")
    parser.add_argument("--sso-start-url", metavar="URL", dest="start_url",
                        help="the AWS access portal URL, such as https://my-org.awsapps.com/start")
    parser.add_argument("--sso-region", metavar="REGION", dest="sso_region",
                        help="the region of IAM Identity Center")
    parser.add_argument("--sso-registration-scopes", metavar="SCOPES", dest="scopes",
                        default=None, help=f"comma-separated (default: {DEFAULT_SCOPES})")
    parser.add_argument("--account-id", metavar="ID", dest="account_id", help="the AWS account to use")
    parser.add_argument("--role-name", metavar="ROLE", dest="role_name", help="the role to use there")
    parser.add_argument("--output", metavar="FORMAT", type=_output_format,
                        help=f"the profile's output format: {', '.join(OUTPUT_FORMATS)}")
    parser.add_argument("--credential-process", action="store_true", dest="credential_process",
                        help="also write [profile NAME-cli] with credential_process = "
                             "/absolute/path/to/boto-sso-oidc credential-process --profile NAME (and "
                             "the profile's region and output), for the AWS CLI v1 and other tools")
    parser.add_argument("--overwrite", action="store_true",
                        help="change existing sections whose keys differ without asking")
    parser.add_argument("--dry-run", action="store_true", dest="dry_run",
                        help="print the change as a diff on stdout and write nothing")
    parser.add_argument("--no-browser", action="store_true", dest="no_browser",
                        help="do not open a browser for the login: print the URL (and code) only")
    parser.add_argument("--use-device-code", action="store_true", dest="use_device_code",
                        help="log in with the device flow (a URL and a code) even where a browser "
                             "could be opened, as login --use-device-code")


class _NoTerminal(Exception):
    """An answer is missing and there is nobody to ask."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class _Asker:
    """Answers from flags first, else from the person at the terminal, else :class:`_NoTerminal`."""

    def __init__(self, terminal: Terminal | None) -> None:
        self.terminal = terminal

    def need(self, what: str) -> Terminal:
        if self.terminal is None:
            raise _NoTerminal(what)
        return self.terminal


OUTPUT_FORMATS = ("json", "yaml", "yaml-stream", "text", "table")
"""The values the AWS CLI accepts for ``output`` (it refuses a profile with any other)."""


def _check_output(output: str) -> str | None:
    if output in OUTPUT_FORMATS:
        return None
    return f"The AWS CLI knows no output format {output!r}: use one of {', '.join(OUTPUT_FORMATS)}."


def _output_format(text: str) -> str:
    complaint = _check_output(text)
    if complaint:
        raise argparse.ArgumentTypeError(complaint)
    return text


def _check_url(url: str) -> str | None:
    parsed = urlparse(url)
    if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.hostname in
                                         ("127.0.0.1", "localhost", "::1")):
        return "The start URL must be an https:// URL, such as https://my-org.awsapps.com/start."
    if not parsed.hostname:
        return "The start URL needs a host, such as https://my-org.awsapps.com/start."
    return None


def _check_name(name: str) -> str | None:
    from ..config.writer import valid_section_name

    if not valid_section_name(name):
        return "Use letters, digits and _.@+=,:/- only."
    return None


def _session_name_from(url: str) -> str:
    from ..organizations.generate import normalise_profile_name

    host = urlparse(url).hostname or ""
    first = host.split(".")[0] if host and not host.replace(".", "").isdigit() else ""
    return normalise_profile_name(first) or "my-sso"


def run(args: argparse.Namespace) -> int:
    from ._prompt import PromptCancelled, open_terminal

    setup_logging(args.debug)
    import os

    from ..logins._interaction import person_can_answer

    # configure writes profiles and uses none: an AWS_PROFILE naming one that does not exist
    # yet (the one being set up, often) must not stop botocore from making the SSO clients.
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(variable, None)

    terminal = open_terminal() if person_can_answer() else None
    try:
        return _configure(args, _Asker(terminal))
    except _NoTerminal as missing:
        return fail("configure", f"no terminal to ask for {missing.what}: give every answer as a flag, "
                                 "e.g. boto-sso-oidc configure --sso-session NAME --sso-start-url URL "
                                 "--sso-region REGION --account-id ID --role-name ROLE --profile NAME "
                                 "(see boto-sso-oidc configure --help).")
    except PromptCancelled:
        return fail("configure", "cancelled: nothing was written.")
    except Exception as error:  # one line for a person, never a traceback
        return report("configure", error, debug=args.debug)
    finally:
        if terminal is not None:
            terminal.close()


def _configure(args: argparse.Namespace, asker: _Asker) -> int:
    from ..config.reader import SSOSessionConfig, environment_settings, parse_registration_scopes
    from ..config.writer import config_file_path, edit_config
    from ..exceptions import SSOConfigError

    start_url = args.start_url or asker.need("the SSO start URL (--sso-start-url)").ask(
        "SSO start URL (such as https://my-org.awsapps.com/start)", check=_check_url)
    complaint = _check_url(start_url)
    if complaint:
        raise SSOConfigError(f"--sso-start-url {start_url}: {complaint}")
    sso_region = args.sso_region or asker.need("the SSO region (--sso-region)").ask(
        "SSO region", default="us-east-1")
    session_name = args.sso_session or asker.need("the sso-session name (--sso-session)").ask(
        "SSO session name", default=_session_name_from(start_url), check=_check_name)
    scopes = args.scopes or DEFAULT_SCOPES
    for name, flag in ((session_name, "--sso-session"), (args.profile, "--profile")):
        if name and _check_name(name):
            raise SSOConfigError(f"{flag} {name}: {_check_name(name)}")

    session_values = {"sso_start_url": start_url, "sso_region": sso_region,
                      "sso_registration_scopes": scopes}
    path = config_file_path()
    # Before the login, settle what is already known: a session (and, when every flag names it,
    # the profile) that exists with other values.
    known_profile = ({"sso_session": session_name, "sso_account_id": args.account_id,
                      "sso_role_name": args.role_name}
                     if args.profile and args.account_id and args.role_name else None)

    def known(edit: ConfigEdit) -> None:
        edit.set_section("sso-session", session_name, session_values, overwrite=False)
        if known_profile is not None:
            edit.set_section("profile", args.profile, known_profile, overwrite=False)

    overwrite = _settle(asker, args, path, known)

    sso = SSOSessionConfig(name=session_name, start_url=start_url, region=sso_region,
                           registration_scopes=parse_registration_scopes(scopes),
                           settings=environment_settings())
    accounts = _accounts(sso, args)
    account_id, role_name = _pick(asker, args, accounts, sso)

    profile = args.profile or asker.need("the profile name (--profile)").ask(
        "Profile name", default=f"{role_name}-{account_id}", check=_check_name)
    region, output = args.region, args.output
    if asker.terminal is not None and not args.profile:  # asked only with the other questions
        region = region or asker.terminal.ask_optional("Default region for the profile", default=sso_region)
        output = output or asker.terminal.ask_optional(
            f"Default output format ({', '.join(OUTPUT_FORMATS)})", check=_check_output)
    profile_values = {"sso_session": session_name, "sso_account_id": account_id, "sso_role_name": role_name}
    profile_values.update({key: value for key, value in (("region", region), ("output", output)) if value})
    with_process = args.credential_process
    if not with_process and asker.terminal is not None and not args.profile:
        with_process = asker.terminal.confirm(
            f"Also write [profile {profile}-cli] for the AWS CLI v1 and other credential_process users?")

    # The AWS CLI runs the helper by this line, with its own PATH (maybe not the venv's), and
    # takes the region and output from the -cli profile itself (it never reads PROFILE's).
    process_values = {
        "credential_process": command_line([*helper_command(), "credential-process", "--profile", profile]),
        **{key: value for key, value in profile_values.items() if key in ("region", "output")}}

    def change(edit: ConfigEdit, overwrite: bool) -> None:
        edit.set_section("sso-session", session_name, session_values, overwrite=overwrite)
        edit.set_section("profile", profile, profile_values, overwrite=overwrite)
        if with_process:
            edit.set_section("profile", f"{profile}-cli", process_values, overwrite=overwrite)

    overwrite = _settle(asker, args, path, lambda edit: change(edit, overwrite), overwrite=overwrite)
    result = edit_config(lambda edit: change(edit, overwrite), path=path, dry_run=args.dry_run)
    if args.dry_run:
        sys.stdout.write(result.diff())
        sys.stdout.flush()
        print(f"Would write {result.path} (--dry-run: nothing was written)." if result.changed
              else f"Nothing to change in {result.path}.", file=sys.stderr)
        return EXIT_OK
    done = "Wrote" if result.changed else "Already there:"
    extra = f" and [profile {profile}-cli]" if with_process else ""
    print(f"{done} [sso-session {session_name}], [profile {profile}]{extra} in {result.path}.\n"
          f"Try: aws sts get-caller-identity --profile {profile}", file=sys.stderr)
    return EXIT_OK


def _settle(asker: _Asker, args: argparse.Namespace, path: Any, change: Any, *,
            overwrite: bool = False) -> bool:
    """Find out whether ``change`` conflicts with the config; ask (or need ``--overwrite``).

    Returns whether existing keys may be overwritten; raises when they may not.
    """
    from ..config.writer import ConfigConflictError, edit_config

    if overwrite or args.overwrite:
        return True
    try:
        edit_config(change, path=path, dry_run=True)
        return False
    except ConfigConflictError as conflict:
        if asker.terminal is None:
            raise ConfigConflictError(
                f"{conflict.message.split(': nothing was written')[0]}: nothing was written; run again "
                "with --overwrite to change those keys, or choose another name.",
                path=conflict.path, section=conflict.section, differences=conflict.differences) from None
        asker.terminal.say(f"{conflict.section} already exists in {conflict.path}:")
        for key, (old, new) in conflict.differences.items():
            asker.terminal.say(f"  {key} = {old}  ->  {new}")
        if not asker.terminal.confirm("Overwrite these keys?"):
            raise ConfigConflictError(
                f"{conflict.section} in {conflict.path} was left as it is: nothing was written. Choose "
                "another name, or run again and confirm.", path=conflict.path,
                section=conflict.section, differences=conflict.differences) from None
        return True


def _accounts(sso: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Log in (reusing a valid cached token of the session; the browser or the device flow,
    chosen as ``login`` chooses, vanity start URLs resolved as there) and list the accounts and roles."""
    from ..caches.token import TokenManager
    from ..options import Options
    from ._list import accounts_of

    manager = TokenManager(sso, options=Options(
        allow_login=True, open_browser=False if args.no_browser else None,
        use_device_code=True if args.use_device_code else None))
    return accounts_of(manager)


def _pick(asker: _Asker, args: argparse.Namespace, accounts: list[dict[str, Any]],
          sso: Any) -> tuple[str, str]:
    from ..exceptions import SSOProviderError

    if not accounts:
        raise SSOProviderError(f"{sso.display_name} gives access to no account: ask your administrator "
                               "for an assignment, then run configure again.")
    by_id = {str(account["account_id"]): account for account in accounts}
    if args.account_id:
        if args.account_id not in by_id:
            raise SSOProviderError(f"--account-id {args.account_id} is not one of the accounts "
                                   f"{sso.display_name} gives access to ({', '.join(sorted(by_id))}); "
                                   "boto-sso-oidc list --sso-session " + str(sso.name) + " shows them.")
        account = by_id[args.account_id]
    elif len(accounts) == 1:
        account = accounts[0]
        if asker.terminal is not None:
            asker.terminal.say(f"One account is available: {account['account_id']} {account['account_name']}")
    else:
        account = asker.need("the account (--account-id)").pick(
            "Accounts", [(f"{a['account_id']}  {a['account_name']}  {a.get('email', '')}".rstrip(), a)
                         for a in accounts])
    roles = [str(role) for role in account["roles"]]
    if args.role_name:
        if args.role_name not in roles:
            raise SSOProviderError(f"--role-name {args.role_name} is not a role of account "
                                   f"{account['account_id']} (its roles: {', '.join(roles) or 'none'}).")
        return str(account["account_id"]), args.role_name
    if not roles:
        raise SSOProviderError(f"Account {account['account_id']} gives no role: choose another account.")
    if len(roles) == 1:
        if asker.terminal is not None:
            asker.terminal.say(f"One role is available: {roles[0]}")
        return str(account["account_id"]), roles[0]
    role = asker.need("the role (--role-name)").pick(
        f"Roles in {account['account_id']} ({account['account_name']})", [(role, role) for role in roles])
    return str(account["account_id"]), role

