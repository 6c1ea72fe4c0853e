"""The emulator's EKS authenticator (``POST /authenticate``): tokens checked as aws-iam-authenticator does.

Tokens come from botocore's own presigner, as ``aws eks get-token`` makes them (the STS client's
``generate_presigned_url`` with the ``x-k8s-aws-id`` header), and from ``_sigv4`` when a test
needs a URL botocore would never make (an old date, another expiry, an extra parameter).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from typing import Any

import pytest
from emulator_helpers import Clients, raw

from boto_sso_oidc_provider.credentials._sigv4 import presigned_url
from boto_sso_oidc_provider.emulator import EmulatorHandle

CLUSTER = "prod-cluster"


@pytest.fixture
def credentials(clients: Clients) -> dict[str, Any]:
    return clients.role_credentials(clients.login().access_token, "222222222222",
                                    "AdministratorAccess")


def token_of(url: str) -> str:
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def botocore_token(clients: Clients, credentials: dict[str, Any], cluster: str = CLUSTER,
                   region: str = "us-east-1", endpoint: str | None = None) -> str:
    """``aws eks get-token``'s way: the STS client presigns GetCallerIdentity with x-k8s-aws-id."""
    sts = clients.sts(credentials, region=region)
    if endpoint is not None:
        from emulator_helpers import client

        sts = client(endpoint, "sts", region_name=region, aws_access_key_id=credentials["accessKeyId"],
                     aws_secret_access_key=credentials["secretAccessKey"],
                     aws_session_token=credentials["sessionToken"])

    def retrieve(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        context["x-k8s-aws-id"] = params.pop("x-k8s-aws-id")

    def inject(request: Any, **kwargs: Any) -> None:
        request.headers["x-k8s-aws-id"] = request.context["x-k8s-aws-id"]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", retrieve)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", inject)
    return token_of(sts.generate_presigned_url("get_caller_identity", Params={"x-k8s-aws-id": cluster},
                                               ExpiresIn=60, HttpMethod="GET"))


def signed(credentials: dict[str, Any], *, url: str, region: str = "us-east-1", cluster: str = CLUSTER,
           expires: int = 60, moment: float | None = None,
           params: list[tuple[str, str]] | None = None, headers: dict[str, str] | None = None) -> str:
    return presigned_url(
        url, params if params is not None else [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        headers={"x-k8s-aws-id": cluster} if headers is None else headers,
        access_key_id=credentials["accessKeyId"], secret_access_key=credentials["secretAccessKey"],
        session_token=credentials["sessionToken"], region=region, service="sts", expires=expires,
        moment=time.time() if moment is None else moment)


def review(emulator: EmulatorHandle, token: str, cluster: str | None = CLUSTER,
           api_version: str = "authentication.k8s.io/v1beta1") -> tuple[int, dict[str, Any]]:
    query = "" if cluster is None else "?" + urllib.parse.urlencode({"clusterID": cluster})
    body = {"apiVersion": api_version, "kind": "TokenReview", "spec": {"token": token}}
    response = raw(emulator.url, "POST", f"/authenticate{query}", json.dumps(body),
                   {"Content-Type": "application/json"})
    return response.status, response.json()


def refusal(emulator: EmulatorHandle, token: str, cluster: str = CLUSTER) -> str:
    status, answer = review(emulator, token, cluster)
    assert status == 403 and answer["status"]["authenticated"] is False, answer
    return str(answer["status"]["error"])


def test_a_token_as_the_aws_cli_makes_it_is_authenticated(emulator: EmulatorHandle, clients: Clients,
                                                          credentials: dict[str, Any]) -> None:
    identity = clients.sts(credentials).get_caller_identity()
    before = emulator.calls()["operations"]
    status, answer = review(emulator, botocore_token(clients, credentials))
    assert status == 200, answer
    assert answer["kind"] == "TokenReview" and answer["apiVersion"] == "authentication.k8s.io/v1beta1"
    user = answer["status"]["user"]
    assert answer["status"]["authenticated"] is True
    assert user["username"] == identity["Arn"]
    role_id, _, session = identity["UserId"].partition(":")
    assert user["uid"] == f"aws-iam-authenticator:222222222222:{role_id}"
    assert user["extra"]["accessKeyId"] == [credentials["accessKeyId"]]
    assert user["extra"]["sessionName"] == [session] == ["jane.doe"]
    assert user["extra"]["canonicalArn"][0].startswith("arn:aws:iam::222222222222:role/AWSReservedSSO_")
    after = emulator.calls()["operations"]
    assert after["TokenReview"] - before["TokenReview"] == 1
    assert after["GetCallerIdentity"] - before["GetCallerIdentity"] == 1


def test_the_review_answers_in_the_api_version_asked(emulator: EmulatorHandle, clients: Clients,
                                                     credentials: dict[str, Any]) -> None:
    status, answer = review(emulator, botocore_token(clients, credentials),
                            api_version="authentication.k8s.io/v1")
    assert status == 200 and answer["apiVersion"] == "authentication.k8s.io/v1"


@pytest.mark.parametrize("region, host", [
    ("us-west-2", "sts.us-west-2.amazonaws.com"), ("us-east-1", "sts.amazonaws.com"),
    ("eu-west-1", "sts-fips.eu-west-1.amazonaws.com"), ("cn-north-1", "sts.cn-north-1.amazonaws.com.cn"),
    ("ap-south-2", "sts.ap-south-2.api.aws"),
])
def test_real_sts_hosts_are_verified_here_too(emulator: EmulatorHandle, credentials: dict[str, Any],
                                              region: str, host: str) -> None:
    status, answer = review(emulator, token_of(signed(credentials, url=f"https://{host}/", region=region)))
    assert status == 200 and answer["status"]["authenticated"] is True, answer


def test_the_signature_is_for_the_reviewed_cluster_only(emulator: EmulatorHandle, clients: Clients,
                                                        credentials: dict[str, Any]) -> None:
    token = botocore_token(clients, credentials, cluster="other")
    assert "SignatureDoesNotMatch" in refusal(emulator, token)
    assert review(emulator, token, cluster="other")[1]["status"]["authenticated"] is True


def test_a_token_signed_for_another_region_than_its_host_is_refused(
        emulator: EmulatorHandle, credentials: dict[str, Any]) -> None:
    error = refusal(emulator, token_of(signed(credentials, url="https://sts.us-west-2.amazonaws.com/",
                                              region="eu-west-1")))
    assert "Credential should be scoped to a valid region" in error


@pytest.mark.parametrize("url, reason", [
    ("http://sts.us-east-1.amazonaws.com/", 'unexpected scheme "http"'),
    ("https://sts.us-east-1.example.com/", 'unexpected hostname "sts.us-east-1.example.com"'),
    ("https://sts.us-east-1.amazonaws.com.evil.io/", "unexpected hostname"),
    ("https://sts.us-east-1.amazonaws.com/other", "unexpected path"),
])
def test_only_sts_urls_are_taken(emulator: EmulatorHandle, credentials: dict[str, Any],
                                 url: str, reason: str) -> None:
    assert reason in refusal(emulator, token_of(signed(credentials, url=url)))


def test_the_cluster_header_must_be_signed(emulator: EmulatorHandle, credentials: dict[str, Any]) -> None:
    token = token_of(signed(credentials, url=f"{emulator.url}/", headers={}))
    assert "did not sign the x-k8s-aws-id header" in refusal(emulator, token)


@pytest.mark.parametrize("expires, accepted", [(0, True), (60, True), (61, False), (900, False)])
def test_x_amz_expires_at_most_60(emulator: EmulatorHandle, credentials: dict[str, Any], expires: int,
                                  accepted: bool) -> None:
    status, answer = review(emulator, token_of(signed(credentials, url=f"{emulator.url}/",
                                                      expires=expires)))
    assert answer["status"]["authenticated"] is accepted, answer
    if not accepted:
        assert "invalid X-Amz-Expires" in answer["status"]["error"]


@pytest.mark.parametrize("age, accepted", [(14 * 60 + 50, True), (15 * 60 + 10, False),
                                           (-14 * 60 - 50, True), (-15 * 60 - 10, False)])
def test_the_signing_time_within_15_minutes(emulator: EmulatorHandle, credentials: dict[str, Any],
                                            age: float, accepted: bool) -> None:
    token = token_of(signed(credentials, url=f"{emulator.url}/", moment=time.time() - age))
    status, answer = review(emulator, token)
    assert answer["status"]["authenticated"] is accepted, answer


@pytest.mark.parametrize("params, reason", [
    ([("Action", "GetCallerIdentity"), ("Version", "2011-06-15"), ("Extra", "1")],
     'non-whitelisted query parameter "Extra"'),
    ([("Action", "AssumeRole"), ("Version", "2011-06-15")], "unexpected action"),
    ([("Version", "2011-06-15")], "unexpected action"),
    ([("Action", "GetCallerIdentity"), ("action", "GetCallerIdentity")], "duplicate query parameter"),
])
def test_query_parameters_as_the_authenticator_allows(emulator: EmulatorHandle,
                                                      credentials: dict[str, Any],
                                                      params: list[tuple[str, str]], reason: str) -> None:
    assert reason in refusal(emulator, token_of(signed(credentials, url=f"{emulator.url}/", params=params)))


@pytest.mark.parametrize("mangle, reason", [
    (lambda token: token.replace("k8s-aws-v1.", "k8s-aws-v2."), 'missing expected "k8s-aws-v1." prefix'),
    (lambda token: token + "==", "illegal base64 data"),
    (lambda token: token + "A", "illegal base64 data"),
    (lambda token: token[:11] + "+/" + token[13:], "illegal base64 data"),
    (lambda token: token + "A" * 4096, "token is too large"),
])
def test_malformed_tokens(emulator: EmulatorHandle, clients: Clients, credentials: dict[str, Any],
                          mangle: Any, reason: str) -> None:
    assert reason in refusal(emulator, mangle(botocore_token(clients, credentials)))


def test_expired_or_unknown_credentials_are_sts_errors(emulator: EmulatorHandle, clients: Clients,
                                                       credentials: dict[str, Any]) -> None:
    token = botocore_token(clients, credentials)
    stranger = token_of(signed({**credentials, "accessKeyId": "ASIAUNKNOWN"}, url=f"{emulator.url}/"))
    assert "InvalidClientTokenId" in refusal(emulator, stranger)
    emulator.expire("role_credentials")
    assert "ExpiredToken" in refusal(emulator, token)


def test_a_wrong_secret_does_not_verify(emulator: EmulatorHandle, credentials: dict[str, Any]) -> None:
    forged = token_of(signed({**credentials, "secretAccessKey": "not-the-secret"}, url=f"{emulator.url}/"))
    assert "SignatureDoesNotMatch" in refusal(emulator, forged)


def test_bad_reviews_are_400(emulator: EmulatorHandle, clients: Clients, credentials: dict[str, Any]) -> None:
    assert review(emulator, botocore_token(clients, credentials), cluster=None)[0] == 400
    response = raw(emulator.url, "POST", "/authenticate?clusterID=c", json.dumps({"kind": "Pod"}),
                   {"Content-Type": "application/json"})
    assert response.status == 400 and response.json()["status"]["authenticated"] is False
    assert raw(emulator.url, "POST", "/authenticate?clusterID=c", "{not json").status == 400


def test_faults_can_be_injected(emulator: EmulatorHandle, clients: Clients,
                                credentials: dict[str, Any]) -> None:
    emulator.fault("TokenReview", error="Throttling")
    status, answer = review(emulator, botocore_token(clients, credentials))
    assert status == 429 and answer["status"]["authenticated"] is False
    assert review(emulator, botocore_token(clients, credentials))[0] == 200
