"""Password guessing throttle, shared by every place that checks a password (log in, accept an
invite as an existing account, change a password).

Failed attempts are counted twice, per client address and per target account (the email asked
for, known or not), in fixed windows in Redis so every web process shares them. Nothing the client
sends in a header changes either key: the address is the socket's peer address. When Redis is
unreachable, the counts live in this process's memory instead of letting every guess through.
"""

import hashlib
import threading
import time
from dataclasses import dataclass

import limits
import redis
from flask import current_app

from ..errors import AppError
from ..queues import namespaced, redis_client


class TooManyAttempts(AppError):
    status = 429


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def parse_limit(text: str) -> Limit:
    """'10 per minute', '5/hour', '20 per 5 minutes' (the limits package's notation, like RATE_LIMIT)."""
    item = limits.parse(text)
    return Limit(item.amount, item.get_expiry())


def _account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _keys(address: str | None, email: str) -> dict[str, str]:
    return {"address": f"pwguard:addr:{address or 'unknown'}", "account": f"pwguard:acct:{_account_key(email)}"}


def _limits() -> dict[str, Limit]:
    config = current_app.config
    return {
        "address": parse_limit(config["LOGIN_RATE_LIMIT"]),
        "account": parse_limit(config.get("LOGIN_ACCOUNT_RATE_LIMIT") or config["LOGIN_RATE_LIMIT"]),
    }


_memory: dict[str, tuple[int, float]] = {}  # fallback while Redis is down: key -> (count, window end)
_memory_lock = threading.Lock()


def _memory_count(key: str, seconds: int, increment: int) -> int:
    now = time.monotonic()
    with _memory_lock:
        count, ends = _memory.get(key, (0, now + seconds))
        if ends <= now:
            count, ends = 0, now + seconds
        count += increment
        _memory[key] = (count, ends)
        return count


def _count(key: str, seconds: int, increment: int) -> int:
    full = namespaced(key)
    try:
        if increment:
            pipe = redis_client().pipeline()  # MULTI: the window starts with the first failure
            pipe.set(full, 0, ex=seconds, nx=True)
            pipe.incrby(full, increment)
            return int(pipe.execute()[1])
        return int(redis_client().get(full) or 0)
    except redis.RedisError:
        return _memory_count(key, seconds, increment)


def check(address: str | None, email: str) -> None:
    """TooManyAttempts if this address or this account used up its failed attempts."""
    limits = _limits()
    for kind, key in _keys(address, email).items():
        limit = limits[kind]
        if _count(key, limit.seconds, 0) >= limit.count:
            who = "from your network" if kind == "address" else "for this account"
            raise TooManyAttempts(
                f"Too many login attempts {who}. Wait a minute, then try again.",
                headers={"Retry-After": str(limit.seconds)},
            )


def failed(address: str | None, email: str) -> None:
    limits = _limits()
    for kind, key in _keys(address, email).items():
        _count(key, limits[kind].seconds, 1)


def verify(user, password: str, *, address: str | None, email: str) -> bool:
    """Check `password` for `user` (None for an unknown account) under the throttle: raises
    TooManyAttempts before checking once the budget is spent; a wrong password spends one."""
    check(address, email)
    if user is not None and user.check_password(password):
        return True
    if user is None:
        _equalize_timing(password)
    failed(address, email)
    return False


_DUMMY_HASH: str | None = None


def _equalize_timing(password: str) -> None:
    """An unknown account costs one hash check too, so timing does not tell accounts apart."""
    global _DUMMY_HASH
    from werkzeug.security import check_password_hash, generate_password_hash

    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash("not-a-real-password")
    check_password_hash(_DUMMY_HASH, password)


def reset() -> None:
    """Forget every count (tests whose pages all come from one address start from zero)."""
    with _memory_lock:
        _memory.clear()
    connection = redis_client()
    keys = list(connection.scan_iter(match=namespaced("pwguard:*"), count=500))
    if keys:
        connection.delete(*keys)
