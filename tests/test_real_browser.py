"""The pages people see, in a real headless browser: Debian's chromium driven by Selenium.

``boto-sso-oidc login`` runs as a real child process; ``BROWSER`` points at a
small script that hands the URL to the Selenium-driven chromium, which does
what a person does: click Allow (or Deny) on the emulator's consent page and
land on this package's callback page, or type the user code into the
emulator's device page. Each page is saved as a screenshot (in
``$BOTO_SSO_OIDC_SCREENSHOTS`` when set, else the test's temporary directory).

Skipped, saying why, only when chromium, chromedriver or selenium is truly
absent; ``.ci/run`` installs them.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .cli_helpers import CLI
from .conftest import REPO, read_json, subprocess_env, token_file

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

pytestmark = pytest.mark.slow


def _missing() -> str | None:
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if absent:
        return (f"{' and '.join(absent)} not installed: apt-get install -y chromium "
                "chromium-driver (as .ci/run does)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=900,700"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("BOTO_SSO_OIDC_SCREENSHOTS") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _shoot(driver: Any, directory: Path, name: str) -> None:
    path = directory / f"{name}.png"
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 5000, path


def _handoff_script(tmp_path: Path) -> tuple[str, Path]:
    """A ``BROWSER`` that hands the URL over to the test (which drives chromium with it)."""
    urls = tmp_path / "urls"
    script = tmp_path / "handoff-browser"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{urls}"\n')
    script.chmod(0o755)
    return str(script), urls


def _wait_for(predicate: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _login(emulator: Any, tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    script, urls = _handoff_script(tmp_path)
    env = subprocess_env(emulator, BROWSER=script, BOTO_SSO_OIDC_OPEN_BROWSER="true")
    proc = subprocess.Popen([*CLI, "login", "--profile", "dev", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, urls


def _button(driver: Any, label: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']")


@pytest.mark.sso_emulator(auto_approve=False)
def test_browser_login_in_chromium(sso_emulator, browser, screenshots, tmp_path):
    """login opens the browser through BROWSER; Allow on the consent page; the callback page
    says so; the login completes. Then Deny, and the callback page says the login failed."""
    proc, urls = _login(sso_emulator, tmp_path)
    try:
        url = _wait_for(lambda: urls.exists() and urls.read_text().strip(), "the browser to open")
        browser.get(url)
        assert "Allow access?" in browser.page_source and "jane.doe" in browser.page_source
        _shoot(browser, screenshots, "1-consent")
        _button(browser, "Allow access").click()
        _wait_for(lambda: "You are logged in" in browser.title, "the callback page")
        assert browser.current_url.startswith("http://127.0.0.1:")
        assert "/oauth/callback?code=" in browser.current_url
        assert 'Logged in to sso-session "emulator".' in browser.page_source
        _shoot(browser, screenshots, "2-callback-success")
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert read_json(token_file(sso_emulator.home, "emulator"))["refreshToken"]

    urls.unlink()
    proc, urls = _login(sso_emulator, tmp_path, "--force")  # the token is valid: a new session
    try:
        url = _wait_for(lambda: urls.exists() and urls.read_text().strip(), "the browser to open")
        browser.get(url)
        _button(browser, "Deny").click()
        _wait_for(lambda: "Login failed" in browser.title, "the failure page")
        assert "was denied in the browser" in browser.page_source
        _shoot(browser, screenshots, "3-callback-failure")
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "denied" in stderr.strip().splitlines()[-1]


@pytest.mark.sso_emulator(auto_approve=False)
def test_device_login_typing_the_code_in_chromium(sso_emulator, browser, screenshots, tmp_path):
    from selenium.webdriver.common.by import By

    proc, _ = _login(sso_emulator, tmp_path, "--use-device-code", "--no-browser")
    try:
        assert proc.stderr is not None
        shown = ""
        while "check that it shows the code" not in shown:
            line = proc.stderr.readline()
            assert line, shown
            shown += line
        user_code = re.search(r"the code: ([A-Z]{4}-[A-Z]{4})", shown)
        assert user_code is not None, shown
        browser.get(f"{sso_emulator.url}/device")
        _shoot(browser, screenshots, "4-device-enter-code")
        field = browser.find_element(By.NAME, "user_code")
        field.send_keys(user_code.group(1).lower().replace("-", " "))  # as a person might type it
        _button(browser, "Next").click()
        _wait_for(lambda: user_code.group(1) in browser.page_source, "the code to be shown")
        _shoot(browser, screenshots, "5-device-confirm")
        _button(browser, "Allow access").click()
        _wait_for(lambda: "Request approved" in browser.page_source, "the approval page")
        _shoot(browser, screenshots, "6-device-approved")
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert token_file(sso_emulator.home, "emulator").exists()

