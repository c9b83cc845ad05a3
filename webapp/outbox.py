"""The one path from a committed change to its side effects (jobs, live events).

A service that changes state records what must follow *in the same transaction*: the due work is
on the rows themselves (a terminal call without `finalized_at`, a delivery whose
`next_attempt_at` has come, an agent whose sync is `pending`, a call whose recording is
`pending`, an unplaced call), and `enqueue_after_commit` / `publish_after_commit` register the
dispatch, which runs only once the transaction commits (and is dropped on rollback). A dispatch
that fails (Redis unreachable, worker killed before the job ran) loses nothing: the sweeps in
services.sweeps find the due rows and dispatch them again.
"""

import logging
from collections.abc import Callable

import redis
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from . import events
from .extensions import db
from .queues import enqueue, redis_client

log = logging.getLogger(__name__)

_KEY = "after_commit"
_COLLECTED = "after_commit_collected"  # name -> the container collect_after_commit hands out


def after_commit(callback: Callable, *args, **kwargs) -> None:
    """Run `callback(*args, **kwargs)` once the current transaction commits; never if it rolls back.
    The callback must not use the database session (it runs inside the commit)."""
    db.session().info.setdefault(_KEY, []).append((callback, args, kwargs))


def collect_after_commit(name: str, callback: Callable, *args, make: Callable = list):
    """A container (`make()`) belonging to the current transaction: once it commits,
    `callback(*args, container)` runs once with whatever was added to it, so that many changes cost
    one dispatch (one Redis round trip) instead of one each."""
    collected = db.session().info.setdefault(_COLLECTED, {})
    if name not in collected:
        collected[name] = make()
        after_commit(callback, *args, collected[name])
    return collected[name]


def enqueue_after_commit(func: Callable, *args, at=None) -> None:
    after_commit(_enqueue, func, args, at)


def publish_after_commit(call_id: str, message: dict) -> None:
    """The live event goes out once the transaction commits; a transaction's events go out in
    order, in one round trip."""
    collect_after_commit("publish", _publish, current_app.config["REDIS_NAMESPACE"]).append((call_id, message))


def _enqueue(func: Callable, args: tuple, at) -> None:
    enqueue(func, *args, at=at)


def _publish(namespace: str, messages: list[tuple[str, dict]]) -> None:
    events.publish_many(redis_client(), namespace, messages)


@sa.event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    session.info.pop(_COLLECTED, None)
    for callback, args, kwargs in session.info.pop(_KEY, None) or ():
        try:
            callback(*args, **kwargs)
        except redis.RedisError as exc:
            log.warning("after-commit %s failed (%s); the sweep will dispatch it again", callback.__name__, exc)
        except Exception:
            log.exception("after-commit %s failed; the sweep will dispatch it again", callback.__name__)


@sa.event.listens_for(Session, "after_transaction_end")
def _discard(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit (after_commit ran first otherwise)."""
    if transaction.parent is None:
        session.info.pop(_KEY, None)
        session.info.pop(_COLLECTED, None)
