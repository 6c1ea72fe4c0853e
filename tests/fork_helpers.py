"""Many short-lived real processes, cheaply: a pre-imported "zygote" interpreter forks them.

Signal and crash-injection proofs need hundreds of processes that are killed
or interrupted mid-refresh. Starting each from scratch costs ~0.5 s of CPU
(botocore's import); forking a single-threaded interpreter that has already
imported everything costs milliseconds. Each child is a real process with
its own HOME (so its own caches and SSO session), runs one *target* through
the package's public API or the CLI's ``main``, and gets a real signal at a
chosen moment. The zygote reports each child's exit status and timings.

Targets (each child's stdout goes to /dev/null; stderr to ``<home>/child.log``):

``credential-process``  ``cli.main(["credential-process", "--profile", "dev"])``
``login``               ``cli.main(["login", "--profile", "dev", "--no-browser"])``
``load_token``          an application calling ``load_token("dev")``: exit 130 on
                        KeyboardInterrupt; with ``sigterm="exit"`` it maps SIGTERM
                        to ``sys.exit(143)`` itself, with ``"default"`` it does not
``setup``               ``login("dev")`` (the fixture's emulator approves at once)
``next``                the next caller: role credentials through ``session("dev")``;
                        exit 0, or 3 if a login is needed (the session was lost)
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

_ZYGOTE = textwrap.dedent('''
    import json, os, signal, sys, time
    import boto_sso_oidc_provider as p
    from boto_sso_oidc_provider import cli, installation, provider, role_credentials, token  # noqa
    from boto_sso_oidc_provider.cli import _credential_process, _credentials, _login  # noqa
    from boto_sso_oidc_provider import exceptions
    import boto3, botocore.session, botocore.client, botocore.config  # noqa
    import botocore.credentials, botocore.tokens  # noqa

    def child(job):
        home = job["home"]
        os.environ.update(HOME=home, AWS_CONFIG_FILE=os.path.join(home, ".aws", "config"),
                          AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, ".aws", "credentials"))
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        log = os.open(os.path.join(home, "child.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 2)
        target = job["target"]
        open(os.path.join(home, "started"), "w").close()  # the "start" anchor: the target runs now
        try:
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
            if target == "next":
                p.session(profile_name="dev").get_credentials().get_frozen_credentials()
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
        jobs = json.loads(line)
        started = time.monotonic()
        running = {}
        for index, job in enumerate(jobs):
            marker = os.path.join(job["home"], "started")
            if os.path.exists(marker):
                os.unlink(marker)
            # The application's own SIGTERM handler, there from the child's first instruction.
            signal.signal(signal.SIGTERM, (lambda *_: sys.exit(143)) if job.get("sigterm") == "exit"
                          else signal.SIG_DFL)
            pid = os.fork()
            if pid == 0:
                code = 4
                try:
                    code = child(job)
                finally:
                    sys.stderr.flush()
                    os._exit(code if isinstance(code, int) else 4)
            running[pid] = index
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        results = [None] * len(jobs)
        # When to signal each child: "after" seconds from the moment its target starts (anchor
        # "start", the default) or its prepared cache write appears (anchor "write": right
        # before CreateToken is sent).
        due = {}
        watched = {index: (job.get("anchor", "start"), job["home"])
                   for index, job in enumerate(jobs) if job.get("signal")}
        delivered = set()
        pids = {index: pid for pid, index in running.items()}
        while running:
            now = time.monotonic() - started
            for index, (anchor, home) in list(watched.items()):
                if anchor == "start":
                    seen = os.path.exists(os.path.join(home, "started"))
                else:
                    try:
                        names = os.listdir(os.path.join(home, ".aws", "sso", "cache"))
                    except OSError:
                        continue
                    seen = any(name.startswith(".tmp-") for name in names)
                if seen:
                    due[index] = now + jobs[index]["after"]
                    del watched[index]
            for index, when in list(due.items()):
                if when > now:
                    continue
                del due[index]
                pid = pids[index]
                if pid in running:
                    try:
                        os.kill(pid, jobs[index]["signal"])
                        delivered.add(index)
                    except ProcessLookupError:
                        pass
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(0.001)
                continue
            index = running.pop(pid)
            results[index] = {"exit": os.waitstatus_to_exitcode(status),
                              "elapsed": time.monotonic() - started}
        for index in range(len(jobs)):
            results[index]["signalled"] = index in delivered
        print(json.dumps(results), flush=True)
''')


@dataclass
class Outcome:
    exit: int
    elapsed: float
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

    def run(self, jobs: list[dict[str, Any]]) -> list[Outcome]:
        """Fork one child per job at once and send ``job["signal"]`` ``job["after"]`` seconds after
        its target starts, or with ``job["anchor"] == "write"`` after its prepared token write
        appears (CreateToken is sent right after)."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(jobs) + "\n")
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

