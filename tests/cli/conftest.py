"""Fixtures for the command-line tests: `flask --app wsgi ...` as a subprocess, and empty databases."""

import os
import subprocess
import sys

import pytest

from tests.support import ROOT, create_pg_database, drop_pg_database, scaled


@pytest.fixture
def fresh_database_url(backend, tmp_path):
    """An empty database of the backend's kind: a new SQLite file, or a new PostgreSQL database."""
    if backend["kind"] == "embedded":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name, url = create_pg_database()
    yield url
    drop_pg_database(name)


@pytest.fixture
def flask_cli(backend):
    """Runs `flask --app wsgi ...` as a subprocess against a database; returns the finished process."""

    def run(*args: str, database_url: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "DATABASE_URL": database_url or backend["database_url"]}
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=scaled(120))  # fmt: skip
        if check:
            assert result.returncode == 0, result.stderr[-2000:]
        return result

    return run
