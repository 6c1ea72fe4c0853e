"""botocore's current interfaces: the token chain's public methods (with the old fallback) and the
user-agent feature IDs of botocore's own SSO providers. The matrix (noxfile.py) runs these on the
declared floor and on the newest botocore, so both sides of each version check are taken."""

from __future__ import annotations

import logging
import subprocess
import sys

import botocore.session
import botocore.tokens
import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider.providers.installation import _replace_sso_token_provider
from boto_sso_oidc_provider.providers.provider import SSOOIDCTokenProvider

from .conftest import subprocess_env

PUBLIC_TOKEN_CHAIN = hasattr(botocore.tokens.TokenProviderChain, "insert_after")  # botocore >= 1.43.37


def _token_methods(chain: object) -> list[str]:
    return [p.METHOD for p in chain._providers]  # type: ignore[attr-defined]


def test_install_puts_our_token_provider_in_the_place_of_botocores(sso_emulator, monkeypatch):
    calls: list[tuple[str, str]] = []
    if PUBLIC_TOKEN_CHAIN:
        for name in ("insert_after", "remove", "insert_before"):
            original = getattr(botocore.tokens.TokenProviderChain, name)

            def spy(self, method, *args, _name=name, _original=original):
                calls.append((_name, method))
                return _original(self, method, *args)

            monkeypatch.setattr(botocore.tokens.TokenProviderChain, name, spy)
    botocores = _token_methods(botocore.tokens.create_token_resolver(botocore.session.Session()))
    core = botocore.session.Session(profile="dev")
    sso.install(core)

    chain = core.get_component("token_provider")

    assert _token_methods(chain) == botocores  # same places, same METHOD ("sso")
    (ours,) = [p for p in chain._providers if p.METHOD == "sso"]
    assert isinstance(ours, SSOOIDCTokenProvider)
    # Through the public methods where botocore has them, else through the list.
    assert calls == ([("insert_after", "sso"), ("remove", "sso")] if PUBLIC_TOKEN_CHAIN else [])
    sso.login("dev")
    assert core.get_auth_token().get_frozen_token().token  # the chain works end to end


class _BotocoreSSO:
    METHOD = "sso"


class _Env:
    METHOD = "env"


class _OldChain:
    """A TokenProviderChain as botocore < 1.43.37 has it: the providers in ``_providers`` only."""

    def __init__(self) -> None:
        self._providers = [_Env(), _BotocoreSSO()]


def test_the_fallback_swaps_inside_the_providers_list_of_an_old_chain():
    chain, ours = _OldChain(), SSOOIDCTokenProvider(botocore.session.Session())

    _replace_sso_token_provider(chain, ours)

    assert chain._providers[0].METHOD == "env" and chain._providers[1] is ours


def test_a_chain_of_unknown_shape_stays_as_it_is_with_a_warning(caplog):
    class Unknown:
        providers = (_BotocoreSSO(),)

    chain = Unknown()
    with caplog.at_level(logging.WARNING):
        _replace_sso_token_provider(chain, SSOOIDCTokenProvider(botocore.session.Session()))

    assert isinstance(chain.providers[0], _BotocoreSSO)
    assert "botocore's token chain changed shape" in caplog.text


@pytest.mark.skipif(not PUBLIC_TOKEN_CHAIN, reason="botocore < 1.43.37: no TokenProviderChain.insert_after")
def test_the_public_methods_are_used_on_a_chain_that_has_them():
    chain = botocore.tokens.TokenProviderChain(providers=[_Env(), _BotocoreSSO()])
    ours = SSOOIDCTokenProvider(botocore.session.Session())

    _replace_sso_token_provider(chain, ours)

    assert chain.get_provider("sso") is ours and _token_methods(chain) == ["env", "sso"]


# -- user-agent feature IDs ------------------------------------------------------------------------

try:
    from botocore.useragent import _USERAGENT_FEATURE_MAPPINGS
except ImportError:  # botocore < 1.40.37
    _USERAGENT_FEATURE_MAPPINGS = {}

SSO_FEATURES = {_USERAGENT_FEATURE_MAPPINGS.get(name) for name in (
    "CREDENTIALS_PROFILE_SSO", "CREDENTIALS_SSO", "CREDENTIALS_PROFILE_SSO_LEGACY",
    "CREDENTIALS_SSO_LEGACY")} - {None}

LEGACY = """\
[profile dev]
sso_start_url = https://emulator.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1
"""


_FEATURES_SENT = """
import re, sys, botocore.session
import boto_sso_oidc_provider as sso
core = botocore.session.Session(profile="dev")
if sys.argv[1:] == ["ours"]:
    sso.install(core)
    assert "sso-oidc" in [p.METHOD for p in core.get_component("credential_provider").providers]
agents = []
client = core.create_client("sts")
client.meta.events.register("before-send", lambda request, **_: agents.append(
    request.headers["User-Agent"]))
client.get_caller_identity()
(agent,) = agents
agent = agent.decode() if isinstance(agent, bytes) else agent
match = re.search(r"(?:^| )m/(\\S+)", agent)
print(",".join(sorted(match.group(1).split(","))) if match else "")
"""


def _sso_features_sent(emulator, provider: str) -> set[str]:
    """The SSO feature IDs in the User-Agent of a real STS call from a fresh process (botocore
    fixes its token cache directory from HOME at import) with ``provider``'s credentials."""
    result = subprocess.run([sys.executable, "-c", _FEATURES_SENT, provider], env=subprocess_env(
        emulator), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.strip().split(",")) & SSO_FEATURES


@pytest.mark.skipif(not SSO_FEATURES, reason="botocore < 1.40.37 registers no user-agent feature IDs")
@pytest.mark.parametrize("config", [None, LEGACY], ids=["sso-session", "legacy"])
def test_the_user_agent_carries_the_feature_ids_of_botocores_own_sso_provider(sso_emulator, config):
    if config:
        sso_emulator.write_config(config)
    sso.login("dev")

    botocores, ours = (_sso_features_sent(sso_emulator, provider) for provider in ("botocore", "ours"))

    expected = {"r", "s"} if config is None else {"t", "u"}  # botocore's useragent.py letters
    assert botocores == expected and ours == botocores


# -- the botocore facts docs/compatibility.md states ------------------------------------------------


def _botocore_version() -> tuple[int, ...]:
    import botocore

    return tuple(int(part) for part in botocore.__version__.split(".")[:3])


def test_the_documented_botocore_facts_hold_for_this_botocore():
    import inspect

    import botocore.configprovider
    import botocore.utils

    source = inspect.getsource(botocore.utils.JSONFileCache)
    atomic = "os.replace" in source and "fsync" in source
    # JSONFileCache writes atomically since 1.42.11 (a temporary file, fsync, os.replace) ...
    assert atomic is (_botocore_version() >= (1, 42, 11))
    # ... and still takes no lock, in any version: concurrent refreshes race.
    assert "lock" not in source.lower()
    default_mode = botocore.configprovider.BOTOCORE_DEFAUT_SESSION_VARIABLES["retry_mode"][2]
    if _botocore_version() >= (1, 44, 0):
        assert default_mode == "standard"
    elif _botocore_version() <= (1, 40, 61):
        assert default_mode == "legacy"
