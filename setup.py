"""Build step for the startup hook; all metadata lives in pyproject.toml.

The wheel carries ``boto_sso_oidc_provider-startup.pth`` at its root, so that
installers put it in site-packages (purelib) where :mod:`site` executes it at
every interpreter start (see ``_boto_sso_oidc_provider_startup.py``):

* regular wheels (``pip install .``, ``--user``, in a venv or not): a ``build``
  sub-command writes it into ``build_lib``, whose content is the wheel's root;
* editable wheels (``pip install -e .``, PEP 660): setuptools' ``editable_wheel``
  packs only its own ``__editable__`` files and what the install step put in the
  unpacked wheel directory (``install_lib``), never ``build_lib``; in editable
  mode the sub-command writes there too.

pip records the file in the installation's RECORD, so ``pip uninstall`` removes it.
"""

from __future__ import annotations

import importlib.util
import os

from setuptools import Command, setup
from setuptools.command.build import build

_HERE = os.path.dirname(os.path.abspath(__file__))


def _startup() -> object:
    """The hook module, loaded from its file (setup.py imports nothing of the project)."""
    path = os.path.join(_HERE, "_boto_sso_oidc_provider_startup.py")
    spec = importlib.util.spec_from_file_location("_boto_sso_oidc_startup", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class build_startup_hook(Command):
    """Write the startup ``.pth`` at the root of the (editable or regular) wheel."""

    description = "write the boto-sso-oidc-provider startup .pth"
    user_options: list[tuple[str, str | None, str]] = []

    def initialize_options(self) -> None:
        self.build_lib: str | None = None
        self.editable_mode = False

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def run(self) -> None:
        startup = _startup()
        targets = [self.build_lib]
        if self.editable_mode:
            targets.append(self.get_finalized_command("install").install_lib)
        for directory in targets:
            assert directory is not None
            os.makedirs(directory, exist_ok=True)
            with open(os.path.join(directory, startup.PTH_NAME), "w", encoding="utf-8") as file:
                file.write(startup.PTH_LINE)

    def get_outputs(self) -> list[str]:
        assert self.build_lib is not None
        return [os.path.join(self.build_lib, _startup().PTH_NAME)]

    def get_output_mapping(self) -> dict[str, str]:
        return {}

    def get_source_files(self) -> list[str]:
        return []


class build_with_startup_hook(build):
    sub_commands = [*build.sub_commands, ("build_startup_hook", None)]


setup(cmdclass={"build": build_with_startup_hook, "build_startup_hook": build_startup_hook})
