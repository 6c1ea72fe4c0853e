"""The ``sso_emulator`` pytest fixture (registered through the ``pytest11`` entry point).

A test that asks for ``sso_emulator`` gets a running emulator (auto-approve
on, polling interval 0 unless the marker says otherwise), a private HOME with
an AWS config holding profile ``dev`` (sso-session ``emulator``, account
111111111111, role AdministratorAccess), and an environment with
``AWS_ENDPOINT_URL`` pointing at the emulator and no other AWS settings::

    @pytest.mark.sso_emulator(auto_approve=False, page_size=1)
    def test_login(sso_emulator):
        ...

The marker's keyword arguments are :class:`EmulatorConfig` fields.

This module imports only pytest and the standard library: the emulator is
loaded when a test first uses the fixture, so having the plugin installed
costs other test suites nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from ._fixture import SSOEmulator

MARKER = "sso_emulator"
_FIXTURE_DEFAULTS: dict[str, Any] = {"auto_approve": True, "interval": 0}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**config): settings (EmulatorConfig fields) of the sso_emulator fixture's "
        "emulator; the fixture defaults to auto_approve=True, interval=0",
    )


@pytest.fixture
def sso_emulator_settings() -> dict[str, Any]:
    """More :class:`EmulatorConfig` fields for ``sso_emulator``, known only at run time (files
    a fixture makes, such as a TLS certificate): override this fixture; the marker wins."""
    return {}


@pytest.fixture
def sso_emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch, sso_emulator_settings: dict[str, Any],
) -> Iterator[SSOEmulator]:
    """A running IAM Identity Center emulator, a private HOME and a real AWS config."""
    from ._fixture import SSOEmulator, private_dir
    from ._runner import run_emulator

    settings = {**_FIXTURE_DEFAULTS, **sso_emulator_settings}
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
        settings.update(marker.kwargs)
    home = private_dir(tmp_path_factory.mktemp("home"))
    with run_emulator(**settings) as handle:
        emulator = SSOEmulator(handle.server, home)
        # Nothing from the machine running the tests may leak in: no keys, no
        # profile, no other endpoint.
        for name in list(os.environ):
            if name.startswith("AWS_"):
                monkeypatch.delenv(name)
        for name, value in emulator.env.items():
            monkeypatch.setenv(name, value)
        yield emulator
