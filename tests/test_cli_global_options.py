"""Global options as in the AWS CLI: ``--debug``, ``--profile``, ``--region`` before or after the command."""

from __future__ import annotations

import json

import pytest

from boto_sso_oidc_provider.cli import _COMMANDS
from boto_sso_oidc_provider.cli._common import hoist_command

from .cli_helpers import run_cli
from .conftest import token_file


@pytest.mark.parametrize(("argv", "expected"), [
    (["--debug", "login"], ["login", "--debug"]),
    (["--profile", "p", "--region=eu-west-1", "list", "--json"],
     ["list", "--profile", "p", "--region=eu-west-1", "--json"]),
    # Not to the end: what follows "--" belongs to another program.
    (["--profile", "p", "credential-process", "--", "x"],
     ["credential-process", "--profile", "p", "--", "x"]),
    (["--debug", "no-such-command"], ["--debug", "no-such-command"]),
    (["--profile"], ["--profile"]),
    (["--version"], ["--version"]),
])
def test_global_options_before_the_command_move_after_it(argv, expected):
    assert hoist_command(argv, _COMMANDS) == expected


def test_debug_before_the_command(sso_emulator):
    result = run_cli(sso_emulator, "--debug", "login", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert " DEBUG: " in result.stderr  # --debug's log format
    assert token_file(sso_emulator.home, "emulator").exists()


def test_profile_and_region_before_the_command(sso_emulator):
    sso_emulator.write_config(sso_emulator.config_file.read_text() + "\n[profile other]\nregion = x\n")
    result = run_cli(sso_emulator, "--profile", "dev", "--region", "eu-west-1", "login",
                     AWS_PROFILE="other")
    assert result.returncode == 0, result.stderr
    assert token_file(sso_emulator.home, "emulator").exists()


def test_region_after_the_command_is_not_a_usage_error(sso_emulator):
    result = run_cli(sso_emulator, "login", "--region", "eu-west-1", "--profile", "dev")
    assert result.returncode == 0, result.stderr


def test_credential_process_with_the_profile_first(sso_emulator):
    assert run_cli(sso_emulator, "login").returncode == 0
    result = run_cli(sso_emulator, "--profile", "dev", "credential-process")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1


def test_global_options_show_in_every_commands_help(sso_emulator):
    for command in ("login", "list", "export", "credential-process", "status", "logout"):
        result = run_cli(sso_emulator, command, "--help")
        assert result.returncode == 0
        for option in ("--debug", "--profile", "--region"):
            assert option in result.stdout, (command, option)
