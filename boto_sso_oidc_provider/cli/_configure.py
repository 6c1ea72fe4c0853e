"""``boto-sso-oidc configure``: from nothing to a working SSO profile, as ``aws configure sso``.

The steps, each asked at a terminal or taken from its flag:

1. the sso-session: one already in the config is reused as it is (its start
   URL, region and scopes: nothing is asked again); a new one needs the start
   URL, the SSO region (checked against botocore's region names) and a name;
2. a login, unless a valid (or refreshable) token of the session is cached;
   it is an explicit login: a failed one starts no automatic-login cool-down;
3. the account: ``--account-id``, else the accounts listed (ListAccounts,
   every page, a progress line on stderr at a terminal; never the roles of
   every account) and picked from a numbered list that typing narrows (the
   first 20 of a long list are shown);
4. the role: ``--role-name``, else the roles of the chosen account only
   (ListAccountRoles of that one account) and picked the same way. With both
   ``--account-id`` and ``--role-name`` nothing is listed at all: one
   GetRoleCredentials proves the pair (and caches the credentials the
   profile's first use takes); only when it fails are the accounts listed, to
   name the closest ones;
5. the profile's name, region and output format; whether to turn the plugin
   on for the session (``boto_sso_oidc_enabled = true``: boto3 programs use it
   with no code change; ``--enable-plugin`` / ``--no-enable-plugin``); whether
   to write ``[profile NAME-cli]`` for ``credential_process`` users;

then writes ``[sso-session NAME]`` and ``[profile NAME]`` (and the others
asked for) through :mod:`boto_sso_oidc_provider.config.writer`.

Every answer has a flag, so onboarding scripts run it without a terminal;
without one, a missing answer fails at once with the flags to give. An
existing section with other values is never changed without asking (or
``--overwrite``); ``--dry-run`` prints the change as a diff and writes nothing.
Ctrl-C or Ctrl-D at a question writes nothing and says so.

Exit codes: 0 written (or nothing to change); 1 failure (one line on stderr);
2 usage; 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressLine,
    command_line,
    fail,
    helper_command,
    report,
    setup_logging,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..caches.token import TokenManager
    from ..config.reader import AWSConfig, SSOSessionConfig
    from ..config.writer import ConfigEdit
    from ._prompt import Terminal

DEFAULT_SCOPES = "sso:account:access"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Without a terminal, give every answer as a flag: boto-sso-oidc configure --sso-session my-org "
        "--sso-start-url https://my-org.awsapps.com/start --sso-region eu-west-1 --account-id "
        "111111111111 --role-name ReadOnlyAccess --profile dev (--sso-session alone for one already "
        "in the config). Exit codes: 0 written, 1 failure (reason on stderr), 2 bad usage, "
        "130 interrupted.")
    parser.add_argument("--profile", metavar="NAME", help="the profile to write (asked if not given)")
    parser.add_argument("--sso-session", metavar="NAME", dest="sso_session",
                        help="the [sso-session NAME] to write, or to reuse as it is when the "
                             "config has it")
    parser.add_argument("--sso-start-url", metavar="URL", dest="start_url",
                        help="the AWS access portal URL, such as https://my-org.awsapps.com/start")
    parser.add_argument("--sso-region", metavar="REGION", dest="sso_region", type=_region,
                        help="the region of IAM Identity Center")
    parser.add_argument("--sso-registration-scopes", metavar="SCOPES", dest="scopes",
                        default=None, help=f"comma-separated (default: {DEFAULT_SCOPES})")
    parser.add_argument("--account-id", metavar="ID", dest="account_id",
                        help="the AWS account to use (no account is listed)")
    parser.add_argument("--role-name", metavar="ROLE", dest="role_name",
                        help="the role to use there (with --account-id: nothing is listed)")
    parser.add_argument("--output", metavar="FORMAT", type=_output_format,
                        help=f"the profile's output format: {', '.join(OUTPUT_FORMATS)}")
    parser.add_argument("--enable-plugin", action=argparse.BooleanOptionalAction, dest="enable_plugin",
                        help="write boto_sso_oidc_enabled = true in the sso-session, so that every "
                             "boto3 program of an environment with this package uses it for the "
                             "session's profiles, with no code change (asked at a terminal; "
                             "--no-enable-plugin: leave it as it is)")
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
    # The global --region is the profile's region here, checked as --sso-region is.
    parser.add_argument("--region", metavar="REGION", type=_region,
                        help="the profile's region (default: asked at a terminal, else none)")


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

    def say(self, text: str) -> None:
        if self.terminal is not None:
            self.terminal.say(text)


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


def _check_region(region: str) -> str | None:
    from ..config.reader import region_problem

    return region_problem(region)


def _region(text: str) -> str:
    complaint = _check_region(text)
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
    except KeyboardInterrupt:
        # Ctrl-C at a question (or during the login or a listing): the cursor is on the prompt's
        # line; the reason goes on a line of its own.
        if terminal is not None:
            terminal.say("")
        fail("configure", "cancelled: nothing was written.")
        return EXIT_INTERRUPTED
    except Exception as error:  # one line for a person, never a traceback
        return report("configure", error, debug=args.debug)
    finally:
        if terminal is not None:
            terminal.close()


def _existing_session(config: AWSConfig, name: str) -> SSOSessionConfig | None:
    """The config's ``[sso-session NAME]``, validated; None when there is none, or when it is not
    usable as it is (a key missing or wrong: then it is asked for, and written)."""
    from ..exceptions import SSOConfigError

    if name not in config.sso_session_names():
        return None
    try:
        return config.sso_session(name)
    except SSOConfigError:
        return None


def _session(args: argparse.Namespace, asker: _Asker, config: AWSConfig) \
        -> tuple[str, dict[str, str], SSOSessionConfig | None]:
    """The sso-session: its name, the values to write for it, and the config's own session when
    it is reused (then nothing about it is asked: its start URL and region are the config's)."""
    from ..exceptions import SSOConfigError

    names = config.sso_session_names()
    name = args.sso_session
    if name is None and names and not args.start_url:
        hint = f"existing: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}; or a new name"
        name = asker.need("the sso-session name (--sso-session)").ask(
            f"SSO session name ({hint})", default=names[0], check=_check_name)
    existing = None
    if name is not None:
        complaint = _check_name(name)
        if complaint:
            raise SSOConfigError(f"--sso-session {name}: {complaint}")
        existing = _existing_session(config, name)
        if existing is not None and not args.start_url and not args.sso_region and not args.scopes:
            asker.say(f'Using sso-session "{name}" of the config: {existing.start_url}, '
                      f"{existing.region}.")
            return name, {}, existing

    def known(key: str) -> str | None:  # the session's own value, as a default
        return config.session_value(name, key) if name is not None else None

    start_url = args.start_url or known("sso_start_url") or asker.need(
        "the SSO start URL (--sso-start-url)").ask(
        "SSO start URL (such as https://my-org.awsapps.com/start)", check=_check_url)
    complaint = _check_url(start_url)
    if complaint:
        raise SSOConfigError(f"--sso-start-url {start_url}: {complaint}")
    given_region = args.sso_region or known("sso_region")
    if given_region and _check_region(given_region):
        given_region = None  # the config's is wrong: asked again
    sso_region = given_region or asker.need("the SSO region (--sso-region)").ask(
        "SSO region", default="us-east-1", check=_check_region)
    if name is None:
        name = asker.need("the sso-session name (--sso-session)").ask(
            "SSO session name", default=_session_name_from(start_url), check=_check_name)
    values = {"sso_start_url": start_url, "sso_region": sso_region,
              "sso_registration_scopes": args.scopes or known("sso_registration_scopes") or DEFAULT_SCOPES}
    return name, values, None


def _configure(args: argparse.Namespace, asker: _Asker) -> int:
    from ..config.reader import AWSConfig, SSOSessionConfig, environment_settings, parse_registration_scopes
    from ..config.writer import config_file_path, edit_config

    if args.profile and _check_name(args.profile):
        from ..exceptions import SSOConfigError

        raise SSOConfigError(f"--profile {args.profile}: {_check_name(args.profile)}")
    config = AWSConfig.load()
    session_name, session_values, existing = _session(args, asker, config)
    path = config_file_path()
    # Before the login, settle what is already known: a session (and, when every flag names it,
    # the profile) that exists with other values.
    known_profile = ({"sso_session": session_name, "sso_account_id": args.account_id,
                      "sso_role_name": args.role_name}
                     if args.profile and args.account_id and args.role_name else None)

    def known(edit: ConfigEdit) -> None:
        if session_values:
            edit.set_section("sso-session", session_name, session_values, overwrite=False)
        if known_profile is not None:
            edit.set_section("profile", args.profile, known_profile, overwrite=False)

    overwrite = _settle(asker, args, path, known)

    sso = existing or SSOSessionConfig(
        name=session_name, start_url=session_values["sso_start_url"],
        region=session_values["sso_region"],
        registration_scopes=parse_registration_scopes(session_values["sso_registration_scopes"]),
        settings=environment_settings())
    manager = _logged_in(sso, args)
    account_id, role_name = _account_and_role(asker, args, manager)

    profile = args.profile or asker.need("the profile name (--profile)").ask(
        "Profile name", default=f"{role_name}-{account_id}", check=_check_name)
    region, output = args.region, args.output
    if asker.terminal is not None and not args.profile:  # asked only with the other questions
        region = region or asker.terminal.ask_optional("Default region for the profile",
                                                       default=sso.region, check=_check_region)
        output = output or asker.terminal.ask_optional(
            f"Default output format ({', '.join(OUTPUT_FORMATS)})", check=_check_output)
    profile_values = {"sso_session": session_name, "sso_account_id": account_id, "sso_role_name": role_name}
    profile_values.update({key: value for key, value in (("region", region), ("output", output)) if value})
    enable = _enable_plugin(asker, args, config, session_name)
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
        if session_values:
            edit.set_section("sso-session", session_name, session_values, overwrite=overwrite)
        if enable:
            from ..config.reader import ENABLED_KEY

            # Asked for in so many words: a "false" there is changed without a second question.
            edit.set_section("sso-session", session_name, {ENABLED_KEY: "true"}, overwrite=True)
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
    plugin = (f"\nThe plugin is on for sso-session {session_name} (boto_sso_oidc_enabled = true): "
              "boto3 programs of every environment with this package installed use it."
              if enable else "")
    print(f"{done} [sso-session {session_name}], [profile {profile}]{extra} in {result.path}.{plugin}\n"
          f"Try: aws sts get-caller-identity --profile {profile}", file=sys.stderr)
    return EXIT_OK


def _enable_plugin(asker: _Asker, args: argparse.Namespace, config: AWSConfig, session: str) -> bool:
    """Whether to write ``boto_sso_oidc_enabled = true`` in the session: the flag; else, at a
    terminal, the answer to a question (not asked when the session already has it on)."""
    from ..config._settings import SettingError, parse
    from ..config.reader import ENABLED_KEY

    if args.enable_plugin is not None:
        return bool(args.enable_plugin)
    current = config.session_value(session, ENABLED_KEY)
    try:
        if current is not None and parse("enabled", ENABLED_KEY, current) is True:
            return False  # already on: nothing to ask or write
    except SettingError:
        pass  # a value that cannot be read: the question fixes it
    if asker.terminal is None:
        return False
    return asker.terminal.confirm(
        f"Turn the plugin on for sso-session {session} (boto_sso_oidc_enabled = true: boto3 "
        "programs log in and share the caches with no code change)?", default=True)


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


def _logged_in(sso: SSOSessionConfig, args: argparse.Namespace) -> TokenManager:
    """The session's token manager, with a token: a cached one (refreshed if need be), else a
    login (the browser or the device flow, chosen as ``login`` chooses, vanity start URLs
    resolved as there). The person asked for it, so it is an explicit login: one that fails
    starts no cool-down of automatic logins (and a successful one ends one)."""
    from ..caches.token import TokenManager
    from ..exceptions import SSOLoginRequiredError
    from ..options import Options

    options = Options(open_browser=False if args.no_browser else None,
                      use_device_code=True if args.use_device_code else None)
    quiet = TokenManager(sso, options=Options(allow_login=False))
    try:
        quiet.get()
    except SSOLoginRequiredError:
        TokenManager(sso, options=Options(allow_login=False, open_browser=options.open_browser,
                                          use_device_code=options.use_device_code)).login()
    # A token revoked meanwhile is renewed once by the listing, never by a login nobody asked for.
    return TokenManager(sso, options=Options(allow_login=False))


def _list_accounts(asker: _Asker, manager: TokenManager) -> list[dict[str, str]]:
    from ..organizations.directory import accounts

    line = ProgressLine(lambda moment: f"Listing accounts: {moment.accounts_done:,} so far...",
                        enabled=asker.terminal is not None and sys.stderr.isatty())
    try:
        found = accounts(manager, progress=line)
    finally:
        line.clear()
    return found


def _label(account: dict[str, str]) -> str:
    return f"{account['account_id']}  {account['account_name']}  {account.get('email', '')}".rstrip()


def _account_and_role(asker: _Asker, args: argparse.Namespace, manager: TokenManager) -> tuple[str, str]:
    """The account and role: from the flags (proved by one GetRoleCredentials, nothing listed),
    else the accounts listed and one picked, then that account's roles only."""
    from ..exceptions import SSOProviderError
    from ..organizations.directory import account_roles

    sso = manager.sso
    if args.account_id and args.role_name:
        return _proved(asker, args, manager)
    where = ""
    if args.account_id:
        account_id = str(args.account_id)
    else:
        found = _list_accounts(asker, manager)
        if not found:
            raise SSOProviderError(f"{sso.display_name} gives access to no account: ask your "
                                   "administrator for an assignment, then run configure again.")
        if len(found) == 1:
            account = found[0]
            asker.say(f"The only AWS account available to you: {_label(account)}")
        else:
            asker.say(f"There are {len(found):,} AWS accounts available to you.")
            account = asker.need("the account (--account-id)").pick(
                "Accounts", [(_label(a), a) for a in found])
        account_id = account["account_id"]
        where = f" ({account['account_name']})" if account["account_name"] else ""
    roles = account_roles(manager, account_id)
    if roles is None:
        raise SSOProviderError(_unknown_account(asker, manager, account_id))
    if args.role_name:
        if args.role_name not in roles:
            raise SSOProviderError(_unknown_role(account_id, args.role_name, roles))
        return account_id, str(args.role_name)
    if not roles:
        raise SSOProviderError(f"Account {account_id} gives no role: choose another account.")
    if len(roles) == 1:
        asker.say(f"The only role available to you there: {roles[0]}")
        return account_id, roles[0]
    asker.say(f"There are {len(roles)} roles available to you in {account_id}.")
    role = asker.need("the role (--role-name)").pick(f"Roles in {account_id}{where}",
                                                     [(r, r) for r in roles])
    return account_id, role


def _proved(asker: _Asker, args: argparse.Namespace, manager: TokenManager) -> tuple[str, str]:
    """``--account-id`` and ``--role-name``, proved by one GetRoleCredentials (its credentials
    cached for the profile's first use); when the portal refuses, the accounts (or the
    account's roles) are listed to say which exist."""
    from ..config.reader import SSOProfileConfig
    from ..credentials.role_credentials import RoleCredentialsManager
    from ..exceptions import RoleCredentialsError, SSOProviderError
    from ..organizations.directory import account_roles

    account_id, role_name = str(args.account_id), str(args.role_name)
    profile = SSOProfileConfig(profile=args.profile or f"{role_name}-{account_id}", sso=manager.sso,
                               account_id=account_id, role_name=role_name)
    # The profile is not in the config yet: its clients are the session's (no profile's settings).
    options = dataclasses.replace(manager.options, client_factory=manager.options.clients())
    try:
        RoleCredentialsManager(profile, options=options, token_manager=manager).get()
        return account_id, role_name
    except RoleCredentialsError:
        pass
    roles = account_roles(manager, account_id)
    if roles is None:
        raise SSOProviderError(_unknown_account(asker, manager, account_id))
    raise SSOProviderError(_unknown_role(account_id, role_name, roles))


def _unknown_account(asker: _Asker, manager: TokenManager, account_id: str) -> str:
    from ..config._settings import close_matches, either

    found = _list_accounts(asker, manager)
    names = {a["account_id"]: a["account_name"] for a in found}
    near = close_matches(account_id, names, cutoff=0.75)
    which = (f"did you mean {either([f'{n} ({names[n]})' for n in near])}?" if near else
             f"its accounts are {either([f'{n} ({names[n]})' for n in sorted(names)], 'and')}."
             if len(names) <= 5 else f"it gives access to {len(names):,} others")
    return (f"--account-id {account_id} is not one of the accounts {manager.sso.display_name} gives "
            f"access to: {which} boto-sso-oidc list --sso-session {manager.sso.name} shows them.")


def _unknown_role(account_id: str, role_name: str, roles: list[str]) -> str:
    from ..config._settings import close_matches, either

    near = close_matches(role_name, roles)
    which = (f"did you mean {either(near)}?" if near else
             f"its roles are {either(roles, 'and')}." if roles else "it gives you no role.")
    return f"--role-name {role_name} is not a role of account {account_id}: {which}"
