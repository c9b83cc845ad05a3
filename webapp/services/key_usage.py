"""`last_used_at` of API keys, written in batches instead of one commit per request.

Authentication notes a use here (in memory, per process); `flush` writes every noted key in one
statement on a connection of its own, so it never commits the request's session. It runs after a
request when the batch is due: every FLUSH_SECONDS, or at once for a key's first use (so a new key
shows "used" right away). A key's time is noted at most once per RESOLUTION.
"""

import threading
import time
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import ApiKey, utcnow

RESOLUTION = timedelta(minutes=1)
FLUSH_SECONDS = 10.0

_pending: dict[str, object] = {}  # key id -> when last used
_lock = threading.Lock()
_state = {"last_flush": 0.0, "urgent": False}


def note_use(api_key) -> None:
    """`api_key`: anything with key_id and a writable last_used_at (key_cache.CachedKey)."""
    now = utcnow()
    last_used_at = api_key.last_used_at
    if last_used_at is not None and now - last_used_at < RESOLUTION:
        return
    api_key.last_used_at = now
    with _lock:
        _pending[api_key.key_id] = now
        if last_used_at is None:
            _state["urgent"] = True


def flush(*, force: bool = False) -> int:
    """Write the noted uses if a batch is due (or `force`); returns how many keys were written."""
    with _lock:
        due = _state["urgent"] or time.monotonic() - _state["last_flush"] >= FLUSH_SECONDS
        if not _pending or not (due or force):
            return 0
        batch = dict(_pending)
        _pending.clear()
        _state["urgent"] = False
        _state["last_flush"] = time.monotonic()
    table = ApiKey.__table__
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("key_id"))
        .where(sa.or_(table.c.last_used_at.is_(None), table.c.last_used_at < sa.bindparam("used_at")))
        .values(last_used_at=sa.bindparam("used_at"))
    )
    try:
        with db.engine.begin() as connection:
            connection.execute(statement, [{"key_id": k, "used_at": v} for k, v in batch.items()])
    except sa.exc.SQLAlchemyError:
        with _lock:  # try again with the next batch; a newer use noted meanwhile wins
            for key_id, used_at in batch.items():
                _pending.setdefault(key_id, used_at)
        return 0
    return len(batch)
