"""Finishing a token write that must not be cut in half by Ctrl-C or a termination request.

A refresh rotates the refresh token at the server: from the moment the
CreateToken request leaves until the new token is on disk, an interruption
loses the SSO session (the old refresh token is dead, the new one only in
memory). A login's last CreateToken is the same: the device code is spent.

Python raises the exception of a signal (``KeyboardInterrupt`` for SIGINT, or
whatever an application's own handler raises, e.g. ``SystemExit`` for
SIGTERM) in the main thread only, between any two bytecodes. So
:func:`run_to_completion` runs that critical section in a worker thread and
waits for it in the calling thread: a signal's exception lands in the waiting
thread, which notes it, tells the worker it is *cancelled* (a login stops
polling at its next pause; a CreateToken already sent is finished and
written), waits for the worker, and then re-raises the exception. No signal
handler is installed or changed: the application keeps whatever handlers it
has.

What this cannot do, honestly: a signal whose disposition is the kernel's
default action (SIGTERM in a process that installed no handler, SIGKILL,
SIGHUP) ends the process at once, and if that happens while CreateToken is
in flight the session is lost. The CLI installs a SIGTERM handler (it owns
its process); a library user who wants the same guarantee turns SIGTERM into
an exception, e.g. ``signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_to_completion"]

_T = TypeVar("_T")

logger = logging.getLogger(__name__)


def run_to_completion(work: Callable[[threading.Event], _T], *, notice: str | None = None) -> _T:
    """``work(cancelled)``'s result, the work finished even if a signal interrupts the caller.

    ``cancelled`` is set as soon as a signal's exception arrives; long work
    (polling for a login) should check it at its pauses and stop. The signal's
    exception (the first one, if several arrive) is re-raised once ``work``
    has returned or raised; otherwise ``work``'s own result or exception is.
    ``notice``, if given, is logged once (a warning) when the wait begins, so
    a person pressing Ctrl-C knows why the program is still there.
    Off the main thread no signal can interrupt the caller: ``work`` runs inline.
    """
    cancelled = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return work(cancelled)
    go, done = threading.Event(), threading.Event()
    abandoned: list[bool] = []
    outcome: list[_T] = []
    failure: list[BaseException] = []

    def target() -> None:
        go.wait()
        try:
            if not abandoned:
                outcome.append(work(cancelled))
        except BaseException as error:  # handed to the waiting thread
            failure.append(error)
        finally:
            done.set()

    worker = threading.Thread(target=target, name="boto-sso-oidc-token-write", daemon=True)
    interrupted: BaseException | None = None
    # A signal's exception may land anywhere here, even inside start(). Whether the work has
    # begun is exactly whether `go` is set: before, give up (nothing was sent); after, wait.
    try:
        worker.start()
        go.set()
    except BaseException as error:
        if not go.is_set():
            abandoned.append(True)
            go.set()
            raise
        interrupted = error
        cancelled.set()
    while True:
        try:
            done.wait()
            break
        except BaseException as error:  # KeyboardInterrupt, or what an application's handler raises
            if interrupted is None:
                interrupted = error
                cancelled.set()
                if notice:
                    logger.warning(notice)
    if interrupted is not None:
        raise interrupted
    if failure:
        raise failure[0]
    return outcome[0]
