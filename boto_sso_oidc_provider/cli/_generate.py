"""``boto-sso-oidc generate``: a profile for every account and role of an sso-session.

Lists the accounts and roles (as ``list`` does, logging in if needed and
allowed) and writes one ``[profile NAME]`` per role into a managed block of
the AWS config, marked by ``# BEGIN boto-sso-oidc generate --sso-session S``
and ``# END ...`` comment lines. Re-running rewrites only that block: profiles
of roles that are gone are removed, nothing outside the block changes (not a
byte), and when nothing changed the file is not even written. Names follow
``--template`` (see :mod:`boto_sso_oidc_provider.organizations.generate`).

With several ``--region`` values, one profile per role and region (the
template gets ``{region}``; see :mod:`boto_sso_oidc_provider.organizations.generate`).
``--account``/``--role`` keep some accounts and roles only (the block then
holds just those). Accounts and roles come from the directory cache when it is
fresh (``--refresh`` lists again). ``--credential-process`` also writes
``[profile NAME-cli]`` beside each profile, with a ``credential_process`` line
running this installation's ``boto-sso-oidc`` by absolute path (quoted as
botocore splits it on this platform: a path with spaces or backslashes works
on Windows), for the AWS CLI v1 and other tools that know no SSO.

stdout: with ``--dry-run`` the diff that would be applied; otherwise nothing.
stderr: a summary of at most a few lines (counts of profiles added, removed and
unchanged against the block written before, and how the listing went); the
names with ``--verbose``. A listing that fails writes nothing and says how far
it got.

Exit codes: 0 written (or nothing to do); 1 failure (one line on stderr); 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..config.writer import SectionSpec

from ._common import EXIT_OK, add_profile_or_session, fail, report, setup_logging

_RESERVED = ("sso_session", "sso_account_id", "sso_role_name")


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, such as output=json, not {text!r}")
    if key in _RESERVED:
        raise argparse.ArgumentTypeError(f"{key} is set by generate itself")
    return key, value


def configure(parser: argparse.ArgumentParser) -> None:
    from ..organizations.generate import DEFAULT_TEMPLATE
    from ._list import add_listing_options

    parser.epilog = ("Example: boto-sso-oidc generate --sso-session corp --region eu-west-1 "
                     "--set output=json. Exit codes: 0 written or nothing to do, 1 failure "
                     "(reason on stderr), 2 bad usage.")
    add_profile_or_session(parser)
    parser.add_argument("--template", default=DEFAULT_TEMPLATE, metavar="TEMPLATE",
                        help="profile names, from {account_name}, {account_id}, {role_name}, "
                             f"{{sso_session}} and {{region}} (default: {DEFAULT_TEMPLATE}; with "
                             "several --region, .{region} is appended unless the template has it); "
                             "normalised to letters, digits and _.@+-")
    parser.add_argument("--set", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                        dest="extra",
                        help="a key for every generated profile, such as output=json or "
                             "boto_sso_oidc_auto_login=false (repeatable); --region R sets region = R")
    # Repeatable here (one profile per region), unlike the global --region it replaces.
    parser.conflict_handler = "resolve"
    parser.add_argument("--region", action="append", default=None, metavar="REGION",
                        help="the region of the generated profiles (repeatable: one profile per "
                             "role and region)")
    parser.add_argument("--credential-process", action="store_true", dest="credential_process",
                        help="also write [profile NAME-cli] beside each, with credential_process = "
                             "/absolute/path/to/boto-sso-oidc credential-process --profile NAME (and "
                             "its region and --set keys), for the AWS CLI v1 and other tools")
    parser.add_argument("--dry-run", action="store_true", dest="dry_run",
                        help="print the change as a diff on stdout and write nothing")
    parser.add_argument("--verbose", action="store_true",
                        help="name every profile added and removed (on stderr)")
    add_listing_options(parser)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.debug)
    try:
        return _generate(args)
    except Exception as error:  # one line for a person, never a traceback
        return report("generate", error, debug=args.debug, profile=args.profile)


def _credential_process_section(spec: SectionSpec) -> SectionSpec:
    """``[profile NAME-cli]`` for generated ``[profile NAME]``: credential_process running this
    installation's boto-sso-oidc for NAME (a line botocore splits right on this platform), and
    NAME's keys but the sso_* ones (with those, botocore's own SSO provider would answer first)."""
    from ..config.writer import SectionSpec
    from ._common import command_line, helper_command

    line = command_line([*helper_command(), "credential-process", "--profile", spec.name])
    kept = tuple((key, value) for key, value in spec.values if not key.startswith("sso_"))
    return SectionSpec(spec.kind, f"{spec.name}-cli", (("credential_process", line), *kept))


def _generate(args: argparse.Namespace) -> int:
    from ..config.writer import ConfigEdit, block_markers, edit_config
    from ..organizations.generate import assignments, check_template, generated_sections, template_for
    from ..sessions import token_manager
    from ._list import fetch, listing_summary

    regions = list(dict.fromkeys(args.region or []))
    extra = dict(args.extra)
    if "region" in extra and len(regions) > 1:
        return fail("generate", "--set region=... and several --region values disagree: give the "
                                "regions with --region only.")
    # One profile per role and region ('' : no region key, or --set's).
    per_region = regions if regions and "region" not in extra else [""]
    template = template_for(args.template, per_region)
    check_template(template)
    manager = token_manager(args.profile, args.sso_session)
    sso = manager.sso
    if sso.name is None:
        return fail("generate", f'profile "{args.profile}" keeps sso_start_url in the profile itself '
                                "(the legacy form), so there is no sso-session to generate for: run "
                                "boto-sso-oidc configure to create an [sso-session], then generate "
                                "--sso-session NAME.")
    block: str = sso.name
    _, found = fetch(args, manager)
    items = assignments(found.accounts, per_region)
    report_: dict[str, Any] = {}

    def change(edit: ConfigEdit) -> None:
        before = {name for kind, name in edit.block_sections(block) if kind == "profile"}
        taken = edit.names("profile", outside_block=sso.name)
        sections = generated_sections(items, sso_session=block, template=template,
                                      taken=taken, extra=extra)
        if args.credential_process:
            sections = sorted([*sections, *map(_credential_process_section, sections)],
                              key=lambda spec: spec.name)
        preamble = (f"Managed by `boto-sso-oidc generate --sso-session {sso.name}`: running it again "
                    "rewrites everything up to the END line\n(profiles of roles that are gone are "
                    "removed). Edit outside this block; your edits inside it would be lost.")
        edit.replace_block(block, sections, preamble=preamble)
        after = {spec.name for spec in sections}
        report_.update(added=sorted(after - before), removed=sorted(before - after),
                       unchanged=len(after & before), total=len(after))

    result = edit_config(change, dry_run=args.dry_run)
    if args.dry_run:
        sys.stdout.write(result.diff())
        sys.stdout.flush()
    counts = (f"{len(report_['added'])} added, {len(report_['removed'])} removed, "
              f"{report_['unchanged']} unchanged")
    what = (f"{report_['total']} profiles for {sso.display_name} in {result.path} "
            f"(between the '{block_markers(sso.name)[0]}' and END lines)")
    if not result.changed:
        print(f"Nothing to change: {what} are up to date.", file=sys.stderr)
    else:
        verb = "Would write" if args.dry_run else "Wrote"
        print(f"{verb} {what}: {counts}.", file=sys.stderr)
    print(listing_summary(found), file=sys.stderr)
    if args.verbose:
        for label in ("added", "removed"):
            for name in report_[label]:
                print(f"  {label} {name}", file=sys.stderr)
    return EXIT_OK
