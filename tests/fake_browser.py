"""A stand-in for a person's browser, run through ``BROWSER`` by the login under test.

Usage: ``python fake_browser.py URL``. ``FAKE_BROWSER`` says what the person
does on the authorize page: ``allow`` (default), ``deny``, ``ignore`` (never
comes back), ``error`` (comes back with
this login's state and ``error=server_error``, whose ``error_description``
holds terminal escape codes), ``hold`` (waits until the file
``FAKE_BROWSER_GO`` exists before following the redirect) or ``replay``
(comes back with a code someone else already spent, using the client in the
registration cache file ``FAKE_BROWSER_REGISTRATION``). Each step is
appended to ``FAKE_BROWSER_LOG`` (the URL, then the title of the page the
browser ended on), so a test can check what the person saw.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\r\nsecond line\x9b1m"
"""The ``error_description`` of mode ``error``: a title change, a screen clear, a colour, a
line break and a C1 control sequence introducer."""


def _fetch(url: str, data: bytes | None = None,
           headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(status, Location, body) without following redirects."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=60) as response:
            return response.status, "", response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("Location", ""), error.read().decode()


def _log(line: str) -> None:
    path = os.environ.get("FAKE_BROWSER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(line + "\n")


def _decide(url: str, decision: str) -> str:
    """The redirect back to the client, after the consent page if there is one."""
    status, location, _ = _fetch(url)
    if status == 302:
        return location
    parts = urlsplit(url)
    form = {k: v[0] for k, v in parse_qs(parts.query).items()}
    form["decision"] = decision
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    status, location, _ = _fetch(target, urlencode(form).encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302, status
    return location


def _with(location: str, **changes: str) -> str:
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def main(url: str) -> None:
    mode = os.environ.get("FAKE_BROWSER", "allow")
    _log(url)
    if mode == "ignore":
        return
    location = _decide(url, "deny" if mode == "deny" else "approve")
    if mode == "error":
        state = parse_qs(urlsplit(location).query)["state"][0]
        location = _with(location.split("?")[0], state=state, error="server_error",
                         error_description=ESCAPES)
    elif mode == "hold":
        while not os.path.exists(os.environ["FAKE_BROWSER_GO"]):
            time.sleep(0.05)
    elif mode == "replay":
        # Someone else redeems the code first (with the public client's cached secret
        # and a guessed verifier: a failed attempt spends the code too).
        code = parse_qs(urlsplit(location).query)["code"][0]
        authorize = urlsplit(url)
        with open(os.environ["FAKE_BROWSER_REGISTRATION"], encoding="utf-8") as file:
            registration = json.load(file)
        body = json.dumps({"clientId": registration["clientId"],
                           "clientSecret": registration["clientSecret"],
                           "grantType": "authorization_code", "code": code,
                           "codeVerifier": "x" * 64,
                           "redirectUri": location.split("?")[0]})
        status, _, _ = _fetch(f"{authorize.scheme}://{authorize.netloc}/token", body.encode(),
                              {"Content-Type": "application/json"})
        _log(f"SPENT {status}")
    status, _, page = _fetch(location)
    title = re.search(r"<title>(.*?)</title>", page)
    _log(f"PAGE {status} {title.group(1) if title else '?'}")


if __name__ == "__main__":
    main(sys.argv[1])
