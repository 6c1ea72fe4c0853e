"""The package's design holds: an acyclic import graph layered in the order of the flow, each
cache-layout fact defined once, one config read per public operation, injectable clients."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider.options import Options

PACKAGE = Path(sso.__file__).resolve().parent

# The flow, bottom to top: a module may import only modules of its own layer or below. A
# family's folder (config/, logins/, caches/, ...) may span layers: its fast, standard-library
# parts sit low, where the warm path can import them.
LAYERS: list[set[str]] = [
    # the foundation (standard library only), and the families' folders, which import nothing
    {"_clock", "exceptions", "_redaction", "_files", "_interrupts", "_network", "_platform",
     "caches._layout", "caches._freshness", "config._settings", "config._loader",
     "config", "logins", "caches", "credentials", "organizations", "providers", "servers",
     "credentials._sigv4"},
    {"caches._session_end"},
    {"_clients", "organizations._listing", "logins._start_url"},
    # step 1: the config as botocore parses it; the warm path's memo of it, and the answers from
    # the caches it leads to
    {"config.reader"},
    {"config._resolved"},
    {"credentials._warm"},
    {"options", "logins._interaction", "caches._entry", "logins._loopback_callback", "config.writer",
     "organizations.generate", "credentials.console", "credentials._eks_token"},
    # steps 2 and 3: registration and the logins
    {"logins.registration"},
    {"logins._pasted_redirect"},
    {"logins.device_authorization", "logins.authorization_code", "logins._flows"},
    # step 4: the locked token cache
    {"caches.token"},
    # step 5: role credentials (and an organization's accounts and roles)
    {"credentials.role_credentials", "organizations.directory"},
    {"credentials.chained"},
    {"sessions"},
    # step 6: the ways into the SDKs
    {"providers.provider", "providers.aio", "providers.sdk_v4", "aio", "sdk_v4"},
    {"providers.installation", "providers._kubeconfig"},
    # step 7: the servers; then the command line
    {"servers._http", "servers._source", "servers.container", "servers.imds"},
    {"cli", "__main__"},
]

STARTUP_HOOK = PACKAGE.parent / "_boto_sso_oidc_provider_startup.py"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (function-level imports included); the startup
    hook, a top-level module beside the package, is a node too."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules[STARTUP_HOOK.stem] = STARTUP_HOOK
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                # "from P import m" imports the module P.m when there is one, else P itself.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            edges.update(target for target in targets if target in modules and target != name)
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_import_graph_is_acyclic():
    graph = import_graph()
    assert len(graph) > 40 and graph["boto_sso_oidc_provider.sessions"]  # the parse saw real imports
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_startup_hook_is_in_the_graph_and_nothing_imports_it():
    """The hook imports the installation (lazily); the package never imports the hook back: what
    both need is passed down (the hook's one warning) or lives below both."""
    graph = import_graph()
    assert "boto_sso_oidc_provider.providers.installation" in graph[STARTUP_HOOK.stem]
    assert [module for module, targets in graph.items() if STARTUP_HOOK.stem in targets] == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package root imports lazily, by name
    top = parts[1]
    if top == "emulator":
        return None  # a subpackage of its own, apart from the flow
    # a family's modules (login.*, servers.*) have layers of their own; other subpackages (cli)
    # take the layer of their top name
    name = ".".join(parts[1:3])
    if not any(name in layer for layer in LAYERS):
        name = top
    return next((index for index, layer in enumerate(LAYERS) if name in layer), None)


def test_modules_import_only_their_own_layer_or_below():
    graph = import_graph()
    upward = []
    for module, targets in graph.items():
        mine = _layer(module)
        if mine is None:
            continue
        for target in targets:
            theirs = _layer(target)
            if theirs is not None and theirs > mine:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_every_module_has_a_layer():
    graph = import_graph()
    unplaced = [name for name in graph if name.count(".") >= 1 and name.split(".")[1] != "emulator"
                and _layer(name) is None]
    assert unplaced == []


# -- each fact of the cache layout, and each freshness window, in one place ----------------------

_LAYOUT_FACTS = {
    "the lock timeout": r"\b600\.0\b",
    "the token and registration directory": r"[\"']sso[\"'],\s*[\"']cache[\"']|sso/cache[\"']",
    "the role-credential directory": r"[\"']cli[\"'],\s*[\"']cache[\"']|cli/cache[\"']",
    "the registration key": r"[\"']tool[\"']:\s*[\"']botocore[\"']",
    "the role key": r"[\"']roleName[\"']:\s*role_name",
    "the assume-role key": r"[\"']RoleArn[\"']:\s*role_arn",
    "the EKS token file": r"\.eks-token[\"']",
}
_WINDOWS = {
    # (900, 3600) in _layout is AssumeRole's range of durations, another fact
    "the refresh window (15 minutes)": r"15\s*\*\s*60|\b900(\.0)?\b(?!,\s*3600)|minutes\s*=\s*15",
    "the instance-metadata window (21 minutes)": r"21\s*\*\s*60|\b1260\b",
    # any module-level window or margin (the session-end notice's 10 minutes among them)
    "a constant named as a window, margin or notice": r"(?m)^[A-Z_]*(WINDOW|MARGIN|NOTICE)\s*[:=]",
}


def _files_matching(pattern: str) -> list[str]:
    compiled = re.compile(pattern)
    return [str(path.relative_to(PACKAGE).as_posix()) for path in sorted(PACKAGE.rglob("*.py"))
            if "emulator" not in path.parts and compiled.search(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("fact", sorted(_LAYOUT_FACTS))
def test_each_cache_layout_fact_is_defined_once_in_layout(fact):
    assert _files_matching(_LAYOUT_FACTS[fact]) == ["caches/_layout.py"]


@pytest.mark.parametrize("window", sorted(_WINDOWS))
def test_each_freshness_window_is_defined_once_in_freshness(window):
    assert _files_matching(_WINDOWS[window]) == ["caches/_freshness.py"]


def test_managers_and_providers_need_no_type_ignore():
    for name in ("caches/token.py", "credentials/role_credentials.py", "sessions.py",
                 "providers/provider.py", "providers/installation.py", "options.py", "config/reader.py",
                 "_clients.py"):
        assert "type: ignore" not in (PACKAGE / name).read_text(encoding="utf-8"), name


# -- one config read per public operation -------------------------------------------------------


@pytest.fixture
def config_reads(sso_emulator, monkeypatch):
    """Counts how often botocore parses the AWS config file."""
    import botocore.configloader

    reads: list[str] = []
    original = botocore.configloader.raw_config_parse

    def counting(config_filename, *args, **kwargs):
        if str(config_filename) == str(sso_emulator.config_file):
            reads.append(config_filename)
        return original(config_filename, *args, **kwargs)

    monkeypatch.setattr(botocore.configloader, "raw_config_parse", counting)
    return reads


@pytest.mark.parametrize("operation", ["login", "load_token", "logout", "role_credentials"])
def test_each_public_operation_reads_the_config_once(sso_emulator, config_reads, operation):
    from boto_sso_oidc_provider.sessions import role_credentials_manager

    sso.login("dev")
    role_credentials_manager("dev").get()
    config_reads.clear()
    if operation == "login":
        sso.login("dev")
    elif operation == "load_token":
        sso.load_token("dev")
    elif operation == "logout":
        assert sso.logout("dev")
    else:
        role_credentials_manager("dev").get()
    assert len(config_reads) == 1


def test_logout_all_reads_the_config_once(sso_emulator, config_reads):
    import logging

    from boto_sso_oidc_provider.cli import main

    sso_emulator.write_config("[profile other]\nsso_session = other\n"
                              "[sso-session other]\nsso_start_url = https://other.awsapps.com/start\n"
                              "sso_region = us-east-1\n", append=True)
    sso.login("dev")
    config_reads.clear()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        assert main(["logout", "--all"]) == 0
    finally:  # the CLI sets up logging for its process; this test shares pytest's
        root.handlers[:], root.level = handlers, level
    assert len(config_reads) == 1


# -- injected clients ---------------------------------------------------------------------------


def test_the_managers_use_an_injected_client_factory(sso_emulator):
    """Go v2's SSO providers take their API client; so do ours, without patching anything."""
    import boto3
    import botocore
    from botocore.config import Config

    from boto_sso_oidc_provider.sessions import role_credentials_manager

    made: list[tuple[str, str]] = []

    def factory(service: str, region: str) -> object:
        made.append((service, region))
        return boto3.client(service, region_name=region, config=Config(signature_version=botocore.UNSIGNED))

    credentials = role_credentials_manager("dev", options=Options(client_factory=factory,
                                                                  allow_login=True)).get()
    assert credentials.access_key_id
    assert sorted(set(made)) == [("sso", "us-east-1"), ("sso-oidc", "us-east-1")]


# -- only config/ opens the AWS config and credentials files -------------------------------------

_READS_CONFIG = {"configparser", "botocore.configloader", "raw_config_parse", "load_config",
                 "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"}


def _code_names(tree: ast.Module) -> set[str]:
    """Imported modules, names, attributes and non-docstring strings of a module's code."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.add(node.value)
    return found


def test_nothing_outside_config_reads_the_aws_config_files():
    """Statically: outside config/ (the emulator apart), no module parses an AWS config file or
    names the variables that locate one; they ask config/ instead."""
    offenders = {
        str(path.relative_to(PACKAGE).as_posix()): sorted(_code_names(ast.parse(path.read_text("utf-8")))
                                                          & _READS_CONFIG)
        for path in PACKAGE.rglob("*.py")
        if not {"config", "emulator"} & set(path.relative_to(PACKAGE).parts[:1])
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert "configparser" in _code_names(ast.parse((PACKAGE / "config" / "_loader.py").read_text("utf-8")))


_AUDIT = r"""
import json, os, sys, traceback

watched = {os.path.realpath(os.environ[name]) for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
package = os.path.join("boto_sso_oidc_provider", "")
opens, outside = [], []

def hook(event, args):
    if event != "open" or not isinstance(args[0], (str, bytes)):
        return
    if os.path.realpath(os.fsdecode(args[0])) not in watched:
        return
    # the innermost frame of ours, past the foundation's file helper it may call
    ours = [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in traceback.extract_stack()[:-1]
            if package in frame.filename and not frame.filename.endswith(os.path.join(package, "_files.py"))]
    opens.append(bool(ours))
    # config/ reads the files; botocore reads them too for a session it makes clients on
    # (endpoints, ca_bundle, retries), which is botocore's read, not a reader of ours
    if ours and not any(os.path.join(package, *where) in ours[-1]
                        for where in (("config", ""), ("_clients.py",))):
        outside.append(ours[-3:])

sys.addaudithook(hook)
import contextlib, io
argv = json.loads(os.environ["ARGV"])
if argv:
    from boto_sso_oidc_provider.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
else:
    import boto3, boto_sso_oidc_provider as sso

    sso.install()
    boto3.Session(profile_name="dev").client("sts", region_name="us-east-1").get_caller_identity()
    code = 0
print(json.dumps({"code": code, "ours": sum(opens), "outside": outside}))
"""

_COMMANDS = [["login", "--profile", "dev"], ["credential-process", "--profile", "dev"],
             # botocore signs the first EKS token, the warm path the second
             ["eks-token", "--cluster-name", "c", "--profile", "dev"],
             ["eks-token", "--cluster-name", "c", "--profile", "dev"],
             ["export", "--profile", "dev", "--format", "env"], ["status"], ["status", "--profile", "dev"],
             ["list"], [], ["logout", "--profile", "dev"], ["credential-process", "--profile", "dev"]]


def test_at_run_time_only_config_opens_the_aws_config_files(sso_emulator):
    """Dynamically: across a login, the warm and the full path of credential-process, eks-token,
    export, status, list, boto3 with the providers installed and logout, every open of the config or
    credentials file made under this package is made from config/, or by botocore for a session
    it makes clients on (botocore's own reads, for the sessions of programs, have no frame of
    ours)."""
    from .conftest import run_python, subprocess_env

    credentials = sso_emulator.home / ".aws" / "credentials"
    credentials.write_text("[other]\naws_access_key_id = x\n")
    seen = 0
    for argv in _COMMANDS:
        env = subprocess_env(sso_emulator, AWS_SHARED_CREDENTIALS_FILE=str(credentials),
                             BOTO_SSO_OIDC_AUTO_LOGIN="true", ARGV=json.dumps(argv))
        result = json.loads(run_python(_AUDIT, env, timeout=120).stdout.splitlines()[-1])
        assert result["code"] == 0, (argv, result)
        assert result["outside"] == [], (argv, result["outside"][0])
        seen += result["ours"]
    assert seen >= len(_COMMANDS)  # the hook saw the package's own reads


# -- the public API: every name the README and the docs show imports as documented --------------

_DOCUMENTED = re.compile(r"from (boto_sso_oidc_provider[\w.]*) import ([\w, ]+)"
                         r"|\b(boto_sso_oidc_provider(?:\.\w+)+)(?::(\w+))?")
# The import paths that rounds 1-3 documented, kept by round 4's move into folders.
_KEPT = {"boto_sso_oidc_provider.sessions": ["login", "load_token", "logout", "role_credentials_manager",
                                             "token_manager"],
         "boto_sso_oidc_provider.aio": ["AioSSOOIDCCredentialProvider", "AioSSOOIDCTokenProvider"],
         "boto_sso_oidc_provider.sdk_v4": ["SSOOIDCChainProvider", "SSOOIDCIdentityResolver"],
         "boto_sso_oidc_provider.exceptions": ["SSOProviderError", "SSOConfigError"],
         "boto_sso_oidc_provider.options": ["Options"],
         "boto_sso_oidc_provider.emulator": ["run_emulator", "emulator_environment", "sso_config"],
         "boto_sso_oidc_provider.emulator.pytest_plugin": [],
         "boto_sso_oidc_provider.cli": ["main"]}


def _documented_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for page in [PACKAGE.parent / "README.md", *sorted((PACKAGE.parent / "docs").glob("*.md"))]:
        for match in _DOCUMENTED.finditer(page.read_text(encoding="utf-8")):
            if match.group(1):
                found.setdefault(match.group(1), set()).update(
                    name.strip() for name in match.group(2).split(",") if name.strip())
            else:
                dotted, attribute = match.group(3), match.group(4)
                module, _, last = dotted.rpartition(".")
                # "boto_sso_oidc_provider.login" is a function of the package, not a module
                if dotted.count(".") == 1 and last in sso.__all__:
                    found.setdefault(module, set()).add(last)
                else:
                    found.setdefault(dotted, set()).update([attribute] if attribute else [])
    return found


def test_every_public_name_imports_as_documented():
    """The README's and the docs' ``boto_sso_oidc_provider...`` names, the import paths rounds 1-3
    documented, the entry point and every name of the package root import as they say."""
    import importlib

    import tomllib

    wanted = _documented_imports()
    assert "boto_sso_oidc_provider.aio" in wanted and "boto_sso_oidc_provider" in wanted  # the scan works
    for module, names in _KEPT.items():
        wanted.setdefault(module, set()).update(names)
    wanted.setdefault("boto_sso_oidc_provider", set()).update(sso.__all__)
    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text("utf-8"))["project"]
    entry_points = {**project["entry-points"], "scripts": project["scripts"]}
    for group in entry_points.values():
        for target in group.values():
            module, _, name = target.partition(":")
            wanted.setdefault(module, set()).update([name] if name else [])
    missing = []
    for module, names in sorted(wanted.items()):
        imported = importlib.import_module(module)
        missing += [f"{module}.{name}" for name in sorted(names) if not hasattr(imported, name)]
    assert missing == []
