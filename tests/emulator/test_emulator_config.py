"""Settings and the directory (``--state`` file), and paging over any directory size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import Clients
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boto_sso_oidc_provider.emulator import (
    Directory,
    DirectoryError,
    EmulatorConfig,
    EmulatorHandle,
    run_emulator,
)


def test_defaults_are_identity_centers() -> None:
    config = EmulatorConfig()
    assert (config.access_token_ttl, config.refresh_token_ttl, config.role_credentials_ttl,
            config.device_code_ttl, config.interval, config.registration_ttl) == \
        (3600, 8 * 3600, 3600, 600, 1, 90 * 24 * 3600)
    assert (config.host, config.port, config.auto_approve) == ("127.0.0.1", 0, False)
    directory = config.directory
    assert directory.user.user_name == "jane.doe" and directory.user.email == "jane.doe@example.com"
    assert [(a.account_id, a.account_name, a.roles) for a in directory.accounts] == [
        ("111111111111", "Development", ("AdministratorAccess", "ReadOnlyAccess")),
        ("222222222222", "Production", ("AdministratorAccess", "ReadOnlyAccess")),
    ]


@pytest.mark.parametrize("changes", [
    {"access_token_ttl": -1}, {"interval": -1}, {"page_size": 0}, {"max_body_bytes": 0},
])
def test_bad_settings_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(**changes)


def test_unknown_setting_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        with run_emulator(no_such_setting=True):
            pass


def test_directory_from_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"user": {"userName": "ana"}, "accounts": [
        {"accountId": "123456789012", "roles": ["A", "B", "A"]}]}))
    directory = Directory.from_file(path)
    assert directory.user.user_name == "ana" and directory.user.email == "jane.doe@example.com"
    (account,) = directory.accounts
    assert account.roles == ("A", "B") and directory.has_role("123456789012", "B")
    assert not directory.has_role("123456789012", "C") and directory.account("1") is None


@pytest.mark.parametrize(("data", "fragment"), [
    ([], "JSON object"),
    ({"user": "ana"}, "user must be an object"),
    ({"user": {"userName": ""}}, "user.userName"),
    ({"accounts": {}}, "accounts must be a list"),
    ({"accounts": [{"accountId": 123456789012}]}, "accounts[0].accountId"),
    ({"accounts": [{"accountId": "123456789012", "roles": ["has space"]}]}, "roles"),
    ({"accounts": [{"accountId": "123456789012"}, {"accountId": "123456789012"}]}, "unique"),
])
def test_bad_directories_say_what_is_wrong(data: Any, fragment: str) -> None:
    with pytest.raises(DirectoryError) as error:
        Directory.from_dict(data)
    assert fragment in str(error.value)


def test_directory_as_a_mapping_in_the_config() -> None:
    config = EmulatorConfig(directory={"accounts": [{"accountId": "999999999999"}]})
    assert [a.account_id for a in config.directory.accounts] == ["999999999999"]


_ACCOUNTS = [{"accountId": f"{n:012d}", "roles": [f"Role{r}" for r in range(n % 4 + 1)]}
             for n in range(1, 8)]


@pytest.fixture(scope="module")
def big_directory() -> Any:
    with run_emulator(interval=0, auto_approve=True, directory={"accounts": _ACCOUNTS}) as emulator:
        yield emulator, Clients(emulator).login().access_token


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page_size=st.integers(1, 9), account=st.sampled_from(_ACCOUNTS))
def test_pages_add_up_to_the_whole_listing(big_directory: tuple[EmulatorHandle, str],
                                           page_size: int, account: dict[str, Any]) -> None:
    emulator, token = big_directory
    sso = Clients(emulator).sso
    pages = list(sso.get_paginator("list_accounts").paginate(
        accessToken=token, PaginationConfig={"PageSize": page_size}))
    assert all(len(page["accountList"]) <= page_size for page in pages)
    assert [a["accountId"] for page in pages for a in page["accountList"]] == \
        [a["accountId"] for a in _ACCOUNTS]
    roles = sso.get_paginator("list_account_roles").paginate(
        accessToken=token, accountId=account["accountId"],
        PaginationConfig={"PageSize": page_size}).build_full_result()["roleList"]
    assert [r["roleName"] for r in roles] == account["roles"]
