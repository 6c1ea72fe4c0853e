"""Many short-lived real processes, cheaply: a pre-imported "zygote" interpreter forks them,
and each one is signalled at a moment it reports itself.

Signal and crash-injection proofs need hundreds of processes interrupted or killed at chosen
points of a refresh or a login. Starting each from scratch costs ~0.5 s of CPU (botocore's
import); forking a single-threaded interpreter that has already imported everything costs
milliseconds. Each child is a real process with its own HOME (so its own caches and SSO
session), runs one *target* through the package's public API or the CLI's ``main``, and gets a
real signal at its *anchor*: an event of its own run. No moment is a wall-clock delay.

How a moment is anchored: the child reports each event of its run (see :data:`EVENTS`); when it
reaches its job's ``anchor`` it writes one byte to a pipe and blocks reading the answer from a
second pipe. The zygote, reading that byte, sends the signal and only then answers; so the
signal always arrives while the child stands exactly there (a blocked main thread is woken by
it and raises the handler's exception at that point; a blocked worker thread goes on when
answered, while the main thread raises where it waits). An anchor ending in ``~`` is reached
*inside a finalizer* (a ``__del__`` run in the main thread at that event): Python drops an
exception raised there, which is how a signal could vanish (see ``_interrupts``). An anchor
ending in ``^`` is reached *inside a class's creation* (a ``__set_name__`` run in the main
thread at that event, as when a dataclass is made at a lazy import): Python 3.10 and 3.11 wrap
an exception raised there in ``RuntimeError``, which must still end the run as the signal.

Events (``sso`` is the token cache, ``cli`` the role-credential cache):

``start``                         the target starts: the CLI's own handlers are installed;
                                  ``load_token`` has read the config and made its manager
``locked:sso`` / ``locked:cli``   the entry's lock is held
``prepared:sso`` / ``prepared:cli``  the prepared write exists (right before a refresh is sent)
``sending:OP``                    botocore is about to send operation OP (``CreateToken``, ...)
``awaiting:OP``                   OP's request is sent, its answer not read yet (in flight)
``committing:sso`` / ``committed:sso`` (and ``cli``)  the cache write begins / has been renamed
``prompt``                        the device-flow prompt was shown
``callback-wait``                 the browser login waits for the browser to come back

Targets (each child's stdout goes to /dev/null; stderr to ``<home>/child.log``):

``credential-process``  ``cli.main(["credential-process", "--profile", "dev"])``
``login``               ``cli.main(["login", "--profile", "dev", "--no-browser"])`` (with
                        ``BROWSER`` in the job's ``env``, the browser flow, which then waits)
``load_token``          an application calling ``load_token("dev")``: exit 130 on
                        KeyboardInterrupt; with ``sigterm="exit"`` it maps SIGTERM
                        to ``sys.exit(143)`` itself, with ``"default"`` it does not
``setup``               ``login("dev")`` (the fixture's emulator approves at once)
``boto3`` / ``aiobotocore``  GetCallerIdentity through a plain boto3 session / an aiobotocore
                        client (the plugin activated by ``boto_sso_oidc_enabled`` in the config)
``serve-client``        a client of ``boto-sso-oidc serve``: plain boto3 with no profile and no
                        AWS config, only the container-credentials variables, which it takes from
                        the JSON file ``serve_env`` once that exists (the test writes it when
                        ``serve`` has printed them; ``{"failed": ...}`` if it could not start:
                        exit 7); calls GetCallerIdentity, exits 6 unless botocore's container
                        provider supplied the credentials, and appends a digest of the access
                        key id it used to the file ``serve_keys`` (never the key itself)

A job's ``login_timeout`` (seconds) bounds the browser login's wait for the browser instead of
its 10 minutes (``authorization_code.DEFAULT_TIMEOUT``, which every browser login uses).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boto_sso_oidc_provider.emulator import sso_config

from .conftest import subprocess_env

EVENTS = ("start", "locked:sso", "locked:cli", "prepared:sso", "prepared:cli", "sending:OP",
          "awaiting:OP", "committing:sso", "committed:sso", "committing:cli", "committed:cli",
          "prompt", "callback-wait")

_ZYGOTE = textwrap.dedent('''
    import contextlib, http.client, json, os, select, signal, sys, threading, time
    import urllib.parse
    import boto_sso_oidc_provider as p
    from boto_sso_oidc_provider import cli  # noqa
    from boto_sso_oidc_provider.providers import installation, provider  # noqa
    from boto_sso_oidc_provider.credentials import role_credentials  # noqa
    from boto_sso_oidc_provider.caches import _entry as cache, token
    from boto_sso_oidc_provider.logins import _interaction
    from boto_sso_oidc_provider.cli import _credential_process, _credentials, _login  # noqa
    from boto_sso_oidc_provider.logins import _loopback_callback, authorization_code  # noqa
    from boto_sso_oidc_provider import exceptions
    import boto3, botocore.session, botocore.client, botocore.config, botocore.endpoint  # noqa
    import botocore.credentials, botocore.tokens  # noqa
    try:  # the aiobotocore caller's own import, paid once here like botocore's
        import asyncio, aiobotocore.session, aiohttp  # noqa
    except ImportError:
        pass

    # -- the child's events and its rendezvous at the anchor --------------------------------
    _anchor = {}

    def _rendezvous():
        os.write(_anchor["out"], b"!")
        os.read(_anchor["in"], 1)  # the signal is sent before this answer

    class _InFinalizer:
        def __del__(self):
            _rendezvous()  # the handler's exception is raised here, and Python drops it
            sum(range(10))

    class _InClassCreation:
        def __set_name__(self, owner, name):
            _rendezvous()  # the handler's exception is raised here: 3.10/3.11 wrap it
            sum(range(10))

    def event(name):
        if _anchor.get("name") != name or _anchor.get("fired"):
            return
        _anchor["fired"] = True
        in_main = threading.current_thread() is threading.main_thread()
        if _anchor["where"] == "~" and in_main:
            _InFinalizer()  # made and dropped at once: its __del__ runs now, in this thread
        elif _anchor["where"] == "^" and in_main:
            type("_Made", (), {"field": _InClassCreation()})  # __set_name__ runs now
        else:
            _rendezvous()

    def _kind(entry):
        return "sso" if os.sep + "sso" + os.sep in str(entry.path) else "cli"

    _locked = cache.CacheEntry.locked
    @contextlib.contextmanager
    def locked(self, timeout=None):
        with _locked(self, timeout):
            event("locked:" + _kind(self))
            yield
    cache.CacheEntry.locked = locked

    _prepared_write = cache.CacheEntry.prepared_write
    def prepared_write(self):
        pending = _prepared_write(self)
        try:
            event("prepared:" + _kind(self))
        except BaseException:
            pending.discard()
            raise
        return pending
    cache.CacheEntry.prepared_write = prepared_write

    _commit = cache.PreparedWrite.commit
    def commit(self, data):
        event("committing:" + _kind(self.entry))
        _commit(self, data)
        event("committed:" + _kind(self.entry))
    cache.PreparedWrite.commit = commit

    _OPERATIONS = (("/token", "CreateToken"), ("/device_authorization", "StartDeviceAuthorization"),
                   ("/client/register", "RegisterClient"), ("/logout", "Logout"),
                   ("/federation/credentials", "GetRoleCredentials"))
    _current = threading.local()
    _send = botocore.endpoint.Endpoint._send
    def send(self, request):
        path = urllib.parse.urlsplit(request.url).path
        _current.operation = next((op for end, op in _OPERATIONS if path.endswith(end)), path)
        event("sending:" + _current.operation)
        return _send(self, request)
    botocore.endpoint.Endpoint._send = send

    _getresponse = http.client.HTTPConnection.getresponse
    def getresponse(self, *args, **kwargs):
        event("awaiting:" + getattr(_current, "operation", "?"))
        return _getresponse(self, *args, **kwargs)
    http.client.HTTPConnection.getresponse = getresponse

    _show = _interaction.LoginPrompt.show
    def show(self, *args, **kwargs):
        _show(self, *args, **kwargs)
        event("prompt")
    _interaction.LoginPrompt.show = show

    _wait = _loopback_callback.LoopbackCallback.wait
    def wait(self, timeout):
        event("callback-wait")
        return _wait(self, timeout)
    _loopback_callback.LoopbackCallback.wait = wait

    _main = cli._main
    def main(argv):
        event("start")  # inside cli.main: its signal handlers are in place
        return _main(argv)
    cli._main = main

    _manager = token.TokenManager.__init__
    def manager(self, *args, **kwargs):
        _manager(self, *args, **kwargs)
        if target_of_child[0] == "load_token":
            event("start")  # inside load_token: the config is read, the manager made
    token.TokenManager.__init__ = manager
    target_of_child = [None]

    def serve_client(job):
        import hashlib
        while not os.path.exists(job["serve_env"]):  # the test renames it into place when ready
            time.sleep(0.02)
        with open(job["serve_env"]) as file:
            variables = json.load(file)
        if "failed" in variables:
            print("serve did not start:", variables["failed"], file=sys.stderr)
            return 7
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            if name not in ("AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED"):
                del os.environ[name]  # no profile, no config, no keys: only what serve printed
        os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                          **variables)
        session = boto3.Session()
        credentials = session.get_credentials()
        if credentials is None or credentials.method != "container-role":
            print("not the container provider:", credentials and credentials.method, file=sys.stderr)
            return 6
        session.client("sts", region_name="us-east-1").get_caller_identity()
        key = credentials.get_frozen_credentials().access_key
        with open(job["serve_keys"], "a") as file:
            file.write(hashlib.sha256(key.encode()).hexdigest()[:16] + "\\n")
        return 0

    def child(job):
        home = job["home"]
        os.environ.update(HOME=home, AWS_CONFIG_FILE=os.path.join(home, ".aws", "config"),
                          AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, ".aws", "credentials"),
                          **job.get("env", {}))
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        log = os.open(os.path.join(home, "child.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 2)
        target = target_of_child[0] = job["target"]
        if "login_timeout" in job:
            authorization_code.DEFAULT_TIMEOUT = float(job["login_timeout"])
        try:
            if target == "serve-client":
                return serve_client(job)
            if target == "credential-process":
                return cli.main(["credential-process", "--profile", "dev"])
            if target == "login":
                return cli.main(["login", "--profile", "dev", "--no-browser"])
            if target == "load_token":
                p.load_token("dev")
                return 0
            if target == "setup":
                p.login("dev")
                return 0
            if target == "boto3":  # plain boto3, the plugin activated by the config
                boto3.Session(profile_name="dev").client(
                    "sts", region_name="us-east-1").get_caller_identity()
                return 0
            if target == "aiobotocore":
                import asyncio
                from aiobotocore.session import get_session

                async def call():
                    async with get_session().create_client("sts", region_name="us-east-1") as sts:
                        await sts.get_caller_identity()
                asyncio.run(call())
                return 0
        except KeyboardInterrupt:
            return 130
        except SystemExit as stop:
            return stop.code
        except exceptions.SSOLoginRequiredError as error:
            print("login required:", error, file=sys.stderr)
            return 3
        except BaseException as error:
            import traceback
            traceback.print_exc()
            return 4
        return 5

    # Parse botocore's data files (service models, endpoints) once, here, instead of in every
    # child: the same files, the same content, ~0.3 s of CPU saved per child. Nothing the
    # children are tested on (locks, writes, signals) is involved.
    import botocore.loaders, botocore.session
    _loader = botocore.loaders.create_loader()
    botocore.session.create_loader = lambda *args, **kwargs: _loader
    _warm = botocore.session.Session()
    for _service in ("sso", "sso-oidc", "sts"):
        _warm.create_client(_service, region_name="us-east-1",
                            config=botocore.config.Config(signature_version=botocore.UNSIGNED))
    del _warm
    print("ready", flush=True)
    for line in sys.stdin:
        batch = json.loads(line)
        jobs, at_once = batch["jobs"], batch["at_once"] or len(batch["jobs"])
        running, reports, answers, pids, forked = {}, {}, {}, {}, {}

        def start(index, job):
            report_r, report_w = os.pipe()
            answer_r, answer_w = os.pipe()
            # The application's own SIGTERM handler, there from the child's first instruction.
            signal.signal(signal.SIGTERM, (lambda *_: sys.exit(143)) if job.get("sigterm") == "exit"
                          else signal.SIG_DFL)
            pid = os.fork()
            if pid == 0:
                code = 4
                try:
                    for fd in [*reports, *answers.values()]:
                        os.close(fd)
                    os.close(report_r)
                    os.close(answer_w)
                    anchor = job.get("anchor") if job.get("signal") else None
                    if anchor:
                        where = anchor[-1] if anchor[-1] in "~^" else ""
                        _anchor.update(name=anchor.rstrip("~^"), where=where,
                                       out=report_w, **{"in": answer_r})
                    code = child(job)
                finally:
                    sys.stderr.flush()
                    os._exit(code if isinstance(code, int) else 4)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.close(report_w)
            os.close(answer_r)
            forked[index] = time.monotonic()
            running[pid] = index
            pids[index] = pid
            reports[report_r] = index
            answers[index] = answer_w

        waiting = list(enumerate(jobs))
        while waiting and len(running) < at_once:
            start(*waiting.pop(0))
        results = [None] * len(jobs)
        signalled = set()
        while running:
            if reports:
                ready, _, _ = select.select(list(reports), [], [], 0.005)
            else:
                ready = []
                time.sleep(0.002)
            for fd in ready:
                index = reports.pop(fd)
                reached = os.read(fd, 1)
                os.close(fd)
                if reached:  # at its anchor, waiting: signal it, then let it go on
                    os.kill(pids[index], jobs[index]["signal"])
                    signalled.add(index)
                    with contextlib.suppress(OSError):  # a child SIGKILLed is gone
                        os.write(answers[index], b"g")
            while running:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                index = running.pop(pid)
                results[index] = {"exit": os.waitstatus_to_exitcode(status),
                                  "elapsed": time.monotonic() - forked[index]}
                if waiting:  # at most at_once children at a time
                    start(*waiting.pop(0))
        for fd in [*reports, *answers.values()]:
            os.close(fd)
        for index in range(len(jobs)):
            results[index]["signalled"] = index in signalled
        print(json.dumps(results), flush=True)
''')


@dataclass
class Outcome:
    exit: int
    elapsed: float  # seconds from the child's fork to its end

    signalled: bool


class Zygote:
    """A pre-imported interpreter that runs batches of forked children; use as a context manager."""

    def __init__(self, emulator: Any, **env: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _ZYGOTE], env=subprocess_env(emulator, **env), text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, start_new_session=True,
        )
        assert self._proc.stdout is not None
        ready = self._proc.stdout.readline()
        assert ready.strip() == "ready", ready

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def run(self, jobs: list[dict[str, Any]], at_once: int | None = None) -> list[Outcome]:
        """Fork one child per job, all at once or at most ``at_once`` running at a time; a job
        with ``signal`` and ``anchor`` gets that signal when it reaches that event (see the
        module docstring). ``signalled`` in the outcome says the anchor was reached and the
        signal sent."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"jobs": jobs, "at_once": at_once}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        assert line, "the zygote died"
        return [Outcome(**result) for result in json.loads(line)]


def make_homes(root: Path, n: int) -> list[Path]:
    """``n`` private HOMEs, each with the fixture's AWS config (so each has its own SSO session)."""
    homes = []
    for index in range(n):
        home = root / f"home-{index}"
        aws = home / ".aws"
        aws.mkdir(parents=True, mode=0o700)
        (aws / "config").write_text(sso_config())
        homes.append(home)
    return homes


def child_log(home: Path) -> str:
    path = home / "child.log"
    return path.read_text() if path.exists() else ""
