"""The connection pool: sized from the web server's threads, and no round trip to check a
connection before each use, yet dead connections are never handed out.

- Pool: DATABASE_POOL_SIZE connections stay open per process (default: WEB_THREADS, at most 32);
  more threads at once open extra ones (up to twice that, and at most WEB_THREADS, in all), closed
  when returned; past that a thread waits for a connection.
- At checkout (PostgreSQL): a connection whose socket has something to read while idle is one the
  server has closed (pg_terminate_backend, a restart: the server says so before closing). That
  costs a poll of the socket, not a round trip; such a connection, and one idle for longer than
  DATABASE_PING_IDLE_SECONDS, is pinged, and replaced if the ping fails.
- A silent network drop (no FIN, no RST): TCP keepalives find an idle dead connection within
  about a minute, and tcp_user_timeout fails a statement whose bytes are not acknowledged for 30 s.
- Reads that fail on a connection that turns out dead are retried once on a fresh one (api.reads).
"""

import select
import time

import sqlalchemy as sa

from .extensions import db

MAX_DEFAULT_POOL = 32
KEEPALIVE_ARGS = {
    "keepalives": 1,
    "keepalives_idle": 30,  # seconds idle before the first probe
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # ms a sent statement may stay unacknowledged
}


def engine_options(url: str, *, web_threads: int, pool_size: int | None) -> dict:
    if url in ("sqlite://", "sqlite:///:memory:"):
        return {}  # one connection per thread: no pool to size
    size = pool_size or min(web_threads, MAX_DEFAULT_POOL)
    overflow = max(0, min(web_threads, 2 * size) - size)
    options = {"pool_pre_ping": False, "pool_size": size, "max_overflow": overflow}
    if url.startswith("postgresql"):
        options["connect_args"] = dict(KEEPALIVE_ARGS)
    return options


def _has_unread_input(dbapi_connection) -> bool:
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def watch_pool(engine: sa.Engine, ping_idle_seconds: float) -> None:
    """Install the checkout check on `engine`'s pool (PostgreSQL; SQLite has no server to lose)."""
    if engine.dialect.name != "postgresql":
        return

    @sa.event.listens_for(engine, "connect")
    @sa.event.listens_for(engine, "checkin")
    def _note_idle_since(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _check_alive(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        long_idle = idle_since is None or time.monotonic() - idle_since > ping_idle_seconds
        if not long_idle and not _has_unread_input(dbapi_connection):
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:
            raise sa.exc.DisconnectionError(f"connection found dead at checkout: {exc}") from exc


def read_rows(statement, params: dict | None = None) -> list[dict]:
    """The rows of a SELECT as dicts (column label → value), run in autocommit (no BEGIN/ROLLBACK
    round trips) on a connection that goes back to the pool at once. A connection found dead
    mid-statement (a terminated backend the checkout could not see yet) is discarded and the
    statement runs once more on a fresh one."""
    for attempt in (1, 2):
        try:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                result = connection.execute(statement, params)
                labels = tuple(result.keys())
                return [dict(zip(labels, row, strict=True)) for row in result.fetchall()]
        except sa.exc.DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")
