"""aiobotocore and aioboto3 sessions: async providers that never block the event loop."""

from __future__ import annotations

import asyncio
import logging
import threading

import botocore.session
import pytest

pytest.importorskip("aiobotocore", reason="aiobotocore is not installed (pip install -e '.[test]')")

from aiobotocore.session import AioSession, get_session  # noqa: E402

import boto_sso_oidc_provider as sso  # noqa: E402
from boto_sso_oidc_provider.providers.aio import AioSSOOIDCTokenProvider, sync_twin
from boto_sso_oidc_provider.sessions import role_credentials_manager

from .cli_helpers import login
from .conftest import read_json, requires, token_file

ARN_PREFIX = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"


async def _caller_arn(session: AioSession) -> str:
    async with session.create_client("sts") as client:
        return str((await client.get_caller_identity())["Arn"])


def _methods(core: AioSession) -> list[str]:
    return [p.METHOD for p in core.get_component("credential_provider").providers]


def test_install_then_an_aiobotocore_client_works(sso_emulator, auto_login, global_install):
    # The regression: install() used to give aiobotocore botocore's synchronous
    # DeferredRefreshableCredentials ("can't be used in 'await' expression").
    assert asyncio.run(_caller_arn(get_session())).startswith(ARN_PREFIX)
    ops = sso_emulator.calls()["operations"]
    assert (ops["StartDeviceAuthorization"], ops["GetRoleCredentials"]) == (1, 1)


def test_install_into_one_aiobotocore_session_takes_the_place_of_its_sso_provider(sso_emulator,
                                                                                   auto_login):
    plain = _methods(get_session())
    session = get_session()
    sso.install(session)

    assert "sso" in plain
    assert _methods(session) == ["sso-oidc" if m == "sso" else m for m in plain]
    assert asyncio.run(_caller_arn(session)).startswith(ARN_PREFIX)
    # The same cache as every synchronous user: a plain boto3 session now needs no call.
    assert role_credentials_manager("dev").cached() is not None


@requires("aioboto3")  # aioboto3 pins aiobotocore 2.x: the matrix's aiobotocore 3.x runs without it
def test_install_into_an_aioboto3_session(sso_emulator, auto_login):
    import aioboto3

    session = aioboto3.Session(profile_name="dev")
    sso.install(session)

    async def arn() -> str:
        async with session.client("sts") as client:
            return str((await client.get_caller_identity())["Arn"])

    assert asyncio.run(arn()).startswith(ARN_PREFIX)
    assert sso_emulator.calls()["operations"]["StartDeviceAuthorization"] == 1


def test_waiting_for_the_cache_lock_leaves_the_event_loop_running(sso_emulator):
    login()
    entry = role_credentials_manager("dev").entry
    held, release = threading.Event(), threading.Event()
    released_by: list[str] = []

    def hold_the_lock() -> None:  # as another process refreshing would
        with entry.locked():
            held.set()
            released_by.append("test" if release.wait(10) else "timeout")

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert held.wait(10)
    session = get_session()
    sso.install(session)

    async def main() -> tuple[int, bool, str]:
        call = asyncio.ensure_future(_caller_arn(session))
        ticks = 0
        while ticks < 40 and not call.done():
            await asyncio.sleep(0.005)
            ticks += 1
        pending = not call.done()
        release.set()
        return ticks, pending, await call

    try:
        ticks, pending, arn = asyncio.run(main())
    finally:
        release.set()
        holder.join()
    assert (ticks, pending, released_by) == (40, True, ["test"])
    assert arn.startswith(ARN_PREFIX)
    assert sso_emulator.calls()["operations"]["GetRoleCredentials"] == 1


def test_the_async_token_provider_gives_the_cached_token(sso_emulator):
    login()
    provider = AioSSOOIDCTokenProvider(sync_twin(get_session()))

    token = asyncio.run(provider.load_token().get_frozen_token())

    assert token.token == read_json(token_file(sso_emulator.home, "emulator"))["accessToken"]


def test_a_session_type_it_does_not_know_is_left_alone_with_a_debug_line(sso_emulator, caplog):
    class CustomSession(botocore.session.Session):
        def get_credentials(self):  # loads credentials its own way
            return super().get_credentials()

    session = CustomSession()
    before = session.get_component("credential_provider")
    with caplog.at_level(logging.DEBUG, logger="boto_sso_oidc_provider.providers.installation"):
        sso.install(session)

    assert session.get_component("credential_provider") is before
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "CustomSession" in caplog.records[0].getMessage()
