"""The HTTP side of a webhook delivery: the signature, and one pooled `requests.Session` per
receiver (scheme, host, port) kept by the process, so consecutive deliveries to a receiver reuse
its keep-alive connections instead of a TCP (and TLS) handshake each."""

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

USER_AGENT = "voice-agents-webhooks/1.0"
MAX_RECEIVERS = 128  # sessions kept per process; the least recently used one is closed beyond that
CONNECTIONS_PER_RECEIVER = 4

_sessions: OrderedDict[tuple[str, str, int | None], requests.Session] = OrderedDict()
_lock = threading.Lock()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def session_for(url: str) -> requests.Session:
    parts = urlsplit(url)
    key = (parts.scheme, (parts.hostname or "").lower(), parts.port)
    with _lock:
        session = _sessions.get(key)
        if session is not None:
            _sessions.move_to_end(key)
            return session
        session = requests.Session()
        session.trust_env = False  # no proxies or .netrc from the environment: we checked this address
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=CONNECTIONS_PER_RECEIVER, max_retries=0)
        session.mount(f"{parts.scheme}://", adapter)
        _sessions[key] = session
        if len(_sessions) > MAX_RECEIVERS:
            _, oldest = _sessions.popitem(last=False)
            oldest.close()
        return session


def post(url: str, body: bytes, *, secret: str, delivery_id: str, event_type: str, timeout: float) -> int:
    """POST the signed body (redirects are not followed); returns the status code."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": delivery_id,
        "X-Webhook-Event": event_type,
        "X-Webhook-Signature": sign(secret, int(time.time()), body),
    }
    # Straight to the session's pooled adapter: Session.request's merging of environment settings,
    # cookies and hooks was a third of a delivery's CPU, and adapters never follow redirects.
    request = requests.PreparedRequest()
    request.prepare(method="POST", url=url, headers=headers, data=body)
    response = session_for(url).get_adapter(url).send(request, timeout=timeout)
    response.content  # noqa: B018 - read to the end, so the connection goes back to the pool
    return response.status_code
