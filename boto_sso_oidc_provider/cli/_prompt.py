"""Questions for a person at a terminal: prompts with defaults and numbered pickers.

No TUI library: plain lines, so it works in any terminal, over ssh, in tmux,
and in a pty test. A picker lists numbered choices (the first
:data:`SHOWN` of a long list, with how many more there are); typing a number
picks one, typing text narrows the list to the choices containing it (a
single match is picked at once), an empty line shows the whole list again.

Questions go to the terminal (stdin/stderr when stdin is one, else
``/dev/tty``, or the console on Windows), never to stdout. :func:`open_terminal` returns None when
there is no terminal, and the caller fails at once with the flags to give
instead: nothing here ever waits for a person who is not there. End of input
(Ctrl-D) raises :class:`PromptCancelled`; Ctrl-C is KeyboardInterrupt (exit 130).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import IO, Generic, TypeVar

T = TypeVar("T")

__all__ = ["PromptCancelled", "Terminal", "open_terminal", "SHOWN"]

SHOWN = 20
"""Choices a picker prints at most; typing text narrows a longer list."""


class PromptCancelled(Exception):
    """The person ended the input (Ctrl-D) instead of answering."""


class Terminal:
    """Where questions are asked and answers read."""

    def __init__(self, reader: IO[str], writer: IO[str], *, owned: bool = False) -> None:
        self._reader = reader
        self._writer = writer
        self._owned = owned

    def close(self) -> None:
        if self._owned:
            self._reader.close()
            self._writer.close()

    def say(self, text: str = "") -> None:
        """``text`` and a newline; what a terminal would act on (it may come from the config or
        the portal: an account's name) is shown as ``?``."""
        from ..logins._interaction import sanitize

        self._writer.write("\n".join(sanitize(line) for line in text.split("\n")) + "\n")
        self._writer.flush()

    def _line(self, prompt: str) -> str:
        self._writer.write(prompt)
        self._writer.flush()
        line = self._reader.readline()
        if not line:
            self._writer.write("\n")
            raise PromptCancelled("no answer (end of input)")
        return line.strip()

    def ask(self, question: str, *, default: str | None = None,
            check: Callable[[str], str | None] | None = None) -> str:
        """Ask until the answer is non-empty (or the default) and ``check`` returns no complaint."""
        suffix = f" [{default}]" if default else ""
        while True:
            answer = self._line(f"{question}{suffix}: ") or (default or "")
            if not answer:
                self.say("  An answer is needed.")
                continue
            complaint = check(answer) if check else None
            if complaint:
                self.say(f"  {complaint}")
                continue
            return answer

    def ask_optional(self, question: str, *, default: str | None = None,
                     check: Callable[[str], str | None] | None = None) -> str | None:
        """Ask until ``check`` has no complaint; an empty answer is ``default`` (None: no value)."""
        suffix = f" [{default or 'none'}]"
        while True:
            answer = self._line(f"{question}{suffix}: ") or default
            complaint = check(answer) if check and answer else None
            if not complaint:
                return answer
            self.say(f"  {complaint}")

    def confirm(self, question: str, *, default: bool = False) -> bool:
        hint = "Y/n" if default else "y/N"
        while True:
            answer = self._line(f"{question} [{hint}]: ").lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False

    def pick(self, title: str, choices: Sequence[tuple[str, T]]) -> T:
        """One of ``choices`` (label, value) from a numbered list; typing text filters it."""
        return _Picker(self, title, choices).run()


class _Picker(Generic[T]):
    def __init__(self, terminal: Terminal, title: str, choices: Sequence[tuple[str, T]]) -> None:
        self.terminal = terminal
        self.title = title
        self.choices = list(choices)

    def _show(self, shown: Sequence[tuple[str, T]], query: str) -> None:
        heading = f"{self.title} (matching {query!r})" if query else self.title
        self.terminal.say(heading + ":")
        width = len(str(min(len(shown), SHOWN)))
        for number, (label, _) in enumerate(shown[:SHOWN], 1):
            self.terminal.say(f"  {number:>{width}}) {label}")
        if len(shown) > SHOWN:
            self.terminal.say(f"  ... and {len(shown) - SHOWN} more: type part of a name, id or "
                              "e-mail address to narrow the list")

    def run(self) -> T:
        shown, query = self.choices, ""
        self._show(shown, query)
        while True:
            listed = min(len(shown), SHOWN)
            answer = self.terminal._line(f"Number, or text to filter (1-{listed}): ")
            # A number of the list picks; a longer string of digits (an account id) filters.
            if answer.isdigit() and len(answer) <= max(2, len(str(listed))):
                number = int(answer)
                if 1 <= number <= listed:
                    label, value = shown[number - 1]
                    self.terminal.say(f"  -> {label}")
                    return value
                self.terminal.say(f"  {answer} is not in the list: type 1 to {listed}"
                                  + (", or text to narrow the list." if len(shown) > listed else "."))
                continue
            if not answer:
                shown, query = self.choices, ""
                self._show(shown, query)
                continue
            matches = [choice for choice in self.choices if answer.lower() in choice[0].lower()]
            if len(matches) == 1:
                self.terminal.say(f"  -> {matches[0][0]}")
                return matches[0][1]
            if not matches:
                self.terminal.say(f"  Nothing matches {answer!r}; an empty line shows the whole list.")
                continue
            shown, query = matches, answer
            self._show(shown, query)


def open_terminal() -> Terminal | None:
    """The person's terminal: stdin and stderr when stdin is one, else ``/dev/tty`` (the console on
    Windows); None if neither."""
    from .._platform import is_terminal
    from .._platform import open_terminal as open_the_terminal

    if is_terminal(sys.stdin):
        return Terminal(sys.stdin, sys.stderr)
    streams = open_the_terminal()
    return None if streams is None else Terminal(*streams, owned=True)
