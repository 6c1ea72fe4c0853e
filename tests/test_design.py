"""The package's design holds: an acyclic import graph layered in the order of the flow, each
cache-layout fact defined once, one config read per public operation, injectable clients."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import boto_sso_oidc_provider as sso
from boto_sso_oidc_provider.options import Options

PACKAGE = Path(sso.__file__).resolve().parent

# The flow, bottom to top: a module may import only modules of its own layer or below.
LAYERS: list[set[str]] = [
    {"_layout", "_settings", "_clock", "exceptions", "_redaction", "_files", "_interrupts", "_sigv4",
     "_kubeconfig"},
    {"_session_end"},
    {"_warm", "_clients", "_listing", "logins", "logins._start_url"},
    {"config"},
    {"options", "_interaction", "cache", "logins._loopback_callback", "config_writer", "generate", "console"},
    {"_eks_token"},
    {"logins.registration"},
    {"logins.device_authorization", "logins.authorization_code", "logins._flows"},
    {"token"},
    {"role_credentials", "directory"},
    {"chained"},
    {"servers", "servers._http", "servers._source", "servers.container", "servers.imds"},
    {"sessions"},
    {"provider", "aio", "sdk_v4"},
    {"installation"},
    {"demo", "cli", "__main__"},
]


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
    """module -> the package modules it imports (function-level imports included)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
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


# -- each fact of the cache layout in one place --------------------------------------------------

_LAYOUT_FACTS = {
    "the 15-minute window": r"15\s*\*\s*60|900\b|minutes\s*=\s*15",
    "the lock timeout": r"\b600\.0\b",
    "the token and registration directory": r"[\"']sso[\"'],\s*[\"']cache[\"']|sso/cache[\"']",
    "the role-credential directory": r"[\"']cli[\"'],\s*[\"']cache[\"']|cli/cache[\"']",
    "the registration key": r"[\"']tool[\"']:\s*[\"']botocore[\"']",
    "the role key": r"[\"']roleName[\"']:\s*role_name",
    "the assume-role key": r"[\"']RoleArn[\"']:\s*role_arn",
}


@pytest.mark.parametrize("fact", sorted(_LAYOUT_FACTS))
def test_each_cache_layout_fact_is_defined_once_in_layout(fact):
    pattern = re.compile(_LAYOUT_FACTS[fact])
    where = [
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
        if "emulator" not in path.parts and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert where == ["_layout.py"]


def test_managers_and_providers_need_no_type_ignore():
    for name in ("token.py", "role_credentials.py", "sessions.py", "provider.py", "installation.py",
                 "options.py", "config.py", "_clients.py"):
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
