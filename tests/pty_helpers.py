"""A person at a terminal, for tests: a command on a pseudo-terminal, read with ``expect``,
answered with ``send``."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import Sequence


class Pty:
    """``args`` running with a pseudo-terminal as stdin, stdout, stderr and controlling terminal."""

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: str | os.PathLike[str] | None = None,
                 timeout: float = 60) -> None:
        self.master, slave = os.openpty()
        slave_name = os.ttyname(slave)

        def take_terminal() -> None:  # after setsid(): the first terminal opened becomes the controlling one
            os.close(os.open(slave_name, os.O_RDWR))

        self.proc = subprocess.Popen(list(args), env=env, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, preexec_fn=take_terminal, cwd=cwd)
        os.close(slave)
        self.timeout = timeout
        self.output = ""
        self._seen = 0

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # the child closed the terminal
            return False
        if not chunk:
            return False
        self.output += chunk.decode(errors="replace").replace("\r\n", "\n")
        return True

    def expect(self, pattern: str) -> re.Match[str]:
        """Wait until the output after the previous match matches ``pattern`` (a regex)."""
        deadline = time.monotonic() + self.timeout
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.output, self._seen)
            if found:
                self._seen = found.end()
                return found
            if time.monotonic() > deadline or not self._read(0.1) and self.proc.poll() is not None:
                raise AssertionError(f"never saw {pattern!r}; the terminal showed:\n{self.output}")

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def wait(self) -> int:
        """The exit code, once the command ends (reading what it still prints)."""
        deadline = time.monotonic() + self.timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0):
            if not select.select([self.master], [], [], 0)[0]:
                break
        code = self.proc.wait(max(1.0, deadline - time.monotonic()))
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def screen_lines(output: str) -> list[str]:
    """The lines a terminal shows for ``output``: carriage returns move back to the start of the
    line, ``ESC [ K`` clears from there to its end, other escape sequences are dropped."""
    lines: list[str] = []
    line: list[str] = []
    cursor = 0
    index = 0
    while index < len(output):
        char = output[index]
        if char == "\x1b":
            found = re.match(r"\x1b\[[0-9;?]*([A-Za-z])", output[index:])
            if found:
                if found.group(1) == "K":
                    del line[cursor:]
                index += found.end()
                continue
        if char == "\r":
            cursor = 0
        elif char == "\n":
            lines.append("".join(line))
            line, cursor = [], 0
        else:
            if cursor < len(line):
                line[cursor] = char
            else:
                line.append(char)
            cursor += 1
        index += 1
    if line:
        lines.append("".join(line))
    return lines
