"""``boto-sso-oidc serve``: real SDKs fetch credentials from it; it refuses, survives and stops cleanly.

Every test runs the real command as a child process against the emulator;
clients are boto3, the AWS CLI v1 and the AWS SDK for JavaScript v3 in their
own processes, or raw sockets for what no SDK would send.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time

import pytest

from boto_sso_oidc_provider._clock import format_timestamp, parse_timestamp, utc_now

from .cli_helpers import SECOND_SESSION, login, one_line, role_cache_files, run_cli, secrets_of
from .conftest import REPO, age_token, assert_owner_only, read_json, requires, run_python, token_file
from .endpoint_helpers import JS_CLIENT, answer, get, javascript_sdk, raw, sdk_env, serve, status_of

BOTO3_CLIENT = """
import json, sys, boto3
session = boto3.Session()
credentials = session.get_credentials()
identity = session.client("sts").get_caller_identity()
print(json.dumps({"method": credentials.method, "key": credentials.get_frozen_credentials().access_key,
                  "arn": identity["Arn"],
                  "plugin": "boto_sso_oidc_provider.providers.provider" in sys.modules}))
"""


@pytest.fixture
def logged_in(sso_emulator):
    login()
    return sso_emulator


def _role_credentials_calls(emulator) -> int:
    return int(emulator.calls()["operations"].get("GetRoleCredentials", 0))


def test_boto3_without_the_plugin_gets_credentials_and_calls_sts(logged_in):
    with serve(logged_in) as served:
        status, body = get(served.url, served.token)
        result = run_python(BOTO3_CLIENT, sdk_env(logged_in, served.variables))
        assert served.stop() == 0
    seen = json.loads(result.stdout)
    assert status == 200 and seen["method"] == "container-role" and seen["plugin"] is False
    assert seen["key"] == body["AccessKeyId"]
    assert seen["arn"].endswith(f"/{logged_in.role_name}/dev-user") or logged_in.role_name in seen["arn"]
    assert body["AccountId"] == logged_in.account_id
    assert parse_timestamp(body["Expiration"]) > utc_now() + dt.timedelta(minutes=15)


@requires("awscli")
def test_aws_cli_v1_gets_credentials_and_calls_sts(logged_in):
    with serve(logged_in) as served:
        env = sdk_env(logged_in, served.variables)
        result = subprocess.run([sys.executable, "-m", "awscli", "sts", "get-caller-identity",
                                 "--output", "json"], env=env, capture_output=True, text=True,
                                timeout=120, stdin=subprocess.DEVNULL, cwd=REPO)
        assert served.stop() == 0
    assert result.returncode == 0, result.stderr
    assert logged_in.role_name in json.loads(result.stdout)["Arn"]


def test_javascript_sdk_v3_container_providers_get_credentials_and_call_sts(logged_in):
    modules = javascript_sdk()
    with serve(logged_in) as served:
        status, body = get(served.url, served.token)
        env = sdk_env(logged_in, served.variables)
        env["NODE_PATH"] = str(modules)
        result = subprocess.run(["node", "-e", JS_CLIENT], env=env, capture_output=True, text=True,
                                timeout=120, stdin=subprocess.DEVNULL, cwd=REPO)
        assert served.stop() == 0
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert status == 200
    assert seen["fromHttp"] == seen["fromContainerMetadata"] == seen["defaultChain"] == body["AccessKeyId"]
    assert logged_in.role_name in seen["arn"]


def test_serves_the_shared_cache_and_renews_what_is_within_the_refresh_margin(logged_in):
    cached = json.loads(run_cli(logged_in, "credential-process", "--profile", "dev").stdout)
    assert _role_credentials_calls(logged_in) == 1
    with serve(logged_in) as served:
        _, first = get(served.url, served.token)
        assert first["AccessKeyId"] == cached["AccessKeyId"]  # from the cache the CLI filled
        assert _role_credentials_calls(logged_in) == 1
        served.stop()
    # Credentials with 10 minutes left (inside botocore's 15-minute margin) are renewed, not served.
    [path] = role_cache_files(logged_in.home)
    data = read_json(path)
    data["Credentials"]["Expiration"] = format_timestamp(utc_now() + dt.timedelta(minutes=10))
    path.write_text(json.dumps(data))
    with serve(logged_in) as served:
        _, renewed = get(served.url, served.token)
        served.stop()
    assert renewed["AccessKeyId"] != cached["AccessKeyId"]
    assert parse_timestamp(renewed["Expiration"]) > utc_now() + dt.timedelta(minutes=15)
    assert _role_credentials_calls(logged_in) == 2
    assert read_json(path)["Credentials"]["AccessKeyId"] == renewed["AccessKeyId"]  # written back


def test_requests_without_or_with_a_wrong_token_get_no_credentials(logged_in):
    with serve(logged_in) as served:
        wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
        answers = {
            "none": get(served.url, None),
            "wrong": get(served.url, wrong),
            "bearer": get(served.url, f"Bearer {wrong}"),
            "empty": get(served.url, " "),
            "other path, none": get(served.url, None, path="/"),
            "other path, wrong": get(served.url, wrong, path="/latest/meta-data/"),
        }
        ok = get(served.url, served.token)
        served.stop()
    assert {name: status for name, (status, _) in answers.items()} == {
        "none": 401, "wrong": 403, "bearer": 403, "empty": 401,
        "other path, none": 401, "other path, wrong": 403}
    secrets = secrets_of(logged_in.home)
    for _, body in answers.values():
        assert set(body) == {"Code", "Message"}
        assert not any(secret in json.dumps(body) for secret in secrets)
    assert ok[0] == 200
    assert served.token not in served.stderr


def test_oversized_and_malformed_requests_get_4xx_and_the_server_keeps_serving(logged_in):
    with serve(logged_in, "--request-timeout", "1", "--debug") as served:
        auth = f"Authorization: {served.token}\r\nHost: 127.0.0.1\r\n".encode()
        path = served.path.encode()
        get_line = b"GET " + path + b" HTTP/1.1\r\n"
        cases = {
            b"garbage\r\n\r\n": 400,
            b"\x00\xff\xfe binary \r\n\r\n": 400,
            get_line + b"Host: 127.0.0.1\r\nAuthorization: x\r\nAuthorization: y\r\n\r\n": 400,
            b"GET " + path + b" HTTP/1.1\r\n" + b"X-Padding: " + b"a" * 20000 + b"\r\n\r\n": 431,
            b"GET " + path + b" HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n": 431,
            b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n": 431,
            b"POST " + path + b" HTTP/1.1\r\n" + auth + b"Content-Length: 5\r\n\r\nhello": 405,
            get_line + auth + b"Content-Length: 100000000\r\n\r\n" + b"x" * 300000: 413,
            get_line + auth + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n": 413,
            b"GET /../../etc/passwd HTTP/1.1\r\n" + auth + b"\r\n": 404,
            b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n": 408,  # never finished: timed out
        }
        statuses = [status_of(raw(served.host, served.port, payload)) for payload in cases]
        status, body = get(served.url, served.token)
        assert served.stop() == 0
    assert statuses == list(cases.values())
    assert status == 200 and body["AccessKeyId"]
    assert "Traceback" not in served.stderr
    assert served.token not in served.stderr  # --debug logs requests, never their headers
    assert not any(secret in served.stderr for secret in secrets_of(logged_in.home))


@pytest.mark.sso_emulator(role_credentials_ttl=2)
def test_the_session_ending_is_a_clear_error_and_a_login_brings_service_back(logged_in):
    """Short-lived role credentials make every request renew, so the session's end shows at once."""
    with serve(logged_in) as served:
        assert get(served.url, served.token)[0] == 200
        logged_in.expire("refresh_tokens")
        age_token(token_file(logged_in.home, logged_in.sso_session))
        time.sleep(2.5)  # the role credentials have expired too
        failures = [get(served.url, served.token) for _ in range(3)]
        # botocore surfaces the endpoint's message (its fetcher's retries skipped: no sleeping)
        sdk = run_python("""
            import botocore.credentials, botocore.utils
            fetcher = botocore.utils.ContainerMetadataFetcher(sleep=lambda seconds: None)
            try:
                botocore.credentials.ContainerProvider(fetcher=fetcher).load()
            except Exception as error:
                print(type(error).__name__, error)
        """, sdk_env(logged_in, served.variables))
        login()  # as `boto-sso-oidc login` would, in another process
        time.sleep(int(answer(served.url, served.token)[2].get("retry-after", 0)))  # any back-off left
        again = get(served.url, served.token)
        assert served.stop() == 0
    assert [status for status, _ in failures] == [424, 424, 424]
    code, message = failures[0][1]["Code"], failures[0][1]["Message"]
    assert code == "SSOLoginRequired" and "boto-sso-oidc login" in message
    assert "CredentialRetrievalError" in sdk.stdout and "boto-sso-oidc login" in sdk.stdout
    assert again[0] == 200 and parse_timestamp(again[1]["Expiration"]) > utc_now()
    logged = [line for line in served.stderr.splitlines() if "boto-sso-oidc login" in line]
    assert len(logged) == 1, served.stderr  # one line per outage, not one per request
    assert "Serving role credentials again" in served.stderr


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_stop_it_cleanly(logged_in, sig, code):
    with serve(logged_in) as served:
        assert get(served.url, served.token)[0] == 200
        assert served.stop(sig) == code
    assert "Traceback" not in served.stderr
    with pytest.raises(OSError):  # the port is closed
        get(served.url, served.token, timeout=5)


def test_a_profile_without_sso_settings_fails_to_start_with_one_line(logged_in):
    result = run_cli(logged_in, "serve", "--profile", "nope")
    assert result.returncode == 1 and result.stdout == ""
    assert '"nope"' in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_after_logout_it_stops_serving_the_credentials_it_holds(logged_in):
    """Issue 20 item 9: credentials in memory are served only while the shared cache still has them."""
    with serve(logged_in) as served:
        assert get(served.url, served.token)[0] == 200
        assert run_cli(logged_in, "logout", "--profile", "dev").returncode == 0
        status, body = get(served.url, served.token)
        assert served.stop() == 0
    assert (status, body["Code"]) == (424, "SSOLoginRequired") and "AccessKeyId" not in body


def test_a_token_file_keeps_the_token_across_restarts_and_the_sdks_read_it(logged_in, tmp_path):
    path = tmp_path / "token"
    with serve(logged_in, "--token-file", str(path)) as first:
        token = path.read_text().strip()
        result = run_python(BOTO3_CLIENT, sdk_env(logged_in, first.variables))
        assert first.stop() == 0
    assert first.variables["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] == str(path)
    assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in first.variables
    assert_owner_only(path)
    assert len(token) >= 40
    assert json.loads(result.stdout)["method"] == "container-role"
    assert token not in first.stderr
    with serve(logged_in, "--token-file", str(path)) as second:  # restarted: the same token
        assert get(second.url, token)[0] == 200
        assert second.stop() == 0
    path.chmod(0o644)
    refused = run_cli(logged_in, "serve", "--profile", "dev", "--token-file", str(path))
    assert refused.returncode == 1 and "chmod 600" in one_line(refused.stderr)


def test_several_profiles_from_one_server_one_path_each(logged_in):
    logged_in.write_config(SECOND_SESSION, append=True)
    login("ops")
    with serve(logged_in, "--profile", "ops", "--format", "json", lines=0) as served:
        assert served.proc.stdout is not None
        printed = json.loads("".join(iter(served.proc.stdout.readline, "}\n")) + "}")
        answers = {name: get(variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                             variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
                   for name, variables in printed.items()}
        assert served.stop() == 0
    assert set(printed) == {"dev", "ops"}
    assert printed["ops"]["AWS_CONTAINER_CREDENTIALS_FULL_URI"].endswith("/role-credentials/ops")
    assert {name: status for name, (status, _) in answers.items()} == {"dev": 200, "ops": 200}
    assert answers["dev"][1]["AccountId"] == logged_in.account_id
    assert answers["ops"][1]["AccountId"] == "222222222222"
    assert len(role_cache_files(logged_in.home)) == 2  # each through its own shared cache entry
