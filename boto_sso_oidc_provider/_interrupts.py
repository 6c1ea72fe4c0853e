"""Finishing a token write that must not be cut in half by Ctrl-C or a termination request,
and never losing the signal itself.

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

"Between any two bytecodes" includes the bytecodes of a finalizer: a
``__del__`` method, a weak-reference callback (``WeakKeyDictionary`` has one),
a file's ``close`` run by the garbage collector. An exception cannot leave a
finalizer, so Python prints ``Exception ignored in ...`` and *drops* it: the
signal is gone and the program carries on as if it had never come (this is
how a ``credential-process`` sent SIGTERM once exited 0). :func:`keep_dropped_signals`
(installed by every entry point of the package, once per process) wraps
:data:`sys.unraisablehook` to recognise such an exception, one raised by the
current handler of a signal (or ``KeyboardInterrupt`` under Python's own SIGINT
handler) in the main thread, and keep the signal's number instead of printing a
traceback; :func:`deliver_dropped_signal`, called at the package's checkpoints
(the end of :func:`run_to_completion`, of each token operation, of each command),
raises the signal again there, so the same handler runs outside the finalizer and
its exception propagates as it should have; a signal not delivered that way within
a few milliseconds is sent again to the main thread (so a long wait ends too).
Every other unraisable exception goes to the previous hook unchanged.

What this cannot do, honestly: a signal whose disposition is the kernel's
default action (SIGTERM in a process that installed no handler, SIGKILL,
SIGHUP) ends the process at once, and if that happens while CreateToken is
in flight the session is lost. The CLI installs a SIGTERM handler (it owns
its process); a library user who wants the same guarantee turns SIGTERM into
an exception, e.g. ``signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))``.
"""

from __future__ import annotations

import _thread
import sys

# Only what the CLI's warm path can afford at import (it installs the hook below): no threading,
# typing or logging until they are needed.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import threading
    from collections.abc import Callable
    from typing import Any, ParamSpec, TypeVar

    _T = TypeVar("_T")
    _P = ParamSpec("_P")

__all__ = ["run_to_completion", "keep_dropped_signals", "deliver_dropped_signal",
           "raise_wrapped_signal", "signals_unwrapped"]


def _logger() -> Any:
    import logging  # not at import: the CLI's warm path imports this module, never logging

    return logging.getLogger(__name__)


# Signals whose handler's exception a finalizer dropped, oldest first (main thread only). The
# guard is re-entrant: a finalizer may run, and drop again, while the hook holds it.
_dropped: list[int] = []
_dropped_guard = _thread.RLock()
_kept: list[bool] = []
# A dropped signal is also sent again to the main thread this soon (a finalizer is short), so
# that a long wait (a login waiting for the browser) ends too, not only the next checkpoint.
_RESEND_AFTER = 0.02


def keep_dropped_signals() -> None:
    """Once per process: a signal's exception dropped in a finalizer is kept for
    :func:`deliver_dropped_signal` (and sent again shortly) instead of printed and forgotten."""
    if _kept:
        return
    _kept.append(True)
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        # The whole hook under the guard: the signal sent again (below) waits for the guard, so
        # its handler cannot run inside this hook, where its exception would be lost for good.
        with _dropped_guard:
            signum = _signal_behind(unraisable)
            if signum is None:
                previous(unraisable)
                return
            _dropped.append(signum)
            try:  # a bare thread: threading's start() would wait here for it to run
                _thread.start_new_thread(_send_again, (signum,))
            except RuntimeError:  # pragma: no cover - the interpreter is shutting down
                pass

    sys.unraisablehook = hook


def _take_dropped(signum: int | None = None) -> int | None:
    """The oldest dropped signal (only if it is ``signum``, when given), now no longer pending."""
    with _dropped_guard:
        if not _dropped or (signum is not None and _dropped[0] != signum):
            return None
        first = _dropped[0]
        del _dropped[:]
        return first


def _send_again(signum: int) -> None:
    import time

    from ._platform import signal_main_thread

    time.sleep(_RESEND_AFTER)
    with _dropped_guard:
        if _take_dropped(signum) is None:  # delivered at a checkpoint meanwhile
            return
        _logger().debug("Signal %d arrived inside a finalizer; sending it again", signum)
        try:
            signal_main_thread(signum)
        except (OSError, ValueError):  # pragma: no cover - the main thread is gone
            pass


def _signal_behind(unraisable: Any) -> int | None:
    """The signal whose handler raised this dropped exception, if one did (main thread only)."""
    error = getattr(unraisable, "exc_value", None)
    if not isinstance(error, (KeyboardInterrupt, SystemExit)):
        return None
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None  # handlers run in the main thread only: not a signal's
    import signal

    codes = set()
    trace = getattr(unraisable, "exc_traceback", None)
    while trace is not None:
        codes.add(trace.tb_frame.f_code)
        trace = trace.tb_next
    for signum in signal.valid_signals():
        try:
            handler = signal.getsignal(signum)
        except (OSError, ValueError):  # pragma: no cover - a number the platform refuses
            continue
        if getattr(handler, "__code__", None) in codes:
            return int(signum)
    if isinstance(error, KeyboardInterrupt) and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        return int(signal.SIGINT)  # Python's own handler is C: no frame of its own
    return None


def deliver_dropped_signal() -> None:
    """Raise again, here, a signal whose exception a finalizer dropped: its handler runs now
    and its exception (``KeyboardInterrupt``, ``SystemExit``...) propagates from this call.
    Nothing happens off the main thread or when no signal was dropped."""
    if not _dropped:
        return
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    signum = _take_dropped()
    if signum is None:
        return
    import signal

    signal.raise_signal(signum)  # the handler runs before raise_signal returns


def raise_wrapped_signal(error: BaseException) -> None:
    """Raise the ``KeyboardInterrupt`` or ``SystemExit`` that ``error`` carries as its cause, if
    it does; return otherwise (the caller then re-raises ``error``).

    Python 3.10 and 3.11 wrap an exception raised inside ``__set_name__`` in ``RuntimeError``
    ("Error calling __set_name__ on 'Field' instance ..."): a signal whose handler runs while a
    dataclass is being created, as when a module is imported lazily, arrives so. It is still
    the signal, and must end the program as the signal does (130/143), not as an error.
    """
    seen: list[int] = []
    cause = error.__cause__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, (KeyboardInterrupt, SystemExit)):
            raise cause.with_traceback(cause.__traceback__)
        seen.append(id(cause))
        cause = cause.__cause__


def signals_unwrapped(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """``function``, except that a signal's exception wrapped in ``RuntimeError`` (see
    :func:`raise_wrapped_signal`) leaves it as itself. For the package's entry points."""
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return function(*args, **kwargs)
        except RuntimeError as error:
            raise_wrapped_signal(error)
            raise

    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(wrapper, name, getattr(function, name))
    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    return wrapper


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
    import threading

    cancelled = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return work(cancelled)
    # Plain locks, not Events: acquire() and release() are single C calls, so a signal's
    # exception lands before or after one, never inside (Event.set is Python code: an
    # exception between its flag and its notify would leave a waiter asleep). Whoever takes
    # `claim` first decides: the worker (the work runs) or the caller giving up (it never will).
    claim, done = threading.Lock(), threading.Lock()
    done.acquire()
    finished: list[bool] = []
    outcome: list[_T] = []
    failure: list[BaseException] = []

    def target() -> None:
        if not claim.acquire(blocking=False):
            return  # the caller was interrupted before the work began: nothing was sent
        try:
            outcome.append(work(cancelled))
        except BaseException as error:  # handed to the waiting thread
            failure.append(error)
        finally:
            finished.append(True)
            done.release()

    worker = threading.Thread(target=target, name="boto-sso-oidc-token-write", daemon=True)
    signals: list[BaseException] = []
    # A signal's exception may land anywhere here, even inside start().
    try:
        worker.start()
    except BaseException as error:
        if claim.acquire(blocking=False):
            raise  # the work had not begun, and now never will
        signals.append(error)
    noticed = False
    while not finished:
        # Two levels: a second signal's exception, raised right after the first was noted
        # (the except clause's own instructions), is noted too, never let out early.
        try:
            try:
                if signals and not noticed:
                    noticed = True
                    cancelled.set()
                    if notice:
                        _logger().warning(notice)
                done.acquire()
            except BaseException as error:  # KeyboardInterrupt, or what an application's handler raises
                signals.append(error)
        except BaseException as error:
            signals.append(error)
    if signals:
        raise signals[0]
    deliver_dropped_signal()
    if failure:
        raise failure[0]
    return outcome[0]
