"""Fixtures of the emulator's own tests (the public ``sso_emulator`` comes from the plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulator_helpers import Clients

from boto_sso_oidc_provider.emulator import EmulatorHandle, run_emulator


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorHandle]:
    """An emulator without HOME or environment changes; configured by the
    ``sso_emulator`` marker like the public fixture, defaults interval=0, no auto-approve."""
    settings: dict[str, Any] = {"interval": 0}
    marker = request.node.get_closest_marker("sso_emulator")
    if marker is not None:
        settings.update(marker.kwargs)
    with run_emulator(**settings) as handle:
        yield handle


@pytest.fixture
def clients(emulator: EmulatorHandle) -> Clients:
    return Clients(emulator)
