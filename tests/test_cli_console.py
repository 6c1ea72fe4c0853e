"""``boto-sso-oidc console`` and the emulator's federation endpoint: the URL signs in, altered ones do not."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from boto_sso_oidc_provider.credentials.console import (
    ConsoleSigninError,
    console_destination,
    federation_endpoint,
    signin_url,
)

from .cli_helpers import one_line, run_cli


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def visit(url: str) -> tuple[int, str | None, str]:
    """GET ``url`` without following redirects: (status, Location, body)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.headers.get("Location"), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location"), error.read().decode()


def credentials(emulator) -> dict[str, str]:
    result = run_cli(emulator, "export", "--profile", "dev", "--format", "process")
    assert result.returncode == 0, result.stderr
    data: dict[str, str] = json.loads(result.stdout)
    return data


def test_console_url_signs_in_at_the_emulator(sso_emulator):
    assert run_cli(sso_emulator, "login").returncode == 0
    result = run_cli(sso_emulator, "console", "--profile", "dev", "--url", "--destination", "s3",
                     "--session-duration", "3600")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith(f"{sso_emulator.url}/federation?")
    query = parse_qs(urlparse(url).query)
    assert query["Action"] == ["login"]
    destination = "https://console.aws.amazon.com/s3/home?region=us-east-1"
    assert query["Destination"] == [destination]
    assert visit(url)[:2] == (302, destination)
    assert sso_emulator.calls()["operations"]["GetSigninToken"] == 1
    assert sso_emulator.calls()["operations"]["ConsoleLogin"] == 1


def test_altered_credentials_or_token_are_rejected(sso_emulator):
    assert run_cli(sso_emulator, "login").returncode == 0
    good = credentials(sso_emulator)
    endpoint = f"{sso_emulator.url}/federation"
    for key in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        altered = {**good, key: good[key][:-2] + ("AA" if not good[key].endswith("AA") else "BB")}
        with pytest.raises(ConsoleSigninError) as caught:
            signin_url(altered, destination="https://console.aws.amazon.com/", endpoint=endpoint)
        assert "refused the credentials (HTTP 400" in str(caught.value)
        assert endpoint in str(caught.value)
        assert altered["SecretAccessKey"] not in str(caught.value)
    url = signin_url(good, destination="https://console.aws.amazon.com/", endpoint=endpoint)
    assert visit(url)[0] == 302
    # A URL whose sign-in token was altered (or made up) does not sign in.
    query = parse_qs(urlparse(url).query)
    token = query["SigninToken"][0]
    forged = {**{k: v[0] for k, v in query.items()}, "SigninToken": token[:-3] + "xyz"}
    status, location, body = visit(f"{endpoint}?{urlencode(forged)}")
    assert (status, location) == (400, None) and "not valid" in body


def test_expired_credentials_are_rejected_by_the_endpoint(sso_emulator):
    assert run_cli(sso_emulator, "login").returncode == 0
    good = credentials(sso_emulator)
    sso_emulator.expire("role_credentials")
    with pytest.raises(ConsoleSigninError, match="expired"):
        signin_url(good, destination="https://console.aws.amazon.com/",
                   endpoint=f"{sso_emulator.url}/federation")


def test_session_duration_is_checked(sso_emulator):
    result = run_cli(sso_emulator, "console", "--session-duration", "60", "--url")
    assert result.returncode == 2
    assert "900 to 43200" in result.stderr


def test_without_a_browser_the_error_names_the_command_to_run(sso_emulator):
    assert run_cli(sso_emulator, "login").returncode == 0
    result = run_cli(sso_emulator, "console", "--profile", "dev", DISPLAY="", WAYLAND_DISPLAY="")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert 'profile "dev"' in line and "boto-sso-oidc console --profile dev --url" in line
    assert result.stdout == ""


def test_a_profile_without_credentials_names_the_login_command(sso_emulator):
    result = run_cli(sso_emulator, "console", "--profile", "dev", "--url")
    assert result.returncode == 1
    assert "boto-sso-oidc login --profile dev" in one_line(result.stderr)


def test_destinations():
    assert console_destination(None, "eu-west-1") == \
        "https://console.aws.amazon.com/console/home?region=eu-west-1"
    assert console_destination("https://example.com/x", "eu-west-1") == "https://example.com/x"
    assert console_destination("ec2", "cn-north-1") == "https://console.amazonaws.cn/ec2/home?region=cn-north-1"
    assert console_destination("s3", "us-gov-west-1") == \
        "https://console.amazonaws-us-gov.com/s3/home?region=us-gov-west-1"
    assert console_destination(None, "eusc-de-east-1") == \
        "https://eusc-de-east-1.console.amazonaws-eusc.eu/console/home?region=eusc-de-east-1"


@pytest.mark.parametrize("region, endpoint", [
    ("eu-west-1", "https://signin.aws.amazon.com/federation"),
    ("us-gov-east-1", "https://signin.amazonaws-us-gov.com/federation"),
    ("cn-northwest-1", "https://signin.amazonaws.cn/federation"),
    ("eusc-de-east-1", "https://eusc-de-east-1.signin.amazonaws-eusc.eu/federation"),
])
def test_every_partition_has_its_federation_endpoint(region, endpoint):
    assert federation_endpoint(region, environ={}) == endpoint
