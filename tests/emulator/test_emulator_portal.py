"""The SSO portal against botocore's client: credentials, listings, pagination, logout."""

from __future__ import annotations

import datetime as dt

import pytest
from emulator_helpers import Clients

from boto_sso_oidc_provider.emulator import EmulatorHandle

ROLES = ["AdministratorAccess", "ReadOnlyAccess"]


def test_get_role_credentials(clients: Clients) -> None:
    login = clients.login()
    credentials = clients.role_credentials(login.access_token, "222222222222", "ReadOnlyAccess")
    assert credentials["accessKeyId"].startswith("ASIA") and len(credentials["accessKeyId"]) == 20
    assert len(credentials["secretAccessKey"]) == 40 and credentials["sessionToken"]
    expires = dt.datetime.fromtimestamp(credentials["expiration"] / 1000, dt.timezone.utc)
    remaining = (expires - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert 3500 < remaining <= 3600  # epoch milliseconds, one hour out


@pytest.mark.parametrize(("account_id", "role_name"), [
    ("333333333333", "AdministratorAccess"),  # no such account
    ("111111111111", "PowerUserAccess"),      # role not assigned
])
def test_unassigned_account_or_role_is_resource_not_found(
        clients: Clients, account_id: str, role_name: str) -> None:
    login = clients.login()
    with pytest.raises(clients.sso.exceptions.ResourceNotFoundException) as missing:
        clients.role_credentials(login.access_token, account_id, role_name)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert missing.value.response["Error"]["Message"] == "No access"


def test_list_account_roles_of_unknown_account_is_resource_not_found(clients: Clients) -> None:
    login = clients.login()
    with pytest.raises(clients.sso.exceptions.ResourceNotFoundException):
        clients.sso.list_account_roles(accessToken=login.access_token, accountId="999999999999")


@pytest.mark.sso_emulator(page_size=1)
def test_paginators_collect_every_page(clients: Clients, emulator: EmulatorHandle) -> None:
    token = clients.login().access_token
    pages = list(clients.sso.get_paginator("list_accounts").paginate(accessToken=token))
    assert [len(page["accountList"]) for page in pages] == [1, 1]
    assert "nextToken" in pages[0] and "nextToken" not in pages[1]
    assert [a["accountName"] for page in pages for a in page["accountList"]] == \
        ["Development", "Production"]
    for account_id in ("111111111111", "222222222222"):
        roles = clients.sso.get_paginator("list_account_roles").paginate(
            accessToken=token, accountId=account_id).build_full_result()["roleList"]
        assert roles == [{"roleName": role, "accountId": account_id} for role in ROLES]
    assert emulator.calls()["operations"]["ListAccountRoles"] == 4


def test_max_result_sets_the_page_size(clients: Clients) -> None:
    token = clients.login().access_token
    first = clients.sso.list_accounts(accessToken=token, maxResults=1)
    assert [a["accountId"] for a in first["accountList"]] == ["111111111111"]
    second = clients.sso.list_accounts(accessToken=token, maxResults=1,
                                       nextToken=first["nextToken"])
    assert [a["accountId"] for a in second["accountList"]] == ["222222222222"]
    whole = clients.sso.list_accounts(accessToken=token)
    assert len(whole["accountList"]) == 2 and "nextToken" not in whole
    with pytest.raises(clients.sso.exceptions.InvalidRequestException):
        clients.sso.list_accounts(accessToken=token, nextToken="garbage")


def test_unknown_and_expired_tokens_are_unauthorized(clients: Clients,
                                                     emulator: EmulatorHandle) -> None:
    with pytest.raises(clients.sso.exceptions.UnauthorizedException) as unknown:
        clients.sso.list_accounts(accessToken="aoa-never-issued")
    assert unknown.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    login = clients.login()
    assert clients.role_credentials(login.access_token)
    emulator.expire("access_tokens")
    with pytest.raises(clients.sso.exceptions.UnauthorizedException):
        clients.role_credentials(login.access_token)


def test_logout_ends_the_whole_session(clients: Clients) -> None:
    login = clients.login()
    registration = {"clientId": login.client_id, "clientSecret": login.client_secret}
    refreshed = clients.refresh(registration, login.refresh_token or "")
    other = clients.login()  # a second, separate session
    credentials = clients.role_credentials(login.access_token)

    clients.sso.logout(accessToken=login.access_token)

    for token in (login.access_token, refreshed["accessToken"]):
        with pytest.raises(clients.sso.exceptions.UnauthorizedException):
            clients.sso.list_accounts(accessToken=token)
    with pytest.raises(clients.oidc.exceptions.InvalidGrantException):
        clients.refresh(registration, refreshed["refreshToken"])
    with pytest.raises(clients.sso.exceptions.UnauthorizedException):
        clients.sso.logout(accessToken=login.access_token)
    # Other sessions stay; issued role credentials stay valid until they expire (as in AWS).
    assert clients.sso.list_accounts(accessToken=other.access_token)["accountList"]
    assert clients.sts(credentials).get_caller_identity()["Account"] == "111111111111"


def test_too_many_requests_through_a_fault(clients: Clients, emulator: EmulatorHandle) -> None:
    login = clients.login()
    emulator.fault("GetRoleCredentials", error="TooManyRequestsException", count=2)
    for _ in range(2):
        with pytest.raises(clients.sso.exceptions.TooManyRequestsException) as throttled:
            clients.role_credentials(login.access_token)
        assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert clients.role_credentials(login.access_token)["accessKeyId"]
    assert emulator.calls()["operations"]["GetRoleCredentials"] == 3
