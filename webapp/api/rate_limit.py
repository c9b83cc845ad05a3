"""The per-key request limit of /api/v1 (RATE_LIMIT, fixed windows shared by every process through
Redis), in one Redis round trip: a Lua script counts the hit for each limit and returns what the
X-RateLimit-* headers need (count and time left), plus the API-key invalidation counter that the key
cache checks (see key_cache). Past the limit: 429 in the API's envelope, with Retry-After.

Redis unreachable: the same limits are counted in this process's memory instead of failing requests
(for REDIS_RETRY_SECONDS after each failure, so an outage does not cost every request a timeout).
"""

import logging
import time
from dataclasses import dataclass

import redis
from flask import Flask, current_app, g
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from ..errors import AppError
from ..identity import rate_limit_key
from ..key_cache import GENERATION_KEY
from ..queues import namespaced, redis_client

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 1.0

# KEYS: the invalidation counter, then one counter per limit; ARGV: each limit's window in ms.
# Returns the counter's value, then count and milliseconds left for each limit.
HIT_SCRIPT = """
local answer = {redis.call('GET', KEYS[1]) or '0'}
for i = 2, #KEYS do
    local count = redis.call('INCR', KEYS[i])
    local left = redis.call('PTTL', KEYS[i])
    if count == 1 or left < 0 then
        left = tonumber(ARGV[i - 1])
        redis.call('PEXPIRE', KEYS[i], left)
    end
    answer[#answer + 1] = count
    answer[#answer + 1] = left
end
return answer
"""


class RateLimited(AppError):
    status = 429


@dataclass(frozen=True)
class Window:
    limit: RateLimitItem
    count: int
    resets_at: float  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(0, self.limit.amount - self.count)

    @property
    def breached(self) -> bool:
        return self.count > self.limit.amount


class ApiRateLimit:
    def __init__(self, app: Flask):
        self.limits = parse_many(app.config["RATE_LIMIT"])
        self._script = None
        self._fallback = FixedWindowRateLimiter(MemoryStorage())
        self._redis_down_until = 0.0  # time.monotonic()

    def hit(self, who: str) -> tuple[list[Window], int | None]:
        """The windows after counting this request, and the key invalidation counter (None when
        Redis did not answer)."""
        keys = [namespaced(GENERATION_KEY)] + [namespaced("limits:api:" + item.key_for(who)) for item in self.limits]
        windows_ms = [item.get_expiry() * 1000 for item in self.limits]
        if time.monotonic() < self._redis_down_until:
            return self._hit_in_memory(who), None
        try:
            if self._script is None:
                self._script = redis_client().register_script(HIT_SCRIPT)
            answer = self._script(keys=keys, args=windows_ms)
        except redis.RedisError as exc:
            log.warning("rate limit counted in memory: Redis unreachable (%s)", exc)
            self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            return self._hit_in_memory(who), None
        now = time.time()
        windows = [
            Window(item, int(answer[1 + 2 * i]), now + int(answer[2 + 2 * i]) / 1000)
            for i, item in enumerate(self.limits)
        ]
        return windows, int(answer[0])

    def _hit_in_memory(self, who: str) -> list[Window]:
        windows = []
        for item in self.limits:
            allowed = self._fallback.hit(item, "api", who)
            resets_at, remaining = self._fallback.get_window_stats(item, "api", who)
            windows.append(Window(item, item.amount - remaining if allowed else item.amount + 1, resets_at))
        return windows

    def reset(self) -> None:
        """Forget every count (tests whose requests all come from one address start from zero)."""
        self._fallback = FixedWindowRateLimiter(MemoryStorage())
        connection = redis_client()
        keys = list(connection.scan_iter(match=namespaced("limits:api:*"), count=500))
        if keys:
            connection.delete(*keys)


def _limiter() -> ApiRateLimit:
    return current_app.extensions["api_rate_limit"]


def check() -> None:
    """before_request of the API: count the request, refuse it past a limit."""
    windows, g.key_generation = _limiter().hit(rate_limit_key())
    breached = [window for window in windows if window.breached]
    # The headers describe the limit that refused the request, else the one closest to refusing.
    shown = breached[0] if breached else min(windows, key=lambda w: (w.remaining, w.resets_at))
    g.rate_limit_window = shown
    if breached:
        raise RateLimited("Rate limit exceeded", {"limit": str(shown.limit)})


def add_headers(response):
    """after_request of the API: X-RateLimit-Limit, -Remaining, -Reset (epoch seconds), and
    Retry-After on a refusal."""
    window: Window | None = g.get("rate_limit_window")
    if window is None:
        return response
    reset_at = int(window.resets_at + 1)
    response.headers["X-RateLimit-Limit"] = str(window.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(window.remaining)
    response.headers["X-RateLimit-Reset"] = str(reset_at)
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, int(reset_at - time.time())))
    return response


def reset() -> None:
    _limiter().reset()


def init_app(app: Flask) -> None:
    app.extensions["api_rate_limit"] = ApiRateLimit(app)
