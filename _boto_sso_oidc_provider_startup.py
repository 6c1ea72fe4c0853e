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
nothing: it only notices the first import of ``botocore.session`` and
registers :func:`initialize` through botocore's public
``register_initializer``. It then stays where it is, answering None (a string
comparison per import): ``importlib._bootstrap._find_spec`` iterates the live
``sys.meta_path`` list, in every importing thread, with the import lock held
only around each finder's call, so removing an entry while another thread is
between two finders shifts the list under that thread's iterator and makes it
skip a finder (PathFinder: a false ``ModuleNotFoundError`` for ``lzma`` or
``shelve``). No removal is safe while other threads may import, and rebinding
``sys.meta_path`` to a copy would drop a finder another thread inserts
meanwhile; an inert finder costs nothing of the kind. From then on every botocore session (boto3's,
aiobotocore's, aioboto3's included) passes through :func:`initialize`, which
registers lazy factories (see ``boto_sso_oidc_provider.providers.installation``); the
AWS config is read when the session builds its credential chain, where botocore reads it anyway,
and only profiles that ask for it (``boto_sso_oidc_enabled = true`` on the
profile or its sso-session) get this package's providers. The others get the
chain botocore itself builds.

:func:`initialize` never breaks a session: when the package cannot be imported
(a half-removed or broken install) or fails to set the session up, it warns
once per process (a :class:`RuntimeWarning`) and leaves the session exactly as
botocore made it; a profile that does not use the plugin never notices. The
``.pth`` line itself is silent when this module is gone (see :data:`PTH_LINE`).

``BOTO_SSO_OIDC_ENABLED=false`` in the environment switches all of this off
(the finder is not even installed); ``=true`` turns the plugin on for every
profile of the process.

Limits: a finder placed in ``sys.meta_path`` before this one and answering for
``botocore.session`` itself would hide the import (no known finder does);
``python -S`` skips ``.pth`` files, and so skips the hook.
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
_warned = False

PTH_NAME = "boto_sso_oidc_provider-startup.pth"
"""The file the wheel puts in site-packages (sorted after setuptools' ``__editable__`` files,
so an editable install's finder is in place before this line runs)."""

PTH_LINE = (
    "import sys; exec('try:\\n import _boto_sso_oidc_provider_startup as h\\n"
    "except ModuleNotFoundError as e:\\n if e.name != \\'_boto_sso_oidc_provider_startup\\': raise\\n"
    "else:\\n h.activate()')\n"
)
"""Its one line (an ``import`` line: :mod:`site` executes it). When this module is gone but the
``.pth`` file was left behind (a half-removed install, an editable install whose checkout moved
away), it does nothing and prints nothing; any other failure is :mod:`site`'s usual report. A
``try`` needs ``exec`` in a ``.pth`` line (about 20 microseconds to compile)."""


def switched_off(environ: "Any" = None) -> bool:
    """True if ``BOTO_SSO_OIDC_ENABLED`` says false (``false``, ``0``, ``no``, ``off``)."""
    value = (os.environ if environ is None else environ).get(ENV_ENABLED, "")
    return value.strip().lower() in ("false", "0", "no", "off")


class _BotocoreSessionWatcher:
    """A meta-path finder that finds nothing: it waits for the first import of ``botocore.session``."""

    def find_spec(self, fullname: str, path: "Any" = None, target: "Any" = None) -> None:
        if fullname == WATCHED and not _registered:
            # botocore (the parent package) is fully imported before its
            # submodule is looked for, so register_initializer is there now.
            # The finder stays in sys.meta_path (see the module docstring).
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
        # At interpreter start no other thread imports. Later, an insertion at the front
        # can only make a thread iterating the list meet a finder twice, never skip one.
        sys.meta_path.insert(0, _BotocoreSessionWatcher())


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
    try:
        from boto_sso_oidc_provider.providers.installation import install_from_config

        install_from_config(session, on_broken=warn_broken)
    except Exception as error:  # a broken install must not break a program that never uses it
        warn_broken(error)


def warn_broken(error: BaseException) -> None:
    """Warn once per process that the installation is broken (``error`` says how) and that
    sessions keep botocore's own providers. Never raises (not even under ``-W error``)."""
    global _warned
    if _warned:
        return
    _warned = True
    message = (f"boto-sso-oidc-provider is installed but cannot be used ({type(error).__name__}: "
               f"{error}); botocore sessions keep their own providers. Reinstall it (pip install "
               "--force-reinstall boto-sso-oidc-provider) or remove it (pip uninstall "
               "boto-sso-oidc-provider).")
    try:
        import warnings

        warnings.warn(message, RuntimeWarning, stacklevel=2)
    except Exception:  # warnings turned into errors: still never break the session
        pass
