"""The benchmark environment: a dedicated PostgreSQL database, a Redis namespace, and the real processes
(gunicorn, `python worker.py`, a webhook receiver) started against them."""

import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/va_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"

# The production web server: 2 processes (one per core) of 256 threads. Each live-transcript
# WebSocket holds one thread for its lifetime, so threads bound the sockets a process can serve
# (plus HTTP requests); idle pool threads cost nothing (the pool grows on demand).
GUNICORN_PRODUCTION_ARGS = ("--workers", "2", "--worker-class", "gthread", "--threads", "256")

INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")  # nothing else leaks into the processes


@dataclass
class BenchEnv:
    database_url: str
    redis_url: str
    workdir: Path
    namespace: str = field(default_factory=lambda: f"va-bench-{uuid.uuid4().hex[:8]}")  # Redis keys of this run

    def settings(self, **overrides: str) -> dict[str, str]:
        """The app configuration every bench process runs with (production-like, loopback webhooks)."""
        return {
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "REDIS_NAMESPACE": self.namespace,
            "RATE_LIMIT": "10000000 per minute",  # the limiter still runs (Redis round trips), it never trips
            "TELEPHONY_PROVIDER": "simulated",
            "WEBHOOK_ALLOW_LOOPBACK": "1",
            "INSTANCE_PATH": str(self.workdir / "instance"),
            "RECORDINGS_DIR": str(self.workdir / "recordings"),
            **overrides,
        }

    def environ(self, **overrides: str) -> dict[str, str]:
        inherited = {key: os.environ[key] for key in INHERITED if key in os.environ}
        return {**inherited, **self.settings(**overrides), "PYTHONPATH": str(ROOT)}

    @contextmanager
    def app_context(self, **overrides: str):
        """An app of our own (for seeding and services) configured like the bench processes."""
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.environ(**overrides))
        try:
            from webapp import create_app

            app = create_app()
            with app.app_context():
                yield app
                from webapp.extensions import db

                db.session.remove()
                db.engine.dispose()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def reset(self) -> None:
        """A fresh database migrated to head (`flask db upgrade`) and an empty Redis db."""
        name = self.database_url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.clear_redis()
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=self.environ(),
            check=True,
            capture_output=True,
        )

    def drop(self) -> None:
        name = self.database_url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.clear_redis()

    def clear_redis(self) -> None:
        """Delete this run's keys (queues, registries, limits, ticks) and the jobs they still list;
        other users of the Redis db keep theirs."""
        connection = redis.Redis.from_url(self.redis_url)
        for key in connection.scan_iter(match=f"*{self.namespace}*", count=1000):
            kind = connection.type(key)
            job_ids = connection.lrange(key, 0, -1) if kind == b"list" else []
            job_ids += connection.zrange(key, 0, -1) if kind == b"zset" else []
            for job_id in job_ids:
                connection.delete(b"rq:job:" + job_id, b"rq:results:" + job_id)
            connection.delete(key)

    def admin_url(self) -> str:
        return self.database_url.rsplit("/", 1)[0] + "/postgres"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class Process:
    """A bench subprocess with its output in workdir/<name>.log; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], env: dict, workdir: Path):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        """SIGTERM to the whole process group (`worker.py --processes N` leaves its children running
        when only the parent is signalled), then SIGKILL to what is left after 15 s."""
        self._signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 15
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        self._signal_group(signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait(timeout=10)
        self._log.close()

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.popen.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def gunicorn(env: BenchEnv, app_spec: str, name: str, settings: dict | None = None) -> tuple[Process, str]:
    """`gunicorn <production args> app_spec` on a free port; returns the process and its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", *GUNICORN_PRODUCTION_ARGS, "--bind", f"127.0.0.1:{port}", app_spec]
    process = Process(name, argv, env.environ(**(settings or {})), env.workdir)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base_url + "/")
    except TimeoutError:
        process.stop()
        raise RuntimeError(f"gunicorn did not start; see {process.log_path}") from None
    return process, base_url


def worker(env: BenchEnv, processes: int, settings: dict | None = None) -> Process:
    argv = [sys.executable, "worker.py", "--processes", str(processes)]
    return Process(f"worker-{processes}p", argv, env.environ(**(settings or {})), env.workdir)


def machine(env: BenchEnv) -> dict:
    """The machine the numbers were taken on."""
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    memory = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
    with psycopg.connect(env.admin_url()) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(env.redis_url).info("server")["redis_version"]
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu.group(1).strip() if cpu else platform.processor(),
        "memory_gib": round(int(memory.group(1)) / 1024 / 1024, 1) if memory else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "redis": redis_version,
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip(),
        "gunicorn_args": " ".join(GUNICORN_PRODUCTION_ARGS),
    }
