"""``boto-sso-oidc serve --imds``: real SDKs with nothing else configured take credentials from it
(issue 18); it refuses what IMDS refuses, stays up under malformed requests, makes one call for many.

``serve`` is a real child process against the emulator; clients are plain boto3, the AWS CLI v1 and
the AWS SDK for JavaScript v3 in their own processes, with an empty config file (no profile, no
keys): only ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` and the emulator's ``AWS_ENDPOINT_URL`` for STS.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from boto_sso_oidc_provider.credentials.role_credentials import RoleCredentials
from boto_sso_oidc_provider.servers._http import parse_networks
from boto_sso_oidc_provider.servers.imds import InstanceMetadataEndpoint

from .cli_helpers import login, one_line, run_cli, secrets_of
from .conftest import REPO, run_python, subprocess_env
from .credentials_helpers import MovableClock, in_threads
from .endpoint_helpers import javascript_sdk, raw, serve, status_of

TTL = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN = "X-aws-ec2-metadata-token"
CREDENTIALS = "/latest/meta-data/iam/security-credentials/"


@pytest.fixture
def logged_in(sso_emulator):
    login()
    return sso_emulator


def _nothing_else(emulator: Any, served: Any, tmp_path: Path) -> dict[str, str]:
    """A client's environment with nothing configured but the IMDS endpoint (and STS's URL)."""
    empty = tmp_path / "empty-config"
    empty.write_text("")
    env = subprocess_env(emulator, AWS_EC2_METADATA_SERVICE_ENDPOINT=served.url,
                         AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty))
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_EC2_METADATA_DISABLED")  # the emulator's fixture turns instance metadata off
    return env


def _request(url: str, method: str, path: str, headers: dict[str, str] | None = None) \
        -> tuple[int, bytes, dict[str, str]]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def _token(url: str, ttl: str = "21600") -> str:
    status, body, headers = _request(url, "PUT", "/latest/api/token", {TTL: ttl})
    assert status == 200 and headers[TTL.lower()] == ttl
    return body.decode()


def _credentials(url: str, token: str | None) -> tuple[int, dict[str, Any]]:
    status, body, _ = _request(url, "GET", CREDENTIALS + "dev", {TOKEN: token} if token else {})
    return status, json.loads(body or b"{}")


BOTO3 = """
import json, sys, boto3
session = boto3.Session()
credentials = session.get_credentials()
identity = session.client("sts").get_caller_identity()
print(json.dumps({"method": credentials.method, "key": credentials.get_frozen_credentials().access_key,
                  "arn": identity["Arn"], "expiry": credentials._expiry_time.isoformat(),
                  "plugin": "boto_sso_oidc_provider.providers.provider" in sys.modules}))
"""


def test_plain_boto3_with_nothing_else_configured_calls_sts(logged_in, tmp_path):
    with serve(logged_in, "--imds") as served:
        token = _token(served.url)
        status, body = _credentials(served.url, token)
        result = run_python(BOTO3, _nothing_else(logged_in, served, tmp_path))
        assert served.stop() == 0
    seen = json.loads(result.stdout)
    assert served.url.startswith("http://127.0.0.1:") and served.url.endswith("/")
    assert status == 200 and body["Code"] == "Success" and body["Type"] == "AWS-HMAC"
    assert seen["method"] == "iam-role" and seen["plugin"] is False
    assert seen["key"] == body["AccessKeyId"] and logged_in.role_name in seen["arn"]
    # botocore kept the real expiry: its IMDS "static stability" extension did not kick in, so it
    # refreshes 15 minutes before the credentials end, as with any others.
    assert dt.datetime.fromisoformat(seen["expiry"]) == dt.datetime.fromisoformat(
        body["Expiration"].replace("Z", "+00:00"))


def test_the_aws_cli_v1_with_nothing_else_configured_calls_sts(logged_in, tmp_path):
    with serve(logged_in, "--imds") as served:
        result = subprocess.run([sys.executable, "-m", "awscli", "sts", "get-caller-identity", "--output",
                                 "json"], env=_nothing_else(logged_in, served, tmp_path), capture_output=True,
                                text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=REPO)
        assert served.stop() == 0
    assert result.returncode == 0, result.stderr
    assert logged_in.role_name in json.loads(result.stdout)["Arn"]


JS_IMDS = r"""
const { fromInstanceMetadata } = require("@aws-sdk/credential-providers");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
(async () => {
  const direct = await fromInstanceMetadata()();
  // The default chain: no credentials passed; only AWS_EC2_METADATA_SERVICE_ENDPOINT points anywhere.
  const sts = new STSClient({ region: process.env.AWS_DEFAULT_REGION,
                              endpoint: process.env.AWS_ENDPOINT_URL });
  const calls = [];
  const started = Date.now();
  do {  // one client for longer than the credentials live (the emulator's are short-lived here)
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    const used = await sts.config.credentials();
    calls.push({ at: Date.now(), key: used.accessKeyId, expires: used.expiration.getTime(),
                 arn: identity.Arn });
    await new Promise((resolve) => setTimeout(resolve, 700));
  } while (Date.now() - started < Number(process.env.RUN_FOR_MS || 0));
  console.log(JSON.stringify({ direct: direct.accessKeyId, calls }));
})().catch((error) => { console.error(String(error)); process.exit(1); });
"""


def _node(env: dict[str, str], **extra: str) -> dict[str, Any]:
    env = {**env, "NODE_PATH": str(javascript_sdk()), **extra}
    result = subprocess.run(["node", "-e", JS_IMDS], env=env, capture_output=True, text=True, timeout=180,
                            stdin=subprocess.DEVNULL, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_javascript_sdk_v3_from_instance_metadata_and_its_default_chain_call_sts(logged_in, tmp_path):
    with serve(logged_in, "--imds") as served:
        seen = _node(_nothing_else(logged_in, served, tmp_path))
        assert served.stop() == 0
    [call] = seen["calls"]
    assert seen["direct"] == call["key"] and logged_in.role_name in call["arn"]


@pytest.mark.sso_emulator(role_credentials_ttl=2)
def test_a_javascript_client_outliving_the_role_credentials_gets_renewed_ones(logged_in, tmp_path):
    """Role credentials live 2 seconds; one JS SDK client calls STS for 7 seconds through its default
    chain: it fetches again from the endpoint and gets renewed credentials (STS refuses expired ones).

    botocore's IMDS fetcher would not: it treats credentials expiring within 12 to 20 minutes as an
    outage and extends them ("static stability"), which is why the endpoint serves IMDS credentials
    only with more than 21 minutes left (see the boto3 test above); real role credentials live an
    hour or more, so botocore then refreshes in time."""
    with serve(logged_in, "--imds") as served:
        seen = _node(_nothing_else(logged_in, served, tmp_path), RUN_FOR_MS="7000")
        assert served.stop() == 0
    calls = seen["calls"]
    assert calls[-1]["at"] > calls[0]["expires"]  # it ran past the first credentials' end
    assert len({call["key"] for call in calls}) >= 2
    assert all(logged_in.role_name in call["arn"] for call in calls)
    assert logged_in.calls()["operations"]["GetRoleCredentials"] >= 2


def test_200_concurrent_requests_are_all_answered_with_one_get_role_credentials(logged_in):
    logged_in.fault("GetRoleCredentials", delay=1.0)  # every request arrives while it is renewing
    with serve(logged_in, "--imds") as served:
        token = _token(served.url)
        results, errors = in_threads(200, lambda: _credentials(served.url, token))
        assert served.stop() == 0
    assert errors == [] and len(results) == 200
    assert {status for status, _ in results} == {200}
    assert len({body["AccessKeyId"] for _, body in results}) == 1
    assert logged_in.calls()["operations"]["GetRoleCredentials"] == 1


def test_no_token_a_wrong_or_expired_token_and_x_forwarded_for_get_no_credentials(logged_in):
    with serve(logged_in, "--imds") as served:
        token = _token(served.url)
        short = _token(served.url, ttl="1")
        time.sleep(1.1)  # the short token's TTL has passed
        answers = {
            "no token": _request(served.url, "GET", CREDENTIALS + "dev"),
            "wrong token": _request(served.url, "GET", CREDENTIALS + "dev", {TOKEN: token[:-1] + "x"}),
            "expired token": _request(served.url, "GET", CREDENTIALS + "dev", {TOKEN: short}),
            "X-Forwarded-For on GET": _request(served.url, "GET", CREDENTIALS + "dev",
                                               {TOKEN: token, "X-Forwarded-For": "10.0.0.1"}),
            "X-Forwarded-For on PUT": _request(served.url, "PUT", "/latest/api/token",
                                               {TTL: "60", "X-Forwarded-For": "10.0.0.1"}),
            "token PUT without TTL": _request(served.url, "PUT", "/latest/api/token"),
            "token PUT with TTL 21601": _request(served.url, "PUT", "/latest/api/token", {TTL: "21601"}),
            "token by GET": _request(served.url, "GET", "/latest/api/token", {TTL: "60"}),
            "role list without token": _request(served.url, "GET", CREDENTIALS),
            "other role": _request(served.url, "GET", CREDENTIALS + "admin", {TOKEN: token}),
        }
        ok = _credentials(served.url, token)
        assert served.stop() == 0
    assert {name: status for name, (status, _, _) in answers.items()} == {
        "no token": 401, "wrong token": 401, "expired token": 401, "X-Forwarded-For on GET": 403,
        "X-Forwarded-For on PUT": 403, "token PUT without TTL": 400, "token PUT with TTL 21601": 400,
        "token by GET": 405, "role list without token": 401, "other role": 404}
    secrets = secrets_of(logged_in.home)
    for _, body, _ in answers.values():
        assert set(json.loads(body)) == {"Code", "Message"}
        assert not any(secret in body.decode() for secret in secrets)
    assert ok[0] == 200


def test_region_paths_answer_what_botocore_reads(logged_in):
    code = """
        import os
        from botocore.utils import InstanceMetadataRegionFetcher
        print(InstanceMetadataRegionFetcher(config={"ec2_metadata_service_endpoint":
                                                    os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]}).retrieve_region())
    """
    with serve(logged_in, "--imds") as served:
        token = _token(served.url)
        region = _request(served.url, "GET", "/latest/meta-data/placement/region", {TOKEN: token})
        document = _request(served.url, "GET", "/latest/dynamic/instance-identity/document", {TOKEN: token})
        env = subprocess_env(logged_in, AWS_EC2_METADATA_SERVICE_ENDPOINT=served.url)
        env.pop("AWS_EC2_METADATA_DISABLED")
        fetched = run_python(code, env)
        assert served.stop() == 0
    assert region[:2] == (200, logged_in.env["AWS_DEFAULT_REGION"].encode())
    assert json.loads(document[1])["accountId"] == logged_in.account_id
    assert fetched.stdout.strip() == logged_in.env["AWS_DEFAULT_REGION"]


def test_malformed_requests_get_4xx_never_a_traceback_and_it_keeps_serving(logged_in):
    with serve(logged_in, "--imds", "--debug", "--request-timeout", "1") as served:
        token = _token(served.url)
        header = f"{TOKEN}: {token}\r\nHost: 127.0.0.1\r\n".encode()
        put = b"PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        cases = {
            b"garbage\r\n\r\n": 400,
            b"GET " + CREDENTIALS.encode() + b"dev HTTP/1.1junk\r\n" + header + b"\r\n": 400,
            b"GET " + CREDENTIALS.encode() + b"dev HTTP/1.1\r\nX: a\rb\r\n" + header + b"\r\n": 400,
            b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n": 431,
            put + TTL.encode() + b": 1e3\r\n\r\n": 400,
            put + TTL.encode() + b": \xc2\xb2\r\n\r\n": 400,  # a digit to str.isdigit, not to int()
            put + TTL.encode() + b": 60\r\n"
            b"Content-Length: 5\r\n\r\nhello": 413,
            b"DELETE /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n": 405,
            b"GET " + CREDENTIALS.encode() + b"dev HTTP/1.1\r\n" + header: 408,  # never finished
        }
        statuses = [status_of(raw(served.host, served.port, payload)) for payload in cases]
        ok = _credentials(served.url, token)
        assert served.stop() == 0
    assert statuses == list(cases.values())
    assert ok[0] == 200 and "Traceback" not in served.stderr
    assert token not in served.stderr


def test_clients_outside_the_allowed_networks_are_refused_before_their_request_is_read():
    source = lambda: RoleCredentials("AKIA", "secret", "token", dt.datetime.now(dt.timezone.utc)  # noqa: E731
                                     + dt.timedelta(hours=2), "111111111111")
    with InstanceMetadataEndpoint(source, role_name="dev", allow=parse_networks(["10.0.0.0/8"])) as refusing:
        refused = _request(refusing.url, "PUT", "/latest/api/token", {TTL: "60"})
    with InstanceMetadataEndpoint(source, role_name="dev", allow=parse_networks(["127.0.0.0/8"]),
                                  clock=MovableClock()) as allowing:
        allowed = _credentials(allowing.url, _token(allowing.url))
    assert refused[0] == 403 and b"AKIA" not in refused[1] and refusing.renewals == 0
    assert allowed[0] == 200 and allowed[1]["AccessKeyId"] == "AKIA"


def test_imds_on_another_address_needs_an_allow_list(logged_in):
    """A usage error: exit 2, no "unexpected" (friction 6 of issue 28)."""
    result = run_cli(logged_in, "serve", "--profile", "dev", "--imds", "--host", "0.0.0.0")
    assert result.returncode == 2 and result.stdout == ""
    line = one_line(result.stderr)
    assert "--allow" in line and "no caller authentication" in line
    assert "unexpected" not in line


def test_it_prints_the_endpoint_in_every_format_including_the_container_form(logged_in):
    with serve(logged_in, "--imds", "--format", "docker", "--url-host", "host.docker.internal",
               lines=0) as served:
        assert served.proc.stdout is not None
        printed = served.proc.stdout.readline().strip()
        assert served.stop() == 0
    assert re.fullmatch(r"-e AWS_EC2_METADATA_SERVICE_ENDPOINT=http://host\.docker\.internal:\d+/ "
                        r"-e AWS_REGION=us-east-1 -e AWS_DEFAULT_REGION=us-east-1", printed), printed
