"""Live call events: published to Redis by whoever changes a call; one subscriber thread per web
process fans them out to the sockets watching that call."""

import json
import logging
import queue
import threading
import time
from datetime import UTC, datetime

import redis

log = logging.getLogger(__name__)


def message(type_: str, data: dict) -> dict:
    """The WebSocket message shape: {type, data, timestamp}."""
    return {"type": type_, "data": data, "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z")}


def channel(namespace: str) -> str:
    return f"{namespace}:call-events"


def invalidation_channel(namespace: str) -> str:
    """Cached state to drop in every process (key_cache publishes here)."""
    return f"{namespace}:invalidations"


def publish(connection: redis.Redis, namespace: str, call_id: str, payload: dict) -> None:
    """Best effort: a live view missing an update is repaired by the next one, a failed call is not."""
    try:
        connection.publish(
            channel(namespace), json.dumps({"call_id": call_id, "message": payload, "sent": time.time()})
        )
    except redis.RedisError as exc:
        log.warning("could not publish event for call %s: %s", call_id, exc)


def publish_many(connection: redis.Redis, namespace: str, events: list[tuple[str, dict]]) -> None:
    """publish() for several (call id, payload) in one round trip, in order."""
    if not events:
        return
    pipe = connection.pipeline(transaction=False)
    sent = time.time()
    for call_id, payload in events:
        pipe.publish(channel(namespace), json.dumps({"call_id": call_id, "message": payload, "sent": sent}))
    try:
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not publish %d call events: %s", len(events), exc)


INBOX_LIMIT = 1000  # messages a watcher may fall behind before it is dropped


class Inbox(queue.Queue):
    """One watcher's messages, bounded: a reader that falls INBOX_LIMIT messages behind is dropped
    (no longer fed, `overflowed` set) instead of buffering without end; its socket then closes."""

    def __init__(self, limit: int = INBOX_LIMIT):
        super().__init__(maxsize=limit)
        self.overflowed = threading.Event()


class Fanout:
    """Per-process registry of socket queues by call id, fed by one Redis subscriber thread. The same
    thread hands invalidations to the caches listening for them (key_cache.KeyCache): `subscribed`
    when a subscription starts (again), `invalidated` per message, `lost` when it drops."""

    def __init__(self, redis_url: str, namespace: str):
        self.redis_url = redis_url
        self.channel = channel(namespace)
        self.invalidations = invalidation_channel(namespace)
        self._invalidation_listeners: list = []
        self._watchers: dict[str, set[queue.Queue]] = {}
        self._all_watchers: set[queue.Queue] = set()  # (call_id, message) of every call
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def watch(self, call_id: str) -> Inbox:
        self._ensure_listener()
        inbox = Inbox()
        with self._lock:
            self._watchers.setdefault(call_id, set()).add(inbox)
        return inbox

    def unwatch(self, call_id: str, inbox: queue.Queue) -> None:
        with self._lock:
            watchers = self._watchers.get(call_id)
            if watchers is not None:
                watchers.discard(inbox)
                if not watchers:
                    del self._watchers[call_id]

    def watch_all(self) -> queue.Queue:
        """Every call's events, as (call_id, message): the dashboard's activity socket filters them."""
        self._ensure_listener()
        inbox: queue.Queue = queue.Queue(maxsize=1000)
        with self._lock:
            self._all_watchers.add(inbox)
        return inbox

    def unwatch_all(self, inbox: queue.Queue) -> None:
        with self._lock:
            self._all_watchers.discard(inbox)

    def add_invalidation_listener(self, listener) -> None:
        """Start feeding `listener` invalidations; it learns it is `subscribed` from the thread."""
        with self._lock:
            self._invalidation_listeners.append(listener)
        self._ensure_listener(wait=False)

    def _ensure_listener(self, wait: bool = True) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._ready.clear()
                self._thread = threading.Thread(target=self._listen_forever, name="call-events", daemon=True)
                self._thread.start()
        if wait:
            self._ready.wait(timeout=5)

    def _listen_forever(self) -> None:
        subscribed = False
        while True:
            try:
                connection = redis.Redis.from_url(self.redis_url)
                pubsub = connection.pubsub()
                pubsub.subscribe(self.channel, self.invalidations)
                subscribed = True
                self._ready.set()
                for raw in pubsub.listen():
                    self._receive(connection, raw)
            except redis.RedisError as exc:
                self._tell_listeners("lost")
                if _exiting.is_set():
                    return  # an embedded Redis stopping with the process: nothing to report
                # Said once per outage, not at every attempt to reconnect.
                log.log(
                    logging.WARNING if subscribed else logging.DEBUG,
                    "event subscriber lost Redis (%s); reconnecting",
                    exc,
                )
                subscribed = False
                time.sleep(1)
            except Exception:
                log.exception("event subscriber failed; starting again")
                self._tell_listeners("lost")
                time.sleep(1)

    def _receive(self, connection: redis.Redis, raw: dict) -> None:
        on_invalidations = raw["channel"] in (self.invalidations, self.invalidations.encode())
        if raw["type"] == "message":
            if on_invalidations:
                self._tell_listeners("invalidated", json.loads(raw["data"]))
            else:
                self._dispatch(raw["data"])
        elif raw["type"] == "subscribe" and on_invalidations:
            # Also after redis-py reconnected by itself: messages may have been missed meanwhile.
            self._tell_listeners("subscribed", connection)

    def _tell_listeners(self, what: str, *args) -> None:
        with self._lock:
            listeners = list(self._invalidation_listeners)
        for listener in listeners:
            getattr(listener, what)(*args)

    def _dispatch(self, data: bytes) -> None:
        event = json.loads(data)
        with self._lock:
            watchers = list(self._watchers.get(event["call_id"], ()))
            all_watchers = list(self._all_watchers)
        for inbox in watchers:
            try:
                inbox.put_nowait(event["message"])
            except queue.Full:
                inbox.overflowed.set()
                self.unwatch(event["call_id"], inbox)
                log.warning("dropped a watcher of call %s: %s messages behind", event["call_id"], inbox.maxsize)
        for inbox in all_watchers:
            try:
                inbox.put_nowait((event["call_id"], event["message"]))
            except queue.Full:
                pass  # a stalled reader: dropping an activity hint is harmless


_exiting = threading.Event()
threading._register_atexit(_exiting.set)  # before atexit handlers (which stop an embedded Redis)

_fanouts: dict[tuple[str, str], Fanout] = {}
_fanouts_lock = threading.Lock()


def fanout_for(redis_url: str, namespace: str) -> Fanout:
    with _fanouts_lock:
        key = (redis_url, namespace)
        if key not in _fanouts:
            _fanouts[key] = Fanout(redis_url, namespace)
        return _fanouts[key]
