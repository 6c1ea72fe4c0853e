"""The startup hook of boto-sso-oidc-provider: the AWS config can turn the plugin on, with no
change to any program. PYTEST_DONT_REWRITE (pytest would otherwise warn that this module of
a pytest-plugin distribution was imported before it could rewrite its asserts: it has none).

The wheel puts two files in site-packages, this top-level module and
``boto_sso_oidc_provider-startup.pth``; :mod:`site` executes the ``.pth`` file's
single line at every interpreter start, and that line imports this module and
calls :func:`activate`. So this module runs in every Python process of the
environment and must cost next to nothing: it imports only ``sys`` and ``os``
(both already loaded by then), neither botocore nor the package itself (a
top-level module, so that not even the package's ``__init__`` is imported).
:func:`activate` puts a finder at the front of ``sys.meta_path`` that finds
nothing: it only notices the first import of ``botocore.session``,
removes itself and registers :func:`initialize` through botocore's public
``register_initializer``. From then on every botocore session (boto3's,
aiobotocore's, aioboto3's included) passes through :func:`initialize`, which
registers lazy factories (see ``boto_sso_oidc_provider.installation``); the
AWS config is read when the session builds its credential chain, where botocore reads it anyway,
and only profiles that ask for it (``boto_sso_oidc_enabled = true`` on the
profile or its sso-session) get this package's providers. The others get the
chain botocore itself builds.

``BOTO_SSO_OIDC_ENABLED=false`` in the environment switches all of this off
(the finder is not even installed); ``=true`` turns the plugin on for every
profile of the process.

Limits: a finder placed in ``sys.meta_path`` before this one and answering for
``botocore.session`` itself would hide the import (no known finder does);
``python -S`` skips ``.pth`` files, and so skips the hook; an editable install
whose checkout was moved away makes :mod:`site` print one error line for the
``.pth`` file at every start, until ``pip uninstall``.
"""

# Annotations are strings, not "from __future__ import annotations": __future__ is not
# loaded at interpreter start, and this module must not load it.
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at every interpreter start
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["activate", "initialize", "switched_off", "PTH_NAME", "PTH_LINE"]

ENV_ENABLED = "BOTO_SSO_OIDC_ENABLED"  # the same name config.ENV_ENABLED (a test checks)
WATCHED = "botocore.session"

_registered = False

PTH_NAME = "boto_sso_oidc_provider-startup.pth"
"""The file the wheel puts in site-packages (sorted after setuptools' ``__editable__`` files,
so an editable install's finder is in place before this line runs)."""

PTH_LINE = "import _boto_sso_oidc_provider_startup as h; h.activate()\n"
"""Its one line (an ``import`` line: :mod:`site` executes it)."""


def switched_off(environ: "Any" = None) -> bool:
    """True if ``BOTO_SSO_OIDC_ENABLED`` says false (``false``, ``0``, ``no``, ``off``)."""
    value = (os.environ if environ is None else environ).get(ENV_ENABLED, "")
    return value.strip().lower() in ("false", "0", "no", "off")


class _BotocoreSessionWatcher:
    """A meta-path finder that finds nothing: it waits for the first import of ``botocore.session``."""

    def find_spec(self, fullname: str, path: "Any" = None, target: "Any" = None) -> None:
        if fullname == WATCHED:
            # botocore (the parent package) is fully imported before its
            # submodule is looked for, so register_initializer is there now.
            _detach()
            _register()
        return None  # the real finders import it

    def invalidate_caches(self) -> None:
        pass


def activate() -> None:
    """Arrange that this package's initializer is registered when botocore's session module loads.

    Idempotent; does nothing when ``BOTO_SSO_OIDC_ENABLED`` is false. If
    ``botocore.session`` is already imported, registers at once.
    """
    if switched_off():
        return
    if WATCHED in sys.modules:
        _register()
        return
    if not any(isinstance(finder, _BotocoreSessionWatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, _BotocoreSessionWatcher())


def _detach() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _BotocoreSessionWatcher)]


def _register() -> None:
    global _registered
    botocore = sys.modules.get("botocore")
    register = getattr(botocore, "register_initializer", None)
    if register is None or _registered:  # every supported botocore has it
        return
    register(initialize)
    _registered = True


def initialize(session: "Any") -> None:
    """botocore initializer: let the AWS config decide, per profile, whether ``session`` uses the plugin.

    Cheap (it runs for every new botocore session): registers lazy factories
    only; nothing is read until the session needs credentials or a token.
    """
    if switched_off():
        return
    from boto_sso_oidc_provider.installation import install_from_config

    install_from_config(session)
