"""Per-process cache of API keys (key hash → organization and key id), so an authenticated request
costs no database round trip, with revocation as instant as without it.

- Any change to an api_keys row (revoke, regenerate, delete) publishes, once its transaction
  commits, an invalidation naming the key's hashes, and increments a counter in Redis (one Lua
  script: both or neither). Every web process's event subscriber (events.Fanout) drops the entries.
- The API's rate-limit script returns that counter with every request (no extra round trip). A
  process whose subscriber has not yet applied the counter's value does not trust its cache for that
  request: a key revoked before a request started is refused by every process, even one whose
  subscriber is a message behind.
- No subscription (Redis down, reconnecting): the cache is not used, and it is emptied whenever the
  subscription starts again. An entry also expires after API_KEY_CACHE_SECONDS, a bound for the one
  case left (an invalidation that could not be published because Redis failed at that moment).
"""

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import redis
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from . import events

log = logging.getLogger(__name__)

GENERATION_KEY = "api-keys:generation"  # namespaced; incremented with every published invalidation
MAX_ENTRIES = 10_000

# KEYS: the counter, the channel; ARGV: the hashes as a JSON list.
PUBLISH_SCRIPT = """
local generation = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], '{"generation":' .. generation .. ',"api_key_hashes":' .. ARGV[1] .. '}')
return generation
"""


@dataclass
class CachedKey:
    key_id: str
    organization_id: str
    last_used_at: datetime | None  # as last written or noted (key_usage updates it)
    expires_at: float  # time.monotonic()


class KeyCache:
    def __init__(self, ttl_seconds: float, generation_key: str):
        self.ttl_seconds = ttl_seconds
        self.generation_key = generation_key  # the counter's Redis key
        self.listening = False
        self._entries: dict[str, CachedKey] = {}
        self._lock = threading.Lock()
        self._applied: int | None = None  # the counter's value up to which invalidations are applied
        self._changes = 0  # local: bumped by every invalidation applied, to refuse stale insertions

    # --- requests

    def lookup(self, key_hash: str, observed: int | None) -> CachedKey | None:
        """The cached key, if the cache may be trusted by a request that saw the counter at `observed`."""
        applied = self._applied
        if applied is None or observed is None or observed > applied:
            return None
        entry = self._entries.get(key_hash)
        if entry is None or entry.expires_at < time.monotonic():
            return None
        return entry

    def changes(self) -> int:
        """Read before looking a key up in the database; pass to `remember`."""
        return self._changes

    def remember(self, key_hash: str, key_id: str, organization_id: str, last_used_at, changes: int) -> CachedKey:
        entry = CachedKey(key_id, organization_id, last_used_at, time.monotonic() + self.ttl_seconds)
        with self._lock:
            # An invalidation applied since the database read may concern this very key.
            if self._applied is not None and changes == self._changes and self.ttl_seconds > 0:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key_hash] = entry
        return entry

    # --- the subscriber (events.Fanout calls these from its thread)

    def subscribed(self, connection: redis.Redis) -> None:
        """(Re)subscribed: whatever was published meanwhile is unknown, so start empty."""
        generation = int(connection.get(self.generation_key) or 0)
        with self._lock:
            self._entries.clear()
            self._changes += 1
            self._applied = generation

    def invalidated(self, message: dict) -> None:
        with self._lock:
            for key_hash in message["api_key_hashes"]:
                self._entries.pop(key_hash, None)
            self._changes += 1
            if self._applied is not None:
                self._applied = max(self._applied, int(message["generation"]))

    def lost(self) -> None:
        with self._lock:
            self._entries.clear()
            self._changes += 1
            self._applied = None

    def drop_here(self, key_hashes: list[str]) -> None:
        """This process changed the keys: forget them now, before any message comes back."""
        with self._lock:
            for key_hash in key_hashes:
                self._entries.pop(key_hash, None)
            self._changes += 1


def cache() -> KeyCache:
    return current_app.extensions["api_key_cache"]


def init_app(app: Flask) -> None:
    namespace = app.config["REDIS_NAMESPACE"]
    app.extensions["api_key_cache"] = KeyCache(app.config["API_KEY_CACHE_SECONDS"], f"{namespace}:{GENERATION_KEY}")
    app.extensions["api_key_publisher"] = app.extensions["redis"].register_script(PUBLISH_SCRIPT)


def start_listening() -> None:
    """Subscribe this process (once) to the invalidations; the cache is used once that is done."""
    app_cache = cache()
    if app_cache.listening:
        return
    app_cache.listening = True
    fanout = events.fanout_for(current_app.config["REDIS_URL"], current_app.config["REDIS_NAMESPACE"])
    fanout.add_invalidation_listener(app_cache)


def _publish(app_cache: KeyCache, publisher, namespace: str, key_hashes: list[str]) -> None:
    app_cache.drop_here(key_hashes)
    keys = [f"{namespace}:{GENERATION_KEY}", events.invalidation_channel(namespace)]
    try:
        publisher(keys=keys, args=[json.dumps(key_hashes)])
    except redis.RedisError as exc:
        log.error(
            "could not publish the invalidation of %d API key(s) (%s): other processes may accept them "
            "for up to API_KEY_CACHE_SECONDS, unless their Redis subscription drops too",
            len(key_hashes),
            exc,
        )


@sa.event.listens_for(Session, "after_flush")
def _invalidate_changed_keys(session: Session, _flush_context) -> None:
    """Every change to an API key row made through the ORM invalidates it everywhere after commit
    (a bulk UPDATE/DELETE of api_keys must call invalidate_after_commit itself)."""
    from .models import ApiKey

    changed = [row for row in (*session.dirty, *session.deleted) if isinstance(row, ApiKey)]
    if not changed or not has_app_context() or "api_key_cache" not in current_app.extensions:
        return
    hashes = set()
    for row in changed:
        history = sa.inspect(row).attrs.key_hash.history
        hashes.update(value for value in (*history.deleted, *history.unchanged, *history.added) if value)
    invalidate_after_commit(sorted(hashes))


def invalidate_after_commit(key_hashes: list[str]) -> None:
    from .outbox import after_commit

    extensions = current_app.extensions
    after_commit(
        _publish,
        extensions["api_key_cache"],
        extensions["api_key_publisher"],
        current_app.config["REDIS_NAMESPACE"],
        key_hashes,
    )
