"""One freshness model: every cached thing with an expiry is judged by ``caches._freshness``.

The SSO token, role credentials (the managers and the servers), client registrations, the
login record's session end, the warm path and the EKS token cache reach the same state on the
same moments, at the edges of each window, because they call the one function.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import time
from pathlib import Path

import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider._clock import format_timestamp
from boto_sso_oidc_provider.caches import _freshness
from boto_sso_oidc_provider.caches._freshness import (
    EKS_TOKEN_LIFETIME,
    EKS_TOKEN_WINDOW,
    IMDS_REFRESH_WINDOW,
    REFRESH_WINDOW,
    SESSION_END_NOTICE,
    Freshness,
    epoch_of_timestamp,
    freshness,
)
from boto_sso_oidc_provider.caches.token import SSOToken
from boto_sso_oidc_provider.credentials import _warm
from boto_sso_oidc_provider.credentials.role_credentials import RoleCredentials
from boto_sso_oidc_provider.logins.registration import Registration
from boto_sso_oidc_provider.servers._source import ServedCredentials

from .conftest import set_home

PACKAGE = Path(sso.__file__).resolve().parent
NOW = dt.datetime(2026, 12, 7, 12, 0, 0, tzinfo=dt.timezone.utc)


def _clock() -> dt.datetime:
    return NOW


def _edges(window: float) -> list[float]:
    """Seconds left on each side of each boundary (whole seconds: what the cache files hold)."""
    return [window + 60, window + 1, window, window - 1, 1, 0, -1, -3600]


def test_the_three_states_at_the_boundaries():
    assert [freshness(1000 + left, 1000, 900) for left in (901, 900, 1, 0, -1)] == [
        Freshness.FRESH, Freshness.STALE, Freshness.STALE, Freshness.EXPIRED, Freshness.EXPIRED]
    assert [state.usable for state in Freshness.states()] == [True, True, False]


@pytest.mark.parametrize("left", _edges(REFRESH_WINDOW))
def test_token_role_credentials_registration_servers_and_warm_path_agree(left, monkeypatch):
    expected = freshness(NOW.timestamp() + left, NOW.timestamp(), REFRESH_WINDOW)
    moment = NOW + dt.timedelta(seconds=left)

    token = SSOToken("access", moment, "https://x.awsapps.com/start", "us-east-1")
    assert token.freshness(_clock) is expected

    credentials = RoleCredentials("ASIAKEY", "secret", "session", moment, "111111111111")
    assert credentials.freshness(_clock) is expected

    registration = Registration("client", "secret", moment)
    assert registration.usable(_clock) is (expected is Freshness.FRESH)

    served = ServedCredentials(lambda: credentials, margin=REFRESH_WINDOW, clock=_clock)
    assert served._fresh(credentials) is (expected is Freshness.FRESH)

    # the warm path reads the text a cache file holds, with the real clock frozen at NOW
    monkeypatch.setattr(_warm.time, "time", lambda: NOW.timestamp())
    data = {"Credentials": {"AccessKeyId": "ASIAKEY", "SecretAccessKey": "secret",
                            "SessionToken": "session", "Expiration": format_timestamp(moment)}}
    assert (_warm._process_output(data, window=REFRESH_WINDOW) is not None) is (expected is Freshness.FRESH)


@pytest.mark.parametrize("left", _edges(IMDS_REFRESH_WINDOW))
def test_the_instance_metadata_window_is_the_same_function(left):
    credentials = RoleCredentials("ASIAKEY", "secret", "session", NOW + dt.timedelta(seconds=left))
    served = ServedCredentials(lambda: credentials, margin=IMDS_REFRESH_WINDOW, clock=_clock)
    expected = freshness(NOW.timestamp() + left, NOW.timestamp(), IMDS_REFRESH_WINDOW)
    assert served._fresh(credentials) is (expected is Freshness.FRESH)


@pytest.mark.parametrize("left", _edges(SESSION_END_NOTICE))
def test_the_session_end_notice_is_the_stale_state_of_the_session(left, tmp_path, monkeypatch):
    """The warning before the session's end shows exactly while the session is STALE by
    :data:`SESSION_END_NOTICE`."""
    from boto_sso_oidc_provider.caches import _session_end

    set_home(monkeypatch, tmp_path)
    duration = 8 * 3600.0
    began = format_timestamp(NOW + dt.timedelta(seconds=left - duration))
    record = {"sessionBeganAt": began, "tokenExpiresAt": "2099-01-01T00:00:00Z"}
    monkeypatch.setattr(_session_end, "session_began", lambda key, record=None: began)
    notice = _session_end.ending_notice("key", duration=duration, where="here", login_command="x",
                                        now=NOW.timestamp(), record=record)
    expected = freshness(NOW.timestamp() + left, NOW.timestamp(), SESSION_END_NOTICE)
    assert (notice is not None) is (expected is Freshness.STALE)


@pytest.mark.parametrize("left", _edges(EKS_TOKEN_WINDOW))
def test_a_cached_eks_token_is_reused_exactly_while_fresh(left, tmp_path):
    """``eks-token``'s warm path hands out the cached token exactly while it is FRESH by
    :data:`EKS_TOKEN_WINDOW` (the text of its ``expirationTimestamp``, as the cache file holds
    it); otherwise it signs a new one, good for :data:`EKS_TOKEN_LIFETIME`."""
    from boto_sso_oidc_provider.credentials import _eks_token

    path = tmp_path / "entry.eks-token"
    expires = format_timestamp(NOW + dt.timedelta(seconds=left))
    cached = {"token": "k8s-aws-v1.cached", "expirationTimestamp": expires, "cluster": "c",
              "roleArn": None, "endpoint": "https://sts.us-east-1.amazonaws.com",
              "signingRegion": "us-east-1", "accessKeyId": "ASIAKEY", "sourceAccessKeyId": "ASIAKEY"}
    path.write_text(json.dumps(cached))
    credentials = {"AccessKeyId": "ASIAKEY", "SecretAccessKey": "secret", "SessionToken": "session"}
    token = _eks_token.warm_token(str(path), "c", None, credentials, now=NOW.timestamp())
    expected = freshness(NOW.timestamp() + left, NOW.timestamp(), EKS_TOKEN_WINDOW)
    assert token is not None
    assert (token.token == cached["token"]) is (expected is Freshness.FRESH)
    if expected is not Freshness.FRESH:
        assert token.expiration == format_timestamp(NOW + dt.timedelta(seconds=EKS_TOKEN_LIFETIME))


def test_epoch_of_timestamp_is_the_calendars(monkeypatch):
    for moment in (dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc), NOW,
                   dt.datetime(2000, 2, 29, 23, 59, 59, tzinfo=dt.timezone.utc),
                   dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)):
        assert epoch_of_timestamp(format_timestamp(moment)) == moment.timestamp()
    for text in ("2099-02-30T00:00:00Z", "2100-02-29T00:00:00Z", "2026-12-07T24:00:00Z",
                 "2026-12-07 12:00:00Z", 1234, None):
        assert epoch_of_timestamp(text) is None
    assert epoch_of_timestamp(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(86400 * 365))) == 86400 * 365


def test_no_module_judges_an_expiry_on_its_own():
    """Outside ``_freshness``, no module compares a ``seconds_left()`` (or an expiry's
    ``total_seconds()``) with anything: they ask for the state instead."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "emulator" in path.parts or path == Path(_freshness.__file__):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            for side in (node.left, *node.comparators):
                for call in ast.walk(side):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                            call.func.attr in ("seconds_left", "total_seconds"):
                        offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []
