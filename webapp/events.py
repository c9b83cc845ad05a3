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
    """Per-process registry of socket queues by call id, fed by one Redis subscriber thread."""

    def __init__(self, redis_url: str, namespace: str):
        self.redis_url = redis_url
        self.channel = channel(namespace)
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

    def _ensure_listener(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._ready.clear()
                self._thread = threading.Thread(target=self._listen_forever, name="call-events", daemon=True)
                self._thread.start()
        self._ready.wait(timeout=5)

    def _listen_forever(self) -> None:
        while True:
            try:
                pubsub = redis.Redis.from_url(self.redis_url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self._ready.set()
                for raw in pubsub.listen():
                    self._dispatch(raw["data"])
            except redis.RedisError as exc:
                log.warning("event subscriber lost Redis (%s); reconnecting", exc)
                time.sleep(1)

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


_fanouts: dict[tuple[str, str], Fanout] = {}
_fanouts_lock = threading.Lock()


def fanout_for(redis_url: str, namespace: str) -> Fanout:
    with _fanouts_lock:
        key = (redis_url, namespace)
        if key not in _fanouts:
            _fanouts[key] = Fanout(redis_url, namespace)
        return _fanouts[key]
