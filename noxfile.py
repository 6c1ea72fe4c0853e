"""The compatibility matrix: the tests that touch botocore's interfaces, on other SDKs and Pythons.

The README's test command (Python 3.11, the ``test`` extra: aiobotocore 2.25, botocore 1.40) is
the main job; each session here is one row beside it, in a fresh venv::

    nox                 # every row (CI: .ci/run, before the main job)
    nox -s floor        # one row

Why nox rather than tox: the rows differ in pins, extras and test files, not only in the
interpreter; in nox they are data in one Python file (the table below), each pin written once,
with no ini-file factor syntax, and a row is a plain function that can say why it exists.
Interpreters are found on PATH as ``python3.X`` (.ci/run puts pyenv's there); a missing one
is an error, never a silent skip.

Rows:

* ``floor``: Python 3.10 with the declared minimums, botocore 1.34.103 / boto3 1.34.103
  (the first botocore whose RegisterClient takes grantTypes; 1.31.57, the floor declared
  before, refuses every registration), and the aiobotocore 2.x and aioboto3 of that
  botocore (2.13.0 / 13.0.0);
* ``newest``: Python 3.13 with the newest boto3/botocore and none of the optional test
  extras, so their tests must skip (saying why) and none may fail;
* ``aiobotocore3``: the newest aiobotocore 3.x with the botocore it pins (aioboto3, which
  pins aiobotocore 2.x, is left out and its test skips);
* ``sdk_v4``: Python 3.12 with the ``sdk-v4`` extra and ``aws-sdk-sts`` from the registry.
"""

from __future__ import annotations

import os

import nox

# uv makes each row's venv and installs in seconds where pip takes minutes on this 2-core machine;
# it may only use the interpreters that are here, never download one.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["floor", "newest", "aiobotocore3", "sdk_v4"]

# The tests that exercise botocore's (and aiobotocore's) interfaces: the providers in real
# sessions, the token chain and user-agent features, the config loader, botocore's cache keys.
INTERFACE_TESTS = [
    "tests/test_botocore_interfaces.py",
    "tests/test_provider.py",
    "tests/test_aio.py",
    "tests/test_role_credentials.py",
    "tests/test_config_activation.py",
    # the clients' HTTP session is replaced (the network: CA bundle, trust store, errors)
    "tests/test_ca_bundle.py",
]

PYTEST = ["python", "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider"]


def _run(session: nox.Session, *packages: str, extras: str = "test-base",
         tests: list[str] = INTERFACE_TESTS) -> None:
    session.install("-q", "-e", f".[{extras}]", *packages)
    session.run("python", "-c", "import botocore, boto3; print('botocore', botocore.__version__, "
                "'boto3', boto3.__version__)")
    session.run(*PYTEST, *tests)


@nox.session(python="3.10")
def floor(session: nox.Session) -> None:
    """The declared floors (pyproject.toml) on the oldest supported Python."""
    _run(session, "botocore==1.34.103", "boto3==1.34.103", "aiobotocore==2.13.0", "aioboto3==13.0.0")


@nox.session(python="3.13")
def newest(session: nox.Session) -> None:
    """The newest boto3/botocore, without the optional test extras."""
    _run(session, "--upgrade", "boto3", "botocore")


@nox.session(python="3.11")
def aiobotocore3(session: nox.Session) -> None:
    """aiobotocore 3.x (and the botocore it pins)."""
    _run(session, "aiobotocore>=3,<4")


@nox.session(python="3.12")
def sdk_v4(session: nox.Session) -> None:
    """The AWS SDK for Python v4's SSO provider, with aws-sdk-sts from the registry."""
    _run(session, "aws-sdk-sts", extras="test-base,sdk-v4", tests=["tests/test_sdk_v4.py"])
