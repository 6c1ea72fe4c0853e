"""Shell completion: commands, options, choices and profile names, in bash, zsh and fish."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .cli_helpers import CLI, console_script
from .conftest import REPO

CONFIG = """\
[default]
region = eu-west-1
[profile dev]
sso_session = corp
[profile "prod admin"]
region = x
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
"""


@pytest.fixture
def shell_env(tmp_path):
    script = console_script()
    if script is None:
        pytest.skip("the boto-sso-oidc console script is not installed (pip install -e .)")
    config = tmp_path / "config"
    config.write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(config), HOME=str(tmp_path),
               PATH=f"{script.parent}{os.pathsep}{env.get('PATH', '')}")
    return env


def script(shell: str, tmp_path) -> str:
    result = subprocess.run([*CLI, "completion", shell], capture_output=True, text=True, cwd=REPO,
                            stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 0, result.stderr
    path = tmp_path / f"completion.{shell}"
    path.write_text(result.stdout)
    return str(path)


def need(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        pytest.skip(f"{shell} is not installed (.ci/run installs it)")
    return found


CASES = [
    (["boto-sso-oidc", "gen"], {"generate"}),
    (["boto-sso-oidc", "--debug", "con"], {"configure", "console"}),
    (["boto-sso-oidc", "login", "--no"], {"--no-browser"}),
    (["boto-sso-oidc", "export", "--format", "env"], {"env", "env-no-export"}),
    (["boto-sso-oidc", "generate", "--sso-session", ""], {"corp"}),
    (["boto-sso-oidc", "console", "--profile", "d"], {"dev", "default"}),
    (["boto-sso-oidc", "completion", "f"], {"fish"}),
]


def test_bash(shell_env, tmp_path):
    bash = need("bash")
    path = script("bash", tmp_path)
    for words, expected in CASES:
        array = " ".join(f"'{word}'" for word in words)
        code = (f"source {path}; COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; "
                '_boto_sso_oidc; printf "%s\\n" "${COMPREPLY[@]}"')
        result = subprocess.run([bash, "-c", code], env=shell_env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        assert set(result.stdout.split()) == expected, (words, result.stdout)


def test_zsh(shell_env, tmp_path):
    zsh = need("zsh")
    path = script("zsh", tmp_path)
    for words, expected in CASES:
        array = " ".join(f"'{word}'" for word in words)
        # bashcompinit runs the function in sh emulation, as here.
        code = (f"source {path} && print -r -- ${{_comps[boto-sso-oidc]}} && emulate sh -c "
                f"\"COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; _boto_sso_oidc; "
                "printf '%s\\n' \\\"\\${COMPREPLY[@]}\\\"\"")
        result = subprocess.run([zsh, "-f", "-c", code], env=shell_env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        first, *rest = result.stdout.split("\n")
        assert first == "_bash_complete -o default -F _boto_sso_oidc"
        # zsh's compgen (bashcompinit) offers everything and compadd keeps what matches the word.
        offered = {word for word in "\n".join(rest).split() if word.startswith(words[-1])}
        assert offered == expected, (words, result.stdout)


def test_fish(shell_env, tmp_path):
    fish = need("fish")
    path = script("fish", tmp_path)
    for words, expected in CASES:
        line = " ".join(words)
        result = subprocess.run([fish, "--no-config", "-c", f"source {path}; complete -C '{line}'"],
                                env=shell_env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        offered = {entry.split("\t")[0] for entry in result.stdout.splitlines()}
        assert offered == expected, (words, result.stdout)


def test_completion_stays_off_the_warm_path():
    """credential-process never imports the completion module (nor argparse, on its fast path)."""
    code = ("import sys\nfrom boto_sso_oidc_provider.cli import main\n"
            "main(['credential-process', '--profile', 'nobody'])\n"
            "print('_completion' in ' '.join(sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "AWS_CONFIG_FILE": "/nonexistent"}, timeout=60,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    assert result.stdout.strip() == "False", result.stderr
