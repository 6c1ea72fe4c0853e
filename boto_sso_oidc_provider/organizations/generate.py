"""Step 5, for a whole organization: profiles for every account and role: their names and sections.

``boto-sso-oidc generate`` writes them into a managed block of the AWS config
(see :mod:`..config.writer`); this module decides what the block holds, from
the accounts and roles SSO ListAccounts/ListAccountRoles returned, and
nothing here reads or writes a file.

Names come from a template with the fields ``{account_name}``,
``{account_id}``, ``{role_name}``, ``{sso_session}`` and ``{region}`` (default
``{account_name}.{role_name}``; with several regions, one profile per region,
and a template without ``{region}`` gets ``.{region}`` appended; a field may
have a format spec such as ``{account_name:.20}``, its numbers at most
:data:`MAX_FIELD_WIDTH`), normalised to what a profile name may hold
unquoted (letters, digits and ``_.@+-``: accents dropped, anything else
becomes ``-``). Collisions (two accounts with the same name, or a name a
profile outside the block already has) are resolved deterministically: every
name in the collision gets ``-<account id>`` appended, and if that still
collides, ``-2``, ``-3`` ... in account-id, role-name order. A name never
depends on which other roles exist, except through such a collision.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..config.writer import SectionSpec

__all__ = ["DEFAULT_TEMPLATE", "FIELDS", "MAX_FIELD_WIDTH", "Assignment", "TemplateError",
           "normalise_profile_name", "profile_names", "generated_sections", "assignments", "template_for"]

DEFAULT_TEMPLATE = "{account_name}.{role_name}"
FIELDS = ("account_name", "account_id", "role_name", "sso_session", "region")

_INVALID = re.compile(r"[^A-Za-z0-9_.@+-]+")
_DASHES = re.compile(r"-{2,}")
_NUMBER = re.compile(r"\d+")

MAX_FIELD_WIDTH = 100
"""The largest width or precision a template's format spec may give a field."""


class TemplateError(ValueError):
    """A profile-name template uses an unknown field or is malformed."""


@dataclass(frozen=True, order=True)
class Assignment:
    """A role the person may use in an account."""

    account_id: str
    role_name: str
    account_name: str = ""
    region: str = ""
    """The profile's ``region`` (one profile per region with several); '' for none."""


def assignments(accounts: Iterable[Mapping[str, object]], regions: Sequence[str] = ("",)) \
        -> list[Assignment]:
    """Every (account, role, region) from ``list``'s account records, sorted by account id and role."""
    found = [
        Assignment(str(account["account_id"]), str(role), str(account.get("account_name") or ""), region)
        for account in accounts for role in account.get("roles", []) or []  # type: ignore[attr-defined]
        for region in (regions or ("",))
    ]
    return sorted(found)


def template_for(template: str, regions: Sequence[str]) -> str:
    """``template``, with ``.{region}`` appended when there are several regions and it has none."""
    if len(regions) > 1 and "{region}" not in template:
        return template + ".{region}"
    return template


def check_template(template: str) -> None:
    """Raise :class:`TemplateError` unless ``template`` uses only :data:`FIELDS`, each with at
    most a format spec whose numbers stay within :data:`MAX_FIELD_WIDTH` (so that
    ``{account_name:>9999999999}`` cannot ask for gigabytes) and that formats a string."""
    try:
        parsed = [(name, spec) for _, name, spec, _conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError as error:
        raise TemplateError(f"the profile name template {template!r} is malformed ({error}); "
                            "write fields as {account_name}") from None
    unknown = [name for name, _ in parsed if name not in FIELDS]
    if unknown or not parsed:
        raise TemplateError(
            f"the profile name template {template!r} must use the fields "
            f"{', '.join('{' + name + '}' for name in FIELDS)} only"
            + (f", not {{{unknown[0]}}}" if unknown else "") + ".")
    for name, spec in parsed:
        # A nested field ({account_name:>{account_id}}) would take its width from the data.
        numbers = [int(number) for number in _NUMBER.findall(spec or "")]
        if "{" in (spec or "") or any(number > MAX_FIELD_WIDTH for number in numbers):
            raise TemplateError(f"the profile name template {template!r} formats {{{name}}} with "
                                f"{spec!r}: a width or precision is a number up to {MAX_FIELD_WIDTH}, "
                                f"such as {{{name}:.20}}.")
    try:
        template.format(**{name: "x" for name in FIELDS})
    except (ValueError, TypeError) as error:
        raise TemplateError(f"the profile name template {template!r} cannot be applied ({error}); "
                            "write fields as {account_name} or {account_name:.20}") from None


def normalise_profile_name(text: str) -> str:
    """``text`` as a profile name: ASCII letters, digits and ``_.@+-`` only ('' if nothing is left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = _DASHES.sub("-", _INVALID.sub("-", ascii_text))
    return name.strip("-.")


def _render(template: str, assignment: Assignment, sso_session: str) -> str:
    # Each field on its own first, so "Data & Analytics (EU)" + ".Admin" is not "...-EU-.Admin".
    name = normalise_profile_name(template.format(
        account_name=normalise_profile_name(assignment.account_name) or assignment.account_id,
        account_id=assignment.account_id, role_name=normalise_profile_name(assignment.role_name),
        sso_session=normalise_profile_name(sso_session), region=assignment.region))
    return name or normalise_profile_name(f"{assignment.account_id}.{assignment.role_name}")


def profile_names(items: Sequence[Assignment], *, template: str = DEFAULT_TEMPLATE,
                  sso_session: str = "", taken: Collection[str] = ()) -> dict[Assignment, str]:
    """A unique profile name for every assignment (see the module docstring for the rules).

    ``taken`` are names in use elsewhere (profiles outside the managed block).
    Raises :class:`TemplateError` for a bad template.
    """
    check_template(template)
    ordered = sorted(items)
    first = {item: _render(template, item, sso_session) for item in ordered}
    counts: dict[str, int] = {}
    for name in first.values():
        counts[name] = counts.get(name, 0) + 1
    names: dict[Assignment, str] = {}
    used = set(taken)
    for item in ordered:
        name = first[item]
        if counts[name] > 1 or name in taken:
            name = f"{name}-{item.account_id}"
        candidate, number = name, 2
        while candidate in used:
            candidate = f"{name}-{number}"
            number += 1
        used.add(candidate)
        names[item] = candidate
    return names


def generated_sections(items: Sequence[Assignment], *, sso_session: str,
                       template: str = DEFAULT_TEMPLATE, taken: Collection[str] = (),
                       extra: Mapping[str, str] | None = None) -> list[SectionSpec]:
    """The ``[profile ...]`` sections for ``items``, in name order, each with ``extra`` keys.

    Each has ``sso_session``, ``sso_account_id`` and ``sso_role_name``, then
    ``region`` (the assignment's, if it has one) and ``extra`` (which must not set
    those three, nor ``region`` when assignments have one).
    """
    names = profile_names(items, template=template, sso_session=sso_session, taken=taken)
    extra = dict(extra or {})
    sections = [
        SectionSpec("profile", name, (("sso_session", sso_session), ("sso_account_id", item.account_id),
                                      ("sso_role_name", item.role_name),
                                      *((("region", item.region),) if item.region else ()),
                                      *extra.items()))
        for item, name in names.items()
    ]
    return sorted(sections, key=lambda spec: spec.name)
