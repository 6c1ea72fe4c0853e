"""The standard-library SigV4 presigner (``_sigv4``) against botocore's own, on random inputs.

Two levels: botocore's ``SigV4QueryAuth`` on a hand-made request (any endpoint, path,
parameters and headers), and the whole ``sts`` client's ``generate_presigned_url`` of
GetCallerIdentity with the ``x-k8s-aws-id`` header, as ``aws eks get-token`` calls it (random
credentials, session tokens, regions, times and cluster names). Both must give the very same
URL string, signature included.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import string
import sys
from collections.abc import Iterator
from typing import Any
from unittest import mock

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from boto_sso_oidc_provider.credentials._sigv4 import presigned_url, sigv4_timestamp

from .conftest import REPO

# 1970 to 9999: what botocore's datetime can represent.
moments = st.floats(min_value=0, max_value=253402300799, allow_nan=False, allow_infinity=False)
texts = st.text(max_size=80)  # any code point but surrogates, which no HTTP client can send
access_keys = st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=40)
session_tokens = st.none() | st.text(max_size=400)
regions = st.from_regex(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}", fullmatch=True) | texts.filter(
    lambda text: "/" not in text)
services = st.sampled_from(["sts", "s3", "execute-api", "rds-db"])
token_chars = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
header_names = st.text(token_chars, min_size=1, max_size=20)
hosts = st.sampled_from(["sts.amazonaws.com", "sts.us-east-1.amazonaws.com",
                         "STS.Eu-West-1.AmazonAWS.com", "127.0.0.1", "localhost", "[::1]",
                         "[2001:DB8::1]", "sts.cn-north-1.amazonaws.com.cn"])
ports = st.none() | st.sampled_from([80, 443, 8080]) | st.integers(min_value=0, max_value=65535)
schemes = st.sampled_from(["https", "http"])
paths = st.sampled_from(["", "/"]) | st.text(
    string.ascii_letters + string.digits + "/.-_~%!$ é", max_size=30).map(lambda path: "/" + path)


def as_datetime(moment: float) -> datetime.datetime:
    """``moment`` as a naive UTC datetime, rounded down to the microsecond (timedelta would round
    to the nearest, and so sometimes into the next second)."""
    seconds = math.floor(moment)
    micros = min(999_999, math.floor((moment - seconds) * 1_000_000))
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds, microseconds=micros)


@contextlib.contextmanager
def frozen_botocore(moment: float) -> Iterator[None]:
    """botocore's signers see ``moment`` as now (its clock function, or the floor's utcnow)."""
    frozen = as_datetime(moment)
    if hasattr(botocore.auth, "get_current_datetime"):
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda *args, **kwargs: frozen):
            yield
    else:  # botocore before 1.35: datetime.datetime.utcnow()
        fake = mock.MagicMock(wraps=datetime)
        fake.datetime = mock.MagicMock(wraps=datetime.datetime)
        fake.datetime.utcnow = lambda: frozen
        with mock.patch.object(botocore.auth, "datetime", fake):
            yield


def botocore_presign(url: str, params: list[tuple[str, str]], headers: dict[str, str], *,
                     credentials: Credentials, region: str, service: str, expires: int,
                     moment: float) -> str:
    request = AWSRequest(method="GET", url=url, headers=headers, data=dict(params))
    with frozen_botocore(moment):
        botocore.auth.SigV4QueryAuth(credentials, service, region, expires=expires).add_auth(request)
    assert isinstance(request.url, str)
    return request.url


def endpoint(scheme: str, host: str, port: int | None, path: str) -> str:
    return f"{scheme}://{host}{'' if port is None else f':{port}'}{path}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scheme=schemes, host=hosts, port=ports, path=paths,
       params=st.lists(st.tuples(texts.filter(bool), texts), max_size=4),
       headers=st.dictionaries(header_names, texts, max_size=4),
       access_key=access_keys, secret=texts, token=session_tokens, region=regions, service=services,
       expires=st.integers(min_value=1, max_value=604800), moment=moments)
@example(scheme="https", host="sts.us-west-2.amazonaws.com", port=None, path="/",
         params=[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
         headers={"x-k8s-aws-id": "  my   cluster "}, access_key="ASIAEXAMPLE", secret="s/e+c=",
         token="tok/en+==", region="us-west-2", service="sts", expires=60, moment=1700000000.75)
@example(scheme="http", host="127.0.0.1", port=80, path="/a/./b/../c//d/", params=[("a", "1"), ("a", "2")],
         headers={"User-Agent": "x", "X-Amz-Date": "y", "Host": "other"}, access_key="A", secret="",
         token=None, region="r", service="s3", expires=1, moment=0)
def test_same_url_as_botocores_sigv4_query_auth(scheme: str, host: str, port: int | None, path: str,
                                                params: list[tuple[str, str]], headers: dict[str, str],
                                                access_key: str, secret: str, token: str | None,
                                                region: str, service: str, expires: int,
                                                moment: float) -> None:
    url = endpoint(scheme, host, port, path)
    ours = presigned_url(url, params, headers=headers, access_key_id=access_key,
                         secret_access_key=secret, session_token=token, region=region,
                         service=service, expires=expires, moment=moment)
    theirs = botocore_presign(url, params, headers, credentials=Credentials(access_key, secret, token),
                              region=region, service=service, expires=expires, moment=moment)
    assert ours == theirs


_LOADER = botocore.session.get_session().get_component("data_loader")


def sts_client(region: str, credentials: Credentials, endpoint_url: str | None) -> Any:
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session.create_client("sts", region_name=region, endpoint_url=endpoint_url,
                                 aws_access_key_id=credentials.access_key,
                                 aws_secret_access_key=credentials.secret_key,
                                 aws_session_token=credentials.token)


def aws_cli_presign(client: Any, cluster: str) -> str:
    """What ``awscli/customizations/eks/get_token.py`` does with an STS client."""
    header = "x-k8s-aws-id"

    def retrieve(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        if header in params:
            context[header] = params.pop(header)

    def inject(request: Any, **kwargs: Any) -> None:
        if header in request.context:
            request.headers[header] = request.context[header]

    client.meta.events.register("provide-client-params.sts.GetCallerIdentity", retrieve)
    client.meta.events.register("before-sign.sts.GetCallerIdentity", inject)
    url = client.generate_presigned_url("get_caller_identity", Params={header: cluster},
                                        ExpiresIn=60, HttpMethod="GET")
    assert isinstance(url, str)
    return url


aws_regions = st.sampled_from(["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "sa-east-1",
                               "eu-central-2", "ca-west-1", "me-central-1"])
cluster_names = st.from_regex(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}", fullmatch=True) | texts.filter(bool)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(region=aws_regions, cluster=cluster_names, access_key=access_keys,
       secret=st.text(string.ascii_letters + string.digits + "/+", min_size=40, max_size=40),
       token=st.text(string.ascii_letters + string.digits + "/+=", min_size=1, max_size=600),
       moment=st.floats(min_value=946684800, max_value=4102444800, allow_nan=False),
       endpoint_url=st.none() | st.sampled_from(["http://127.0.0.1:4566", "https://localhost"]))
def test_same_url_as_the_sts_clients_presigned_get_caller_identity(
        region: str, cluster: str, access_key: str, secret: str, token: str, moment: float,
        endpoint_url: str | None) -> None:
    credentials = Credentials(access_key, secret, token)
    client = sts_client(region, credentials, endpoint_url)
    with frozen_botocore(moment):
        theirs = aws_cli_presign(client, cluster)
    url = (endpoint_url or f"https://sts.{region}.amazonaws.com") + "/"
    ours = presigned_url(url, [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
                         headers={"x-k8s-aws-id": cluster}, access_key_id=access_key,
                         secret_access_key=secret, session_token=token, region=region,
                         service="sts", expires=60, moment=moment)
    assert ours == theirs


@given(moment=moments)
def test_timestamp_is_the_utc_second(moment: float) -> None:
    expected = as_datetime(moment).strftime("%Y%m%dT%H%M%SZ")
    assert sigv4_timestamp(moment) == expected


@pytest.mark.parametrize("url", ["ftp://host/", "host/", "https://host/?a=b", "https://host/#x",
                                 "https:///", "https://[::1/", "https://host:http/", "https://host:99999/",
                                 "https://host:１２/"])
def test_urls_it_cannot_sign_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        presigned_url(url, [], access_key_id="A", secret_access_key="S", session_token=None,
                      region="r", service="s", expires=1, moment=0)


def test_it_needs_neither_hashlib_nor_urllib() -> None:
    """The warm path pays for neither (OpenSSL's import alone costs milliseconds)."""
    import subprocess

    code = ("import sys; import boto_sso_oidc_provider.credentials._sigv4 as s; "
            "s.presigned_url('https://h/', [('a', 'b')], access_key_id='A', secret_access_key='S', "
            "session_token='T', region='r', service='s', expires=1, moment=0); "
            "print(sorted(m for m in ('hashlib', '_hashlib', 'hmac', 'urllib.parse', 'datetime') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                            timeout=60, env={"PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
