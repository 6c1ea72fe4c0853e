"""Fuzzing (issue 10): arbitrary cache-file bytes and config files never raise an exception outside
the documented ones and never hang.

Documented: a cache file is usable or ignored with a warning (no exception at all); a config
file is usable or raises :class:`SSOProviderError` (its :class:`SSOConfigError` above all) or
one of botocore's own :class:`BotoCoreError` (botocore parses the file); the warm path returns
credentials or None. ``pytest-timeout`` (120 s) turns a hang into a failure.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import botocore.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider._clock import format_timestamp, parse_timestamp
from boto_sso_oidc_provider.caches._entry import CacheEntry
from boto_sso_oidc_provider.caches.token import SSOToken
from boto_sso_oidc_provider.config._resolved import resolve
from boto_sso_oidc_provider.credentials import _warm
from boto_sso_oidc_provider.credentials.role_credentials import RoleCredentials
from boto_sso_oidc_provider.exceptions import SSOProviderError

from .conftest import set_home

_FUZZ = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_timestamps = st.one_of(
    st.text(alphabet="0123456789-:TZz+. UTCutc", max_size=40),
    st.tuples(st.datetimes(), st.sampled_from(["Z", "+05:30", "-01:00", "UTC", ""])).map(
        lambda pair: pair[0].isoformat() + pair[1]),
    st.sampled_from(["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2099-02-30T00:00:00Z",
                     "2026-11-21T07:18:03UTC", "2026-11-21T07:18:03.123456789Z", "NaN", ""]),
    st.integers(), st.floats(), st.none(), st.booleans(),
)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=8), inner,
                                                                        max_size=3)), max_leaves=8)
_token_keys = ["startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret",
               "registrationExpiresAt", "refreshToken"]
_token_like = st.fixed_dictionaries({}, optional={
    **{key: st.one_of(st.text(max_size=20), _values) for key in _token_keys},
    "expiresAt": _timestamps, "registrationExpiresAt": _timestamps,
})
_role_like = st.fixed_dictionaries({}, optional={
    "ProviderType": _values,
    "Credentials": st.one_of(_values, st.fixed_dictionaries({}, optional={
        "AccessKeyId": st.one_of(st.text(max_size=20), _values),
        "SecretAccessKey": st.one_of(st.text(max_size=20), _values),
        "SessionToken": st.one_of(st.text(max_size=20), _values),
        "Expiration": _timestamps, "AccountId": _values})),
})


def _as_bytes(data: object) -> bytes:
    return json.dumps(data, allow_nan=True).encode()


_cache_bytes = st.one_of(st.binary(max_size=3000), _token_like.map(_as_bytes), _role_like.map(_as_bytes),
                         st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * (n % 7)))


@_FUZZ
@given(content=_cache_bytes)
def test_any_cache_file_is_used_or_ignored_never_an_exception(tmp_path_factory, content):
    path = Path(tmp_path_factory.mktemp("c")) / "entry.json"
    path.write_bytes(content)
    entry = CacheEntry(path, describe="fuzzed")
    token = entry.load(SSOToken.from_cache, "a token")
    if token is not None:  # anything accepted can be written back and read again
        again = SSOToken.from_cache(json.loads(json.dumps(token.to_cache())))
        assert again is not None and again.expires_at == token.expires_at.replace(microsecond=0)
        token.seconds_left()
        token.can_refresh()
        repr(token)
    credentials = entry.load(RoleCredentials.from_cache, "credentials")
    if credentials is not None:
        assert RoleCredentials.from_cache(credentials.to_cache()) == credentials
        credentials.to_process_output()
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return
    output = _warm._process_output(data, window=900)
    if output is not None:  # the warm path only ever serves what the full path would accept
        assert RoleCredentials.from_cache({"Credentials": output}) is not None


@_FUZZ
@given(text=st.one_of(_timestamps.filter(lambda v: isinstance(v, str)), st.text(max_size=80)))
def test_any_timestamp_parses_or_is_a_value_error(text):
    try:
        parsed = parse_timestamp(text)
    except ValueError:
        return
    assert parse_timestamp(format_timestamp(parsed)) == parsed.replace(microsecond=0)
    warm = _warm._canonical_expiration(text)
    assert warm is None or warm == format_timestamp(parsed)


_config_lines = st.one_of(
    st.sampled_from([
        "[profile dev]", "[default]", "[sso-session emulator]", "[sso-session 'emulator']",
        "[profile dev x]", "[sso-session]", "sso_session = emulator", "sso_session =",
        "sso_start_url = https://emulator.awsapps.com/start", "sso_start_url = http://x",
        "sso_start_url = not a url", "sso_region = us-east-1", "sso_region = \x00",
        "sso_account_id = 111111111111", "sso_role_name = AdministratorAccess",
        "sso_registration_scopes = sso:account:access", "sso_registration_scopes = ,,,",
        "sso_auto_login = maybe", "sso_auto_login = auto", "sso_lock_timeout = inf",
        "sso_lock_timeout = nan", "sso_lock_timeout = -1", "sso_lock_timeout = 1e309",
        "sso_open_browser = 2", "region = us-east-1", "  continued", "= value", "[", "]",
        "source_profile = dev", "role_arn = arn:aws:iam::111111111111:role/x", "%(x)s",
        "credential_process = x", "sso_account_id =", "services = x", "[services x]",
    ]),
    st.text(max_size=40),
)


@settings(_FUZZ, max_examples=60)
@given(lines=st.lists(_config_lines, max_size=14))
def test_any_config_file_is_a_documented_error_or_works(tmp_path_factory, monkeypatch, lines):
    home = Path(tmp_path_factory.mktemp("home"))
    config = home / "config"
    config.write_bytes("\n".join(lines).encode("utf-8", "replace"))  # lone surrogates too
    set_home(monkeypatch, home)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never reached: no token cached
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    resolve("dev")
    _warm.cached_process_output("dev")
    for call in (lambda: sso.load_token("dev", allow_login=False),
                 lambda: sso.session(profile_name="dev").get_credentials()):
        try:
            call()
        except (SSOProviderError, botocore.exceptions.BotoCoreError):
            pass
        except ValueError as error:  # botocore's own parser, documented as its ConfigParseError
            pytest.fail(f"undocumented {type(error).__name__}: {error}")


def test_the_fuzzers_reach_both_outcomes():
    """The strategies are not vacuous: some generated files are accepted, some refused."""
    good = {"accessToken": "a" * 20, "expiresAt": "2099-01-01T00:00:00Z"}
    assert SSOToken.from_cache(good) is not None
    assert SSOToken.from_cache({**good, "expiresAt": "9999-12-31T23:59:59-01:00"}) is None
    assert math.isnan(float("nan"))
