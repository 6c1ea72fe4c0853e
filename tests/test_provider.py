"""The botocore providers in real boto3/botocore sessions, against the emulator."""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from botocore.exceptions import InvalidConfigError, SSOTokenLoadError

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider import SSOOIDCCredentialProvider
from boto_sso_oidc_provider.options import Options
from boto_sso_oidc_provider.sessions import role_credentials_manager

from .conftest import read_json, run_python, subprocess_env, token_file
from .credentials_helpers import MovableClock

ARN_PREFIX = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"

CHAINED = """
[profile chained]
role_arn = arn:aws:iam::222222222222:role/ReadOnlyAccess
source_profile = dev
role_session_name = chained-test
"""


def _methods(session: object) -> list[str]:
    core = getattr(session, "_session", session)
    return [p.METHOD for p in core.get_component("credential_provider").providers]


def _ops(emulator: object) -> dict[str, int]:
    return emulator.calls()["operations"]  # type: ignore[attr-defined, no-any-return]


# -- per session -----------------------------------------------------------------------------


def test_our_provider_takes_the_exact_place_of_botocores(sso_emulator):
    plain = _methods(botocore.session.Session())
    installed = botocore.session.Session()
    sso.install(installed)
    assert "sso" in plain
    assert _methods(installed) == ["sso-oidc" if m == "sso" else m for m in plain]


def test_install_into_a_boto3_session_logs_in_and_gets_role_credentials(sso_emulator, auto_login):
    session = boto3.Session(profile_name="dev")
    sso.install(session)
    assert session.client("sts").get_caller_identity()["Arn"].startswith(ARN_PREFIX)
    assert session.get_credentials().method == "sso-oidc"
    ops = _ops(sso_emulator)
    assert (ops["StartDeviceAuthorization"], ops["GetRoleCredentials"]) == (1, 1)


def test_install_into_a_botocore_session(sso_emulator, auto_login):
    core = botocore.session.Session(profile="dev")
    sso.install(core)
    arn = core.create_client("sts", region_name="us-east-1").get_caller_identity()["Arn"]
    assert arn.startswith(ARN_PREFIX)


def test_session_helper(sso_emulator, auto_login):
    session = sso.session(profile_name="dev", region_name="eu-west-1")
    assert isinstance(session, boto3.Session) and session.region_name == "eu-west-1"
    assert session.client("sts").get_caller_identity()["Arn"].startswith(ARN_PREFIX)


def test_install_is_idempotent_and_checks_its_argument(sso_emulator):
    session = boto3.Session(profile_name="dev")
    sso.install(session)
    sso.install(session)
    assert _methods(session).count("sso-oidc") == 1
    with pytest.raises(TypeError, match="boto3 or botocore Session"):
        sso.install(object())


def test_a_warm_session_makes_no_oidc_or_portal_call(sso_emulator):
    role_credentials_manager("dev", allow_login=True).get()
    before = _ops(sso_emulator)
    session = sso.session(profile_name="dev")
    session.client("sts").get_caller_identity()
    after = _ops(sso_emulator)
    assert {k: v for k, v in after.items() if k != "GetCallerIdentity"} == \
        {k: v for k, v in before.items() if k != "GetCallerIdentity"}


_CLOCK = MovableClock()


@pytest.mark.sso_emulator(clock=_CLOCK)
def test_long_running_programs_get_new_credentials_transparently(sso_emulator):
    _CLOCK.reset()
    core = botocore.session.Session(profile="dev")
    options = Options(clock=_CLOCK, allow_login=True)
    credentials = SSOOIDCCredentialProvider("dev", core, options=options).load()
    first = credentials.get_frozen_credentials()
    _CLOCK.advance(3600 - 20 * 60)  # 20 minutes left: nothing to do yet
    assert credentials.get_frozen_credentials() == first
    assert _ops(sso_emulator)["GetRoleCredentials"] == 1
    _CLOCK.advance(8 * 60)  # 12 minutes left: botocore's advisory window
    second = credentials.get_frozen_credentials()
    assert second.access_key != first.access_key
    assert credentials.get_frozen_credentials() == second
    assert _ops(sso_emulator)["GetRoleCredentials"] == 2
    assert read_json(role_credentials_manager("dev").entry.path)["Credentials"]["AccessKeyId"] \
        == second.access_key


# -- precedence ------------------------------------------------------------------------------


def test_environment_keys_win_unless_a_profile_is_named_explicitly(sso_emulator, monkeypatch):
    sso.login("dev")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-environment")
    implicit = boto3.Session()  # AWS_PROFILE=dev from the environment
    sso.install(implicit)
    assert implicit.get_credentials().method == "env"
    explicit = sso.session(profile_name="dev")  # botocore: an explicit profile beats env keys
    assert explicit.get_credentials().method == "sso-oidc"
    keys = sso.session(profile_name="dev", aws_access_key_id="AKIAEXPLICIT",
                       aws_secret_access_key="explicit")
    assert keys.get_credentials().method == "explicit"


def test_a_profile_without_sso_goes_on_down_the_chain(sso_emulator):
    sso_emulator.write_config("[profile static]\naws_access_key_id = AKIASTATIC\n"
                              "aws_secret_access_key = static\n", append=True)
    session = sso.session(profile_name="static")
    assert SSOOIDCCredentialProvider("static", session).load() is None
    credentials = session.get_credentials()
    assert (credentials.method, credentials.access_key) == ("config-file", "AKIASTATIC")


# -- role chaining ---------------------------------------------------------------------------


def test_role_chaining_logs_in_through_our_provider_then_assumes_the_role(sso_emulator, auto_login):
    sso_emulator.write_config(CHAINED, append=True)
    session = sso.session(profile_name="chained")
    arn = session.client("sts").get_caller_identity()["Arn"]
    assert arn == "arn:aws:sts::222222222222:assumed-role/ReadOnlyAccess/chained-test"
    assert session.get_credentials().method == "assume-role"
    ops = _ops(sso_emulator)
    assert (ops["StartDeviceAuthorization"], ops["GetRoleCredentials"], ops["AssumeRole"]) == (1, 1, 1)
    # The source credentials went through the shared cache: a second program reuses them.
    sso.session(profile_name="chained").client("sts").get_caller_identity()
    assert _ops(sso_emulator)["GetRoleCredentials"] == 1
    assert role_credentials_manager("dev").entry.path.exists()


def test_without_this_package_botocore_cannot_log_in_for_a_source_profile(sso_emulator, auto_login):
    sso_emulator.write_config(CHAINED, append=True)
    with pytest.raises(SSOTokenLoadError):  # the contrast with the test above
        boto3.Session(profile_name="chained").client("sts").get_caller_identity()
    assert _ops(sso_emulator)["StartDeviceAuthorization"] == 0


# -- profile settings ------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["profile", "sso-session"])
def test_sso_auto_login_true_in_the_config_allows_login_without_a_terminal(sso_emulator, where):
    text = sso_emulator.config_file.read_text()
    section = "[profile dev]\n" if where == "profile" else "[sso-session emulator]\n"
    sso_emulator.write_config(text.replace(section, section + "sso_auto_login = true\n"))
    result = run_python(
        "import boto_sso_oidc_provider as p\n"
        "print(p.session().client('sts').get_caller_identity()['Arn'])",
        subprocess_env(sso_emulator),
    )
    assert result.stdout.strip().startswith(ARN_PREFIX)
    assert _ops(sso_emulator)["StartDeviceAuthorization"] == 1


def test_sso_auto_login_false_is_a_typed_error_naming_the_command(sso_emulator, monkeypatch):
    text = sso_emulator.config_file.read_text()
    sso_emulator.write_config(text.replace("[profile dev]\n", "[profile dev]\nsso_auto_login = false\n"))
    client = sso.session(profile_name="dev").client("sts")  # no network yet
    with pytest.raises(sso.SSOLoginRequiredError) as caught:
        client.get_caller_identity()
    assert caught.value.command == "boto-sso-oidc login --profile dev"
    assert _ops(sso_emulator)["StartDeviceAuthorization"] == 0


def test_plugin_keys_are_harmless_to_plain_botocore(sso_emulator):
    sso.login("dev")
    text = sso_emulator.config_file.read_text()
    sso_emulator.write_config(text.replace(
        "[sso-session emulator]\n",
        "[sso-session emulator]\nsso_auto_login = false\nsso_open_browser = false\nsso_lock_timeout = 30\n",
    ))
    result = run_python(
        "import boto3\nprint(boto3.Session(profile_name='dev').client('sts')"
        ".get_caller_identity()['Arn'])",
        subprocess_env(sso_emulator),
    )
    assert result.stdout.strip().startswith(ARN_PREFIX)


# -- mistakes --------------------------------------------------------------------------------


@pytest.mark.parametrize("extra, message, key", [
    ("[profile bad]\nsso_session = emulator\nsso_account_id = 111111111111\n",
     "missing sso_role_name", "sso_role_name"),
    ("[profile bad]\nsso_session = nowhere\nsso_account_id = 1\nsso_role_name = R\n",
     'sso-session "nowhere"', "sso_session"),
    ("[profile bad]\nsso_session = emulator\nsso_region = eu-west-1\nsso_account_id = 1\n"
     "sso_role_name = R\n", "sso_region", "sso_region"),
])
def test_configuration_mistakes_are_typed_errors_naming_the_profile(sso_emulator, extra, message, key):
    sso_emulator.write_config(extra, append=True)
    with pytest.raises(sso.SSOConfigError) as caught:
        sso.session(profile_name="bad").client("sts")
    assert message in str(caught.value) and 'profile "bad"' in str(caught.value).lower()
    assert caught.value.key == key and caught.value.profile == "bad"
    assert isinstance(caught.value, InvalidConfigError)


# -- globally --------------------------------------------------------------------------------


def test_global_install_reaches_every_new_session_until_uninstalled(sso_emulator, monkeypatch):
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    sso.install()
    sso.install()  # idempotent: one uninstall undoes it
    try:
        assert "sso-oidc" in _methods(boto3.Session())
        assert "sso-oidc" in _methods(botocore.session.Session())
        boto3.client("sts")  # creates boto3's default session
        assert "sso-oidc" in _methods(boto3.DEFAULT_SESSION)
    finally:
        sso.uninstall()
    sso.uninstall()
    assert "sso-oidc" not in _methods(boto3.Session())


def test_global_install_also_covers_an_existing_default_session(sso_emulator, monkeypatch):
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session()
    try:
        sso.install()
        assert "sso-oidc" in _methods(boto3.DEFAULT_SESSION)
    finally:
        sso.uninstall()


# -- bearer tokens ---------------------------------------------------------------------------


def test_token_provider_gives_bearer_tokens_with_automatic_login(sso_emulator, auto_login):
    core = botocore.session.Session(profile="dev")
    sso.install(core)
    token = core.get_auth_token()
    assert token.method == "sso"
    frozen = token.get_frozen_token()
    assert frozen.token == read_json(token_file(sso_emulator.home, "emulator"))["accessToken"]
    assert _ops(sso_emulator)["StartDeviceAuthorization"] == 1


def test_token_provider_ignores_legacy_profiles(sso_emulator):
    sso_emulator.write_config("[profile old]\nsso_start_url = https://emulator.awsapps.com/start\n"
                              "sso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n",
                              append=True)
    core = botocore.session.Session(profile="old")
    sso.install(core)
    assert core.get_auth_token() is None


# -- import cost -----------------------------------------------------------------------------


def test_the_install_functions_do_not_import_botocore_until_called(sso_emulator):
    result = run_python(
        "import sys, boto_sso_oidc_provider as p\n"
        "p.install, p.uninstall, p.session\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))",
        subprocess_env(sso_emulator),
    )
    assert result.stdout.strip() == "[]"


def test_the_public_functions_survive_any_import_order(sso_emulator):
    # A submodule named like a public function would replace it on the package once imported.
    result = run_python(
        "import boto_sso_oidc_provider as p\n"
        "p.session\n"
        "import boto_sso_oidc_provider.providers.installation, boto_sso_oidc_provider.providers.provider\n"
        "print(all(callable(f) for f in (p.install, p.uninstall, p.session)))",
        subprocess_env(sso_emulator),
    )
    assert result.stdout.strip() == "True"
