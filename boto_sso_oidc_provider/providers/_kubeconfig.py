"""Step 6 of the flow, into kubectl: a kubeconfig's ``aws eks get-token`` users pointed at ``eks-token``.

kubectl (client-go) reaches role credentials through the exec plugin of a
kubeconfig user, as boto3 reaches them through the providers beside this module;
this module puts this package into that place, as :mod:`.installation` puts it
into sessions. It edits the user's kubeconfig, never the AWS config (which only
:mod:`~boto_sso_oidc_provider.config` reads and writes).

A kubeconfig is YAML, and this package has no YAML dependency at run time; it
does not need one, because it changes only what it can prove it reads right:
the ``exec`` stanza of a ``users`` entry in the block style ``aws eks
update-kubeconfig`` (PyYAML) and kubectl (Go's yaml) write::

    users:
    - name: arn:aws:eks:us-west-2:111111111111:cluster/dev
      user:
        exec:
          apiVersion: client.authentication.k8s.io/v1beta1
          args:
          - --region
          - us-west-2
          - eks
          - get-token
          - --cluster-name
          - dev
          - --output
          - json
          command: aws
          env:
          - name: AWS_PROFILE
            value: dev

Two edits, line by line, everything else byte for byte (comments, order, other
users, clusters, contexts): the ``command`` line becomes this package's command,
and the ``eks`` and ``get-token`` items become one ``eks-token`` item (so ``--region``,
``--profile``, ``--cluster-name``/``--cluster-id``, ``--role``/``--role-arn``,
``--output json`` and the ``env`` list, ``AWS_PROFILE`` above all, stay as they
were: ``eks-token`` takes them all). A stanza is rewritten only when every line of
it is understood: its keys are the exec keys kubectl knows, each once, ``command``
is ``aws``, ``args`` a block list of plain or simply quoted scalars holding
``eks get-token`` and only those options; no anchors, aliases, tags, flow
collections or multi-line scalars. Any other stanza is left alone and named in
:attr:`Rewrite.refused`, with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

__all__ = ["Rewrite", "rewrite_kubeconfig", "yaml_scalar"]

_EXEC_KEYS = ("apiVersion", "args", "command", "env", "interactiveMode", "provideClusterInfo",
              "installHint")
_OPTIONS_WITH_VALUES = ("--region", "--profile", "--cluster-name", "--cluster-id", "--role", "--role-arn",
                        "--output")
_KEY_LINE = re.compile(r"^( *)([A-Za-z][A-Za-z0-9_-]*):(?: +(.*))?$")
_PLAIN = re.compile(r"[A-Za-z0-9_./+@=-][A-Za-z0-9_./+@=:,-]*")


@dataclass
class Rewrite:
    """What :func:`rewrite_kubeconfig` did: the new text, the users rewritten, those it left."""

    text: str
    rewritten: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(user name, reason) of each ``aws`` exec stanza left as it was."""


class _Unsure(Exception):
    """A line this reader cannot prove it reads as YAML would."""


def yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when that is unambiguous, else double-quoted (JSON)."""
    if _PLAIN.fullmatch(text) and not re.fullmatch(r"[-+.0-9].*[0-9]|true|false|null|yes|no|on|off|~",
                                                    text, re.IGNORECASE):
        return text
    return json.dumps(text)


def _scalar(raw: str) -> str:
    """The value of a one-line plain, single- or double-quoted scalar (a trailing comment dropped)."""
    raw = raw.strip()
    if raw.startswith('"'):
        end = raw.find('"', 1)
        while end != -1 and raw[end - 1] == "\\":
            end = raw.find('"', end + 1)
        if end == -1 or raw[end + 1:].strip() not in ("",) and not raw[end + 1:].lstrip().startswith("#"):
            raise _Unsure("a double-quoted scalar")
        body = raw[1:end]
        if "\\" in body and not re.fullmatch(r'(?:[^\\]|\\["\\/bfnrt])*', body):
            raise _Unsure("an escape JSON does not have")
        value: str = json.loads(f'"{body}"')
        return value
    if raw.startswith("'"):
        match = re.fullmatch(r"'((?:[^']|'')*)'\s*(?:#.*)?", raw)
        if match is None:
            raise _Unsure("a single-quoted scalar")
        return match.group(1).replace("''", "'")
    value = re.sub(r"\s+#.*$", "", raw)
    if not value or value[0] in "&*!|>{}[]%@`\"'" or value.startswith(("- ", "? ", ": ")) \
            or ": " in value or value.endswith(":"):
        raise _Unsure(f"the value {value!r}")
    return value


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The index after the block of the key on line ``start`` at ``indent``: the lines more indented,
    and ``- `` items at the same indent (block sequences in a mapping, as PyYAML writes them)."""
    index, end = start + 1, start + 1
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip(" ")
        if stripped and not stripped.startswith("#"):
            depth = len(line) - len(stripped)
            if depth < indent or (depth == indent and not stripped.startswith("- ") and stripped != "-"):
                break
            end = index + 1  # blank lines and comments after the block belong to what follows
        index += 1
    return end


def _user_name(lines: list[str], exec_line: int) -> str:
    """The ``name`` of the ``users`` item around the ``exec`` key on ``exec_line``."""
    for index in range(exec_line, -1, -1):
        match = re.match(r"^ *- +name: *(.*)$", lines[index]) or re.match(r"^ +name: *(.*)$", lines[index])
        if match:
            try:
                return _scalar(match.group(1))
            except _Unsure:
                return match.group(1).strip()
        if lines[index].startswith("- ") and index != exec_line:
            break
    return "?"


def _top_section(lines: list[str], index: int) -> str | None:
    for earlier in range(index, -1, -1):
        match = re.match(r"^([A-Za-z][A-Za-z0-9_-]*):", lines[earlier])
        if match:
            return match.group(1)
    return None


def _rewrite_stanza(lines: list[str], start: int, end: int, command: list[str]) -> list[str]:
    """The new lines of the exec stanza ``lines[start:end]`` (its keys), or raise :class:`_Unsure`."""
    keys: dict[str, tuple[int, int, str | None]] = {}
    index = start
    indent: int | None = None
    while index < end:
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            raise _Unsure(f"the line {stripped!r}")
        depth = len(match.group(1))
        if indent is None:
            indent = depth
        if depth != indent or match.group(2) in keys:
            raise _Unsure(f"the line {stripped!r}")
        if match.group(2) not in _EXEC_KEYS:
            raise _Unsure(f"the key {match.group(2)}")
        block_end = _block_end(lines, index, depth)
        keys[match.group(2)] = (index, block_end, match.group(3))
        index = block_end
    if "command" not in keys or "args" not in keys:
        raise _Unsure("no command or args")
    command_line, command_end, command_value = keys["command"]
    if command_value is None or command_end != command_line + 1:
        raise _Unsure("the command")
    program = _scalar(command_value)
    if re.split(r"[\\/]", program)[-1] not in ("aws", "aws.exe", "aws.cmd"):
        raise _Unsure(f"the command {program!r} is not aws")
    args_line, args_end, args_value = keys["args"]
    if args_value not in (None, ""):
        raise _Unsure("args is not a block list")
    items: list[tuple[int, str]] = []
    item_indent: int | None = None
    for number in range(args_line + 1, args_end):
        line = lines[number]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = re.match(r"^( *)- +(.*)$", line)
        if match is None or (item_indent is not None and len(match.group(1)) != item_indent):
            raise _Unsure(f"the args line {stripped!r}")
        item_indent = len(match.group(1))
        items.append((number, _scalar(match.group(2))))
    values = [value for _, value in items]
    position = next((i for i in range(len(values) - 1) if values[i:i + 2] == ["eks", "get-token"]), None)
    if position is None:
        raise _Unsure("args without eks get-token")
    rest = values[:position] + values[position + 2:]
    at = 0
    while at < len(rest):
        if rest[at] not in _OPTIONS_WITH_VALUES or at + 1 >= len(rest):
            raise _Unsure(f"the argument {rest[at]!r}, which eks-token may not take as aws does")
        if rest[at] == "--output" and rest[at + 1] != "json":
            raise _Unsure("--output other than json")
        at += 2
    prefix = " " * (item_indent or 0)
    replaced: dict[int, list[str]] = {items[position][0]: [f"{prefix}- eks-token"],
                                      items[position + 1][0]: []}
    if len(command) > 1:  # python -m boto_sso_oidc_provider: its arguments come first
        first = items[0][0]
        replaced[first] = [f"{prefix}- {yaml_scalar(arg)}" for arg in command[1:]] + \
            replaced.get(first, [lines[first]])
    replaced[command_line] = [f"{' ' * (indent or 0)}command: {yaml_scalar(command[0])}"]
    return [new for number in range(start, end) for new in replaced.get(number, [lines[number]])]


def rewrite_kubeconfig(text: str, command: list[str]) -> Rewrite:
    """``text`` with each ``aws eks get-token`` exec stanza of its ``users`` running ``command``
    (``[program, *leading arguments]``) ``eks-token`` instead; see the module docstring."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    result = Rewrite(text)
    output: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = re.match(r"^( *)exec:\s*(#.*)?$", line)
        if match is None or _top_section(lines, index) != "users":
            output.append(line)
            index += 1
            continue
        end = _block_end(lines, index, len(match.group(1)))
        name = _user_name(lines, index)
        stanza = lines[index + 1:end]
        output.append(line)
        if not any(re.search(r"\bget-token\b", entry) for entry in stanza):
            output.extend(stanza)  # not an aws eks get-token user: not ours to judge
        else:
            try:
                output.extend(_rewrite_stanza(lines, index + 1, end, command))
                result.rewritten.append(name)
            except _Unsure as unsure:
                output.extend(stanza)
                result.refused.append((name, f"not rewritten: {unsure}"))
        index = end
    result.text = newline.join(output)
    return result
