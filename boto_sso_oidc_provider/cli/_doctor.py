"""``boto-sso-oidc doctor``: is this setup right? Each finding one line, with its fix.

What it checks, in order (each check's name starts its lines):

``config``        the AWS config as botocore reads it: a profile that keeps its start URL
                  itself (legacy: no refresh token) instead of an sso-session; a start URL
                  with a fragment (``#/``, copied from the browser) or a path other than
                  ``/start``; region names (``sso_region``, ``region``); registration scopes
                  without ``sso:account:access``; this package's settings (values it refuses,
                  and the spellings other tools do not read); keys that look like a
                  misspelling of an SSO key or of a setting (``sso_acount_id``);
``caches``        the token, role-credential and directory caches and the config: modes
                  (0600 files, 0700 directories), files that are not a JSON object, lock
                  files nobody holds;
``hook``          this interpreter's startup hook: installed (the ``.pth`` file), switched on
                  or off by the environment, and which profiles the config turns the plugin on
                  for (one that is not an SSO profile gets nothing);
``network``       for each sso-session (or the profile's): SSO OIDC and the portal reachable
                  from here (one request each, carrying nothing secret), through which proxy,
                  and the certificate's issuer the host shows;
``clock``         this machine's clock against the ``Date`` of those answers (SigV4 refuses
                  more than 5 minutes, and every expiry is judged by this clock);
``aws-cli``       where an ``aws`` is on PATH: its version, whether it reads the profile
                  (``aws configure list``) with the same region, and whether the
                  ``credential_process`` lines that run ``boto-sso-oidc`` point at one that exists.

It changes nothing and never prints a secret. ``--json`` prints the findings as JSON
(``{"ok": ..., "findings": [{"check", "status", "subject", "message", "fix"}]}``).

Exit codes: 0 nothing failed (warnings may be shown); 1 at least one check failed; 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._common import EXIT_FAILURE, EXIT_OK, add_debug, add_json, setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from ..config.reader import AWSConfig, SSOSessionConfig

OK, WARN, FAIL = "ok", "warn", "fail"

SSO_SCOPE = "sso:account:access"
_KNOWN_SCOPES = (SSO_SCOPE, "openid", "profile", "email", "offline_access")
_SSO_KEYS = ("sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name",
             "sso_registration_scopes")
_SKEW_FAIL = 300.0  # SigV4's tolerance
_SKEW_WARN = 60.0
_PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    subject: str
    message: str
    fix: str = ""

    def line(self) -> str:
        """One printable line: what it names was read from files and services (one_line)."""
        from ._common import one_line

        said = one_line(f"{self.subject}: {self.message}" + (f" Fix: {self.fix}" if self.fix else ""))
        return f"{self.status.upper():<4}  {self.check}: {said}"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit codes: 0 nothing failed, 1 a check failed, 2 bad usage."
    parser.add_argument("--profile", metavar="PROFILE",
                        help="the profile whose sso-session, network and AWS CLI view to check "
                             "(default: $AWS_PROFILE; without it, every sso-session)")
    add_json(parser)
    add_debug(parser)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.debug)
    findings = list(_checks(args.profile))
    failed = any(finding.status == FAIL for finding in findings)
    if args.json:
        print(json.dumps({"ok": not failed, "findings": [asdict(f) for f in findings]}, indent=2))
    else:
        for finding in findings:
            print(finding.line())
        fails = sum(f.status == FAIL for f in findings)
        warns = sum(f.status == WARN for f in findings)
        print(f"{fails} failed, {warns} warning{'s' * (warns != 1)}, "
              f"{sum(f.status == OK for f in findings)} ok.")
    return EXIT_FAILURE if failed else EXIT_OK


def _checks(profile: str | None) -> Iterator[Finding]:
    from ..config._loader import config_file
    from ..config.reader import AWSConfig
    from ..exceptions import SSOConfigError
    from ._common import error_line

    try:
        config = AWSConfig.load()
    except SSOConfigError as error:
        yield Finding("config", FAIL, config_file(), error_line(error), "fix the file's syntax")
        config = None
    if profile is None and (os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")):
        from ..config._loader import default_profile

        profile = default_profile()
    # From here on the profile is named where it matters (the probes make their clients without
    # one; the AWS CLI gets --profile): a variable naming none, or an empty one, must not stop them.
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(variable, None)
    if config is not None:
        yield from _config_checks(config)
        if profile is not None and config.profile_kind(profile) == "undefined":
            yield Finding("config", FAIL, f'profile "{profile}"', config.unknown_profile(profile))
            profile = None
    yield from _cache_checks()
    if config is not None:
        yield from _hook_checks(config)
        sessions = _sessions_to_probe(config, profile)
        yield from _network_checks(sessions)
        yield from _aws_cli_checks(config, profile)


# -- the config -------------------------------------------------------------------------------


def _sections(config: AWSConfig) -> Iterator[tuple[str, dict[str, str]]]:
    for name in config.sso_session_names():
        yield f'sso-session "{name}"', config.session_section(name)
    for name in config.profile_names():
        yield f'profile "{name}"', config.profile_section(name)


def _config_checks(config: AWSConfig) -> Iterator[Finding]:
    from ..exceptions import SSOConfigError
    from ._common import error_line

    found = 0
    named: set[str] = set()
    for where, values in _sections(config):
        for finding in (*_legacy(where, values), *_start_url(where, values), *_regions(where, values),
                        *_scopes(where, values), *_settings(where, values), *_typos(where, values)):
            found += 1
            named.add(where)
            yield finding
    for finding in _environment():
        found += 1
        yield finding
    # What the reader itself refuses (a key missing, two that disagree, an undefined session),
    # for the profiles no finding above explains already.
    for name in config.sso_profiles():
        if f'profile "{name}"' in named:
            continue
        try:
            if config.profile_kind(name) == "sso-role" or config.is_role_chain(name):
                config.credentials_profile(name)
            else:
                config.sso_of_profile(name)
        except SSOConfigError as error:
            found += 1
            yield Finding("config", FAIL, f'profile "{name}"', error_line(error))
    if not found:
        sessions, profiles = len(config.sso_session_names()), len(config.sso_profiles())
        yield Finding("config", OK, "the AWS config",
                      f"{sessions} sso-session{'s' * (sessions != 1)}, {profiles} SSO "
                      f"profile{'s' * (profiles != 1)}, read by botocore without a problem found")


def _environment() -> Iterator[Finding]:
    """This package's ``BOTO_SSO_OIDC_*`` variables with a value it refuses."""
    from ..config._settings import SETTINGS, SettingError, parse

    for setting, (_key, _alias, variable) in SETTINGS.items():
        value = os.environ.get(variable)
        if not value:
            continue
        try:
            parse(setting, variable, value)
        except SettingError as error:
            yield Finding("config.settings", FAIL, "the environment",
                          error.message("The environment").split(": ", 1)[-1],
                          f"set {variable} to a value it takes, or unset it")


def _legacy(where: str, values: dict[str, str]) -> Iterator[Finding]:
    if where.startswith("profile") and values.get("sso_start_url") and not values.get("sso_session"):
        yield Finding("config.legacy", WARN, where,
                      "keeps sso_start_url and sso_region itself (the legacy form): its logins get no "
                      "refresh token, so a new login is needed every time the access token expires",
                      "move them to an [sso-session NAME] section and set sso_session = NAME in the "
                      "profile (boto-sso-oidc configure --sso-session NAME writes both)")


def _canonical_start_url(url: str) -> str | None:
    """The start URL without what a browser adds (``#/``, a trailing path); None if it is fine."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path
    aws_owned = host.endswith((".awsapps.com", ".awsapps.cn"))
    if parts.fragment or "#" in url or parts.query or (aws_owned and path not in ("/start", "")):
        clean = "/start" if aws_owned else path.rstrip("/") or path
        return f"{parts.scheme}://{parts.netloc}{clean}"
    return None


def _start_url(where: str, values: dict[str, str]) -> Iterator[Finding]:
    url = values.get("sso_start_url")
    if not url:
        return
    canonical = _canonical_start_url(url)
    if canonical is not None:
        yield Finding("config.start-url", FAIL, where,
                      f"sso_start_url = {url} carries what the browser's address bar adds (a #/ "
                      "fragment or a path after /start): the AWS CLI and this package key their "
                      "token cache by the URL as written, so the same portal logs in twice, and "
                      "the browser login may be refused",
                      f"set sso_start_url = {canonical}")


def _regions(where: str, values: dict[str, str]) -> Iterator[Finding]:
    from ..config.reader import region_problem

    for key in ("sso_region", "region"):
        value = values.get(key)
        problem = region_problem(value) if value else None
        if problem:
            yield Finding("config.region", FAIL, where, f"{key} = {value}: {problem}",
                          f"write the region's name in {key}")


def _scopes(where: str, values: dict[str, str]) -> Iterator[Finding]:
    from ..config._settings import close_match
    from ..config.reader import parse_registration_scopes

    raw = values.get("sso_registration_scopes")
    scopes = parse_registration_scopes(raw) if raw is not None else None
    if scopes is None:
        return
    for scope in scopes:
        if scope not in _KNOWN_SCOPES and ":" in scope:
            near = close_match(scope, _KNOWN_SCOPES, cutoff=0.8)
            if near:
                yield Finding("config.scopes", FAIL, where,
                              f"sso_registration_scopes has {scope}, which IAM Identity Center does "
                              f"not grant: did you mean {near}?", f"write {near}")
    if SSO_SCOPE not in scopes:
        yield Finding("config.scopes", FAIL, where,
                      f"sso_registration_scopes = {raw} lacks {SSO_SCOPE}: a token without it cannot "
                      "list accounts or get role credentials",
                      f"sso_registration_scopes = {SSO_SCOPE}" + (f",{raw}" if (raw or "").strip() else ""))


def _settings(where: str, values: dict[str, str]) -> Iterator[Finding]:
    from ..config._settings import SETTINGS, SettingError, parse, source

    for setting in SETTINGS:
        try:
            key, raw = source(values, setting, {})
        except SettingError as error:
            yield Finding("config.settings", FAIL, where, error.message(where).removeprefix(f"{where} "),
                          "keep one of the two keys")
            continue
        if raw is None:
            continue
        try:
            parsed = parse(setting, key, raw)
        except SettingError as error:
            yield Finding("config.settings", FAIL, where, error.message(where).split(": ", 1)[-1],
                          f"set {key} to a value it takes")
            continue
        text = str(raw).strip().lower()
        if isinstance(parsed, bool) and text not in ("true", "false"):
            yield Finding("config.settings", WARN, where,
                          f"{key} = {raw} is read as {str(parsed).lower()} here, but other tools that "
                          "read the AWS config take only true and false",
                          f"write {key} = {str(parsed).lower()}")


def _typos(where: str, values: dict[str, str]) -> Iterator[Finding]:
    from ..config._settings import KNOWN_KEYS, close_match

    known = _known_keys()
    for key in values:
        if key in known or key in KNOWN_KEYS:
            continue
        near = close_match(key, (*_SSO_KEYS, *KNOWN_KEYS), cutoff=0.8)
        if near:
            yield Finding("config.keys", FAIL, where,
                          f"has {key}, which nothing reads: a misspelling of {near}?",
                          f"rename it to {near}")


def _known_keys() -> frozenset[str]:
    """Every key botocore and the AWS CLI read in a profile (so none is taken for a typo)."""
    from botocore.configprovider import BOTOCORE_DEFAUT_SESSION_VARIABLES

    keys = {str(entry[0]) for entry in BOTOCORE_DEFAUT_SESSION_VARIABLES.values() if entry[0]}
    keys.update(_SSO_KEYS, ("region", "output", "role_arn", "source_profile", "credential_source",
                            "role_session_name", "external_id", "mfa_serial", "duration_seconds",
                            "credential_process", "aws_access_key_id", "aws_secret_access_key",
                            "aws_session_token", "web_identity_token_file", "ca_bundle",
                            "cli_pager", "cli_auto_prompt", "cli_timestamp_format",
                            "cli_binary_format", "cli_history", "s3", "services"))
    return frozenset(keys)


# -- the caches -------------------------------------------------------------------------------


def _cache_places() -> list[Path]:
    from ..caches._layout import directory_cache_dir, role_cache_dir, sso_cache_dir

    return [Path(sso_cache_dir()), Path(role_cache_dir()), Path(directory_cache_dir())]


def _cache_checks() -> Iterator[Finding]:
    from .._platform import sharing_problem
    from ..config._loader import config_file

    problems = 0
    checked = 0
    for directory in _cache_places():
        if not directory.is_dir():
            continue
        problem = sharing_problem(directory.lstat(), directory=True)
        if problem:
            problems += 1
            yield Finding("caches.modes", FAIL, str(directory), problem, f"chmod 700 {directory}")
        for path in sorted(directory.iterdir()):
            checked += 1
            finding = _cache_file(path)
            if finding is not None:
                problems += 1
                yield finding
    config_lock = Path(config_file() + ".lock")
    if config_lock.exists():
        finding = _lock_file(config_lock)
        if finding is not None:
            problems += 1
            yield finding
    if not problems:
        yield Finding("caches", OK, "the caches", f"{checked} files checked: private, readable, no "
                                                  "lock left behind")


def _cache_file(path: Path) -> Finding | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    import stat

    from .._platform import sharing_problem

    if not stat.S_ISREG(info.st_mode):
        return None
    if path.name.endswith(".lock"):
        return _lock_file(path)
    problem = sharing_problem(info)
    if problem:
        fix = (f"remove it (sudo rm {path}): it is made again" if problem.startswith("belongs")
               else f"chmod 600 {path}")
        return Finding("caches.modes", FAIL, str(path), f"{problem}: it may hold a token or "
                       "credentials", fix)
    if path.suffix != ".json":
        return None
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        return Finding("caches.corrupt", FAIL, str(path),
                       "is not a JSON object (cut off, or written by something else): it is ignored",
                       f"remove it (rm {path}); the next login or call makes it again")
    return None


def _lock_file(path: Path) -> Finding | None:
    from .._platform import lock_held

    held = lock_held(path)
    if held is None or held:
        return None
    age = time.time() - path.stat().st_mtime
    from ._common import duration

    return Finding("caches.locks", WARN, str(path),
                   f"a lock file nobody holds, left {duration(age)} ago (by a crash, or an older "
                   "version that kept its lock files)", f"remove it: rm {path}")


# -- this interpreter's hook ------------------------------------------------------------------


def _hook_checks(config: AWSConfig) -> Iterator[Finding]:
    import site

    from ..config.reader import ENV_ENABLED
    from ..exceptions import SSOConfigError

    places = [*getattr(site, "getsitepackages", lambda: [])(), site.getusersitepackages()]
    pth = next((Path(place) / "boto_sso_oidc_provider-startup.pth" for place in places
                if (Path(place) / "boto_sso_oidc_provider-startup.pth").is_file()), None)
    interpreter = sys.executable
    enabled: list[str] = []
    for name in config.profile_names():
        try:
            if config.plugin_enabled(name):
                enabled.append(name)
        except SSOConfigError:
            continue  # the settings check names it
    kinds = {name: config.profile_kind(name) for name in enabled}
    for name in enabled:
        if kinds[name] == "other" and not config.is_role_chain(name):
            yield Finding("hook", FAIL, f'profile "{name}"',
                          "turns the plugin on (boto_sso_oidc_enabled) but is not an IAM Identity "
                          "Center profile: the plugin serves nothing there",
                          "remove boto_sso_oidc_enabled from it, or give it sso_session, "
                          "sso_account_id and sso_role_name")
    served = [name for name in enabled if kinds[name] != "other" or config.is_role_chain(name)]
    switched = os.environ.get(ENV_ENABLED, "").strip().lower()
    if pth is None:
        yield Finding("hook", WARN if served else OK, interpreter,
                      "the startup hook is not installed for this interpreter: its boto3 programs "
                      "ignore boto_sso_oidc_enabled", "pip install the package into each "
                      "environment whose boto3 should use it (README: Install for real use)"
                      if served else "")
        return
    if switched in ("false", "0", "no", "off"):
        yield Finding("hook", WARN if served else OK, interpreter,
                      f"{ENV_ENABLED}={os.environ[ENV_ENABLED]} switches the hook off in this "
                      "environment", f"unset {ENV_ENABLED}" if served else "")
        return
    listed = ", ".join(served[:3]) + (f" and {len(served) - 3} more" if len(served) > 3 else "")
    what = (f"the plugin serves {len(served)} profile{'s' * (len(served) != 1)} ({listed})" if served
            else "no SSO profile turns the plugin on (boto_sso_oidc_enabled = true on a profile or "
                 "its sso-session: boto-sso-oidc configure --enable-plugin)")
    if switched in ("true", "1", "yes", "on"):
        what = f"{ENV_ENABLED}=true turns the plugin on for every profile of this environment"
    yield Finding("hook", OK, interpreter, f"the startup hook is installed ({pth}); {what}")


# -- the network and the clock ------------------------------------------------------------------


def _sessions_to_probe(config: AWSConfig, profile: str | None) -> list[tuple[SSOSessionConfig, str | None]]:
    """The sso-sessions to probe, each with the profile whose network settings (``ca_bundle``,
    proxies) its calls use: the named profile's, else every session's, through the default."""
    from ..config.reader import SSOSessionConfig

    if profile is not None:
        try:
            return [(config.resolve(profile), profile)]
        except Exception:  # noqa: BLE001 - the config checks named it
            return []
    return [(sso, None) for sso in config.every_session() if isinstance(sso, SSOSessionConfig)]


def _network_checks(sessions: list[tuple[SSOSessionConfig, str | None]]) -> Iterator[Finding]:
    from ._common import error_line

    if not sessions:
        return
    skews: list[tuple[str, float]] = []
    for sso, profile in sessions:
        for service, label in (("sso-oidc", "SSO OIDC"), ("sso", "the SSO portal")):
            try:
                finding, date = _probe(sso, profile, service, label)
            except Exception as error:  # noqa: BLE001 - a check never ends the others
                finding, date = Finding("network", FAIL, f"{label} of {sso.display_name}",
                                        error_line(error), "run again with --debug"), None
            yield finding
            if date is not None:
                skews.append((finding.subject, date))
    if skews:
        subject, skew = max(skews, key=lambda item: abs(item[1]))
        ahead = "ahead of" if skew > 0 else "behind"
        if abs(skew) > _SKEW_FAIL:
            yield Finding("clock", FAIL, "this machine",
                          f"its clock is {abs(skew):.0f} s {ahead} the clock of {subject}: AWS "
                          "refuses signed requests more than 5 minutes off, and every expiry is "
                          "judged by it",
                          "set the clock (turn on NTP time synchronisation)")
        elif abs(skew) > _SKEW_WARN:
            yield Finding("clock", WARN, "this machine", f"its clock is {abs(skew):.0f} s {ahead} "
                          f"the clock of {subject}", "turn on NTP time synchronisation")
        else:
            yield Finding("clock", OK, "this machine",
                          f"its clock agrees with the services' (within {max(abs(skew), 1):.0f} s)")


def _probe(sso: SSOSessionConfig, profile: str | None, service: str, label: str) \
        -> tuple[Finding, float | None]:
    """One request to ``service`` (a refused one: nothing secret is sent), on the network the
    profile configures: reachable?, through which proxy, the certificate's issuer, and the
    clock skew its ``Date`` shows."""
    import email.utils

    import botocore.exceptions

    from .._clients import (
        ClientProfile,
        botocore_session,
        create_client,
        session_network,
        unreachable_message,
    )
    from ..exceptions import NetworkError
    from ._common import error_line

    core = botocore_session(None, profile)
    network = session_network(core)
    client = create_client(service, sso.region, core, network=network, profile=ClientProfile(
        connect_timeout=_PROBE_TIMEOUT, read_timeout=_PROBE_TIMEOUT, max_attempts=1))
    url = client.meta.endpoint_url
    subject = f"{label} of {sso.display_name} ({url})"
    route = _route(url, network)
    try:
        if service == "sso-oidc":
            client.create_token(clientId="boto-sso-oidc-doctor", clientSecret="doctor",
                                grantType="refresh_token", refreshToken="doctor")
        else:
            client.list_accounts(accessToken="boto-sso-oidc-doctor", maxResults=1)
        headers: dict[str, str] = {}
    except botocore.exceptions.ClientError as error:  # the expected refusal: it answered
        headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    except NetworkError as error:  # a certificate not trusted here, a proxy that refuses
        return Finding("network", FAIL, subject, f"cannot be reached{route}: {error_line(error)}",
                       "see the line above: ca_bundle, AWS_CA_BUNDLE, boto_sso_oidc_truststore or "
                       "the proxy variables"), None
    except botocore.exceptions.EndpointConnectionError:
        return Finding("network", FAIL, subject, f"cannot be reached{route}: {unreachable_message(url)}",
                       "check the endpoint variables, the proxy and the firewall"), None
    except (botocore.exceptions.SSLError, botocore.exceptions.ProxyConnectionError,
            botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError) as error:
        return Finding("network", FAIL, subject, f"{type(error).__name__}: {error}{route}"
                       + _issuer(url, network), "trust the certificate (ca_bundle or AWS_CA_BUNDLE) "
                       "or fix the proxy"), None
    date = headers.get("date")
    skew = None
    if date:
        try:
            skew = time.time() - email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            skew = None
    return Finding("network", OK, subject, f"reachable{route}{_issuer(url, network)}"), skew


def _route(url: str, network: Any) -> str:
    """How requests to ``url`` go: through which proxy (and the setting that names it), or direct."""
    from .. import _network

    route = _network.proxy_route(url, network)
    return f", through {route.describe()}" if route is not None else ", direct (no proxy)"


def _issuer(url: str, network: Any) -> str:
    """The issuer of the certificate ``url``'s host shows from here, through the configured proxy
    (``_network.presented_certificate``: behind TLS inspection, the company's root)."""
    from .. import _network

    if urlsplit(url).scheme != "https":
        return "; plain http (a local endpoint): no certificate"
    try:
        shown = _network.presented_certificate(url, network=network)
    except _network.ProbeError as error:
        return f"; the certificate could not be read ({error})"
    return f"; its certificate is issued by {shown.issuer}"


# -- the AWS CLI's view ---------------------------------------------------------------------------


def _aws_cli_checks(config: AWSConfig, profile: str | None) -> Iterator[Finding]:
    import shlex

    aws = shutil.which("aws")
    problems = 0
    for name in config.profile_names():
        line = config.profile_value(name, "credential_process")
        if not line or "boto-sso-oidc" not in line and "boto_sso_oidc_provider" not in line:
            continue
        try:
            program = shlex.split(line)[0]
        except (ValueError, IndexError):
            program = line
        resolved = program if os.sep in program else shutil.which(program)
        if resolved is None or not os.access(resolved, os.X_OK):
            problems += 1
            yield Finding("aws-cli", FAIL, f'profile "{name}"',
                          f"credential_process runs {program}, which does not exist here (a venv "
                          "moved or removed?): the AWS CLI and the SDKs fail on this profile",
                          f"write it again: boto-sso-oidc configure --profile {name.removesuffix('-cli')} "
                          "--credential-process (or fix the path)")
    if aws is None:
        yield Finding("aws-cli", OK, "the AWS CLI", "none on PATH: nothing to compare")
        return
    version = _run([aws, "--version"])
    said = (version.stdout + version.stderr).strip().split(" ")[0] if version else "unknown"
    if profile is None:
        if not problems:
            yield Finding("aws-cli", OK, aws, f"{said}; its credential_process lines run a "
                                              "boto-sso-oidc that exists")
        return
    listed = _run([aws, "configure", "list", "--profile", profile])
    if listed is None or listed.returncode != 0:
        reason = " ".join(((listed.stderr if listed else "") or "it did not answer").split())[:300]
        yield Finding("aws-cli", FAIL, f'profile "{profile}"', f"{said} cannot read it: {reason}",
                      "fix what it says (the AWS CLI reads the same config)")
        return
    theirs = next((line.split()[1] for line in listed.stdout.splitlines()
                   if line.strip().startswith("region") and len(line.split()) > 1), None)
    ours = config.profile_value(profile, "region") or os.environ.get("AWS_REGION") or \
        os.environ.get("AWS_DEFAULT_REGION")
    if theirs not in (None, "<not", ours):
        yield Finding("aws-cli", WARN, f'profile "{profile}"',
                      f"{said} reads region {theirs}, this package {ours}", "set region in the profile")
        return
    note = (" (AWS CLI v1 uses the token this package caches, but cannot log in: "
            "boto-sso-oidc login does)" if said.startswith("aws-cli/1.") else "")
    yield Finding("aws-cli", OK, f'profile "{profile}"', f"{said} reads it alike{note}")


def _run(argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None

