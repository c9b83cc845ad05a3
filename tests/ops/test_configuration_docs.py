"""docs/configuration.md names exactly the environment variables the code reads, and a bad value
stops each process at start-up with a message naming the variable."""

import ast
import os
import re
import subprocess
import sys

import pytest

from tests.support import ROOT, scaled

DOC = ROOT / "docs" / "configuration.md"
SHELL_SCRIPTS = [ROOT / "run.sh", *sorted((ROOT / "scripts").glob("*.sh"))]
PYTHON_SOURCES = [ROOT / "worker.py", ROOT / "media.py", ROOT / "wsgi.py", *sorted((ROOT / "webapp").rglob("*.py"))]
SHELL_BUILTINS = {"EPOCHREALTIME", "BASH_SOURCE", "PWD", "HOME", "PATH"}


def documented() -> set[str]:
    text = DOC.read_text()
    table = text.split("## Every variable", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", table, flags=re.MULTILINE))


def read_by_shell() -> set[str]:
    names = set()
    for script in SHELL_SCRIPTS:
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", script.read_text()))
    return names - SHELL_BUILTINS


def read_by_python() -> set[str]:
    """os.environ.get("X"), os.environ["X"], os.getenv("X") anywhere in the application."""
    names = set()
    for source in PYTHON_SOURCES:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv"):
                argument = node.args[0] if node.args else None
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                argument = node.slice
            else:
                continue
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names.add(argument.value)
    return names


def test_the_configuration_table_lists_every_variable_the_code_reads():
    from webapp.config import Settings

    read = set(Settings.model_fields) | read_by_shell() | read_by_python()
    table = documented()
    assert read - table == set(), f"read by the code but not in docs/configuration.md: {sorted(read - table)}"
    assert table - read == set(), f"in docs/configuration.md but read nowhere: {sorted(table - read)}"
    assert {"PORT", "HOST", "WORKERS"} <= table


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"SIMULATOR_TIME_SCALE": "fast"}, "SIMULATOR_TIME_SCALE"),
        ({"WEBHOOK_RETRY_DELAYS": "10,soon"}, "WEBHOOK_RETRY_DELAYS"),
        ({"RATE_LIMIT": "plenty"}, "RATE_LIMIT"),
        ({"WEBHOOK_ALLOW_LOOPBACK": "perhaps"}, "WEBHOOK_ALLOW_LOOPBACK"),
        ({"TELEPHONY_PROVIDER": "carrier-pigeon"}, "TELEPHONY_PROVIDER"),
        ({"MEDIA_PUBLIC_URL": "https://calls.example.com/media/twilio"}, "MEDIA_PUBLIC_URL"),
        ({"APP_ENV": "production", "SECRET_KEY": "", "DATABASE_URL": "", "REDIS_URL": ""}, "DATABASE_URL, REDIS_URL"),
        ({"APP_ENV": "production", "SECRET_KEY": "s", "DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r",
          "TELEPHONY_PROVIDER": "elevenlabs", "ELEVENLABS_API_KEY": ""}, "ELEVENLABS_API_KEY"),
    ],
)  # fmt: skip
def test_a_bad_value_stops_start_up_and_names_the_variable(variables, named, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in variables}
    env.update(variables, INSTANCE_PATH=str(tmp_path))
    commands = [[sys.executable, "worker.py"], [sys.executable, "media.py", "--port", "0"]]
    if variables.get("APP_ENV") == "production":  # the web side (wsgi.py, flask commands) checks the same way
        commands.append([sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"])
    for command in commands:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=scaled(120))
        assert result.returncode != 0
        assert "Invalid configuration" in result.stderr and named in result.stderr, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
