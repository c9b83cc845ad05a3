"""When each call next changes, for providers that know it: the schedule behind syncing a call at
that moment instead of at the next polling pass.

For a provider with the `knows_next_change` capability (the simulator knows when each turn ends),
every active call has an entry in a Redis sorted set scored by the Unix time of its next change.
A thread in each worker process claims the calls that are due (engine.sync_due_calls polls and
applies them in one transaction, publishes the turns after commit as every change, and scores each
call again). After a pass that synced something, the next starts PASS_SECONDS later at the
earliest, so under load one transaction (and one Redis round trip for the events, one for the new
scores) serves every call that came due meanwhile, instead of one per call. Claiming moves an
entry CLAIM_SECONDS ahead rather than removing it, so a worker killed mid-sync leaves it due again
shortly. The polling pass (engine.sync_active_calls) remains the
fallback: it skips the calls that have an entry and polls the others (providers without the
capability, calls whose entry was lost), giving those an entry.
"""

import time

from ..models import Call
from ..outbox import collect_after_commit
from ..queues import namespaced, redis_client
from .provider_gateway import call_ref, provider

KEY = "calls:next-change"
CLAIM_SECONDS = 10.0  # a claimed call is due again after this long if its sync never finished
RETRY_SECONDS = 0.2  # a sync that failed (a concurrent writer) is tried again this soon
BATCH = 50  # calls per claim (one transaction): a burst is published in steps, not after its last call
PASS_SECONDS = 0.05  # a pass syncs every call that came due since the last one, started at most this often

# Members due by ARGV[1], at most ARGV[3], re-scored to ARGV[2]: claimed by this caller only. Also
# returns the score of the earliest entry left (when the next pass is due), or nil.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {due, first[2] or false}
"""


def enabled() -> bool:
    return bool(getattr(provider(), "knows_next_change", False))


def schedule_after_commit(call: Call) -> None:
    """Once the transaction commits, score the call by its next change (or drop its entry when
    nothing more will change). No-op for providers without the capability."""
    if not enabled() or not call.provider_call_id:
        return
    when = provider().next_change_at(call_ref(call)) if call.is_active else None
    _times_after_commit()[call.id] = when


def forget_after_commit(call_ids) -> None:
    if call_ids:
        _times_after_commit().update(dict.fromkeys(call_ids))


def _times_after_commit() -> dict[str, float | None]:
    """The transaction's new scores, written in one round trip once it commits."""
    return collect_after_commit("change-clock", _set, make=dict)


def _set(times: dict[str, float | None]) -> None:
    pipe = redis_client().pipeline(transaction=False)
    key = namespaced(KEY)
    due = {call_id: when for call_id, when in times.items() if when is not None}
    gone = [call_id for call_id, when in times.items() if when is None]
    if due:
        pipe.zadd(key, due)
    if gone:
        pipe.zrem(key, *gone)
    pipe.execute()


def scheduled(call_ids: list[str]) -> set[str]:
    """Which of these calls have an entry (the polling pass leaves those to the clock)."""
    if not call_ids:
        return set()
    scores = redis_client().zmscore(namespaced(KEY), call_ids)
    return {call_id for call_id, score in zip(call_ids, scores, strict=True) if score is not None}


def claim_due(now: float | None = None) -> tuple[list[str], float | None]:
    """The calls due now (at most BATCH), claimed; and the seconds until the earliest entry left
    comes due (None when there is none)."""
    now = time.time() if now is None else now
    claimed, first = redis_client().eval(_CLAIM, 1, namespaced(KEY), now, now + CLAIM_SECONDS, BATCH)
    return [raw.decode() for raw in claimed], (float(first) - now if first is not None else None)


def retry_soon(call_ids: list[str]) -> None:
    """Claimed calls whose sync failed: due again in RETRY_SECONDS instead of CLAIM_SECONDS."""
    redis_client().zadd(namespaced(KEY), dict.fromkeys(call_ids, time.time() + RETRY_SECONDS))
