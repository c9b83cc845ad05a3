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
import weakref
from dataclasses import dataclass

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


@dataclass
class _DirectRead:
    """A statement compiled once, to run on the driver's cursor: its SQL, its column labels, and
    each column's result processor (known from the first execution's column types). It reads what
    SQLAlchemy's own execution reads from a compilation (`_result_columns`, `_bind_processors`),
    and tests/api/test_read_path.py compares what it answers with what the ORM answers."""

    compiled: sa.sql.compiler.SQLCompiler
    labels: tuple[str, ...]
    processors: tuple | None = None

    def rows(self, dbapi_connection, params: dict | None) -> list[dict]:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.compiled.string, self.compiled.construct_params(params))
            if self.processors is None:
                dialect = self.compiled.dialect
                self.processors = tuple(
                    column.type._cached_result_processor(dialect, description.type_code)
                    for column, description in zip(self.compiled._result_columns, cursor.description, strict=True)
                )
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        labels, processors = self.labels, self.processors
        if any(processors):
            return [
                {
                    label: process(value) if process else value
                    for label, process, value in zip(labels, processors, row, strict=True)
                }
                for row in fetched
            ]
        return [dict(zip(labels, row, strict=True)) for row in fetched]


# engine -> statement -> its direct read (None: SQLAlchemy runs it). Reads pass statements built
# once (module constants), so this holds one entry per statement.
_direct_reads: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _direct_read(engine: sa.Engine, statement) -> _DirectRead | None:
    """The statement compiled for the driver, or None where SQLAlchemy must run it: not PostgreSQL,
    parameters rendered at execution (expanding IN), or values that need converting before sending."""
    known = _direct_reads.setdefault(engine, {})
    if statement in known:
        return known[statement]
    direct = None
    if engine.dialect.name == "postgresql":
        compiled = statement.compile(dialect=engine.dialect)
        if not compiled._bind_processors and "POSTCOMPILE" not in compiled.string:
            direct = _DirectRead(compiled, tuple(column.keyname for column in compiled._result_columns))
    known[statement] = direct
    return direct


def read_rows(statement, params: dict | None = None) -> list[dict]:
    """The rows of a SELECT as dicts (column label → value), run in autocommit (no BEGIN/ROLLBACK
    round trips) on a connection that goes back to the pool at once. A connection found dead
    mid-statement (a terminated backend the checkout could not see yet) is discarded and the
    statement runs once more on a fresh one.

    `statement` is built once (reads keep theirs in module constants): on PostgreSQL it is compiled
    once and runs on the driver's cursor, without SQLAlchemy's per-execution machinery."""
    engine = db.engine
    direct = _direct_read(engine, statement)
    for attempt in (1, 2):
        try:
            if direct is None:
                return _read_rows_through_sqlalchemy(engine, statement, params)
            return _read_rows_directly(engine, direct, params)
        except sa.exc.DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def _read_rows_through_sqlalchemy(engine: sa.Engine, statement, params: dict | None) -> list[dict]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        result = connection.execute(statement, params)
        labels = tuple(result.keys())
        return [dict(zip(labels, row, strict=True)) for row in result.fetchall()]


def _read_rows_directly(engine: sa.Engine, direct: _DirectRead, params: dict | None) -> list[dict]:
    """On a pooled connection switched to autocommit for the read, and back before it is returned.
    Driver errors leave as SQLAlchemy's (DBAPIError), the connection invalidated when it is dead."""
    pooled = engine.raw_connection()
    dbapi_connection = pooled.driver_connection
    try:
        dbapi_connection.autocommit = True
        try:
            return direct.rows(dbapi_connection, params)
        finally:
            dbapi_connection.autocommit = False
    except engine.dialect.loaded_dbapi.Error as exc:
        dead = engine.dialect.is_disconnect(exc, dbapi_connection, None)
        if dead:
            pooled.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            direct.compiled.string, params, exc, engine.dialect.loaded_dbapi.Error, connection_invalidated=dead
        ) from exc
    finally:
        pooled.close()
