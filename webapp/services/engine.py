"""The call state machine: provider snapshots advance calls, idempotently and only forward.

Jobs (webapp.jobs) and provider webhooks call these functions; nothing here blocks for a call's
duration. Every change is published for live sockets.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from .. import events
from ..extensions import db
from ..models import ACTIVE_CALL_STATUSES, Call, Task, TranscriptTurn, utcnow
from ..queues import enqueue_job, redis_client
from ..telephony import get_provider
from ..telephony.base import AgentSpec, CallRef, CallRequest, CallSnapshot, ProviderError

log = logging.getLogger(__name__)

SYNC_BATCH_SIZE = 100  # calls per transaction in a sync pass
STATUS_ORDER = {"initiated": 0, "in_progress": 1, "completed": 2, "failed": 2}
TASK_STATUS_FOR_CALL = {"completed": "completed", "failed": "failed"}


def provider():
    return get_provider(current_app.config)


def call_ref(call: Call) -> CallRef:
    return CallRef(
        call_id=call.id, provider_call_id=call.provider_call_id or "", provider_data=call.provider_data or {}
    )


def agent_spec(agent) -> AgentSpec:
    return AgentSpec(
        id=agent.id,
        name=agent.name,
        system_prompt=agent.system_prompt,
        starting_message=agent.starting_message,
        voice_settings=agent.voice_settings or {},
        dtmf_rules=agent.dtmf_rules or {},
        language=agent.language,
        remote_agent_id=agent.remote_agent_id,
        dynamic_variables=agent.dynamic_variables or {},
        ringing_timeout_secs=agent.ringing_timeout_secs,
    )


def call_request(call: Call) -> CallRequest:
    task = call.task
    return CallRequest(
        call_id=call.id,
        to_number=call.to_number,
        agent=agent_spec(call.agent),
        starting_message=task.starting_message or call.agent.starting_message,
        context_data=task.context_data or {},
        task_name=task.name,
    )


def _publish(call_id: str, payload: dict) -> None:
    events.publish(redis_client(), current_app.config["REDIS_NAMESPACE"], call_id, payload)


def status_message(call: Call) -> dict:
    return events.message(
        "call_status_update",
        {
            "call_id": call.id,
            "status": call.status,
            "failure_reason": call.failure_reason,
            "end_reason": call.end_reason,
        },
    )


def transcript_message(call: Call, new_turns: list[dict]) -> dict:
    return events.message(
        "transcript_update", {"call_id": call.id, "transcript": call.transcript, "new_turns": new_turns}
    )


def start_call(call_id: str) -> str:
    """Ask the provider to place the call. Runs once per call: a retried job finds it placed."""
    call = db.session.get(Call, call_id)
    if call is None or call.provider_call_id or not call.is_active:
        return "nothing to do"
    from . import agent_sync

    try:
        agent_sync.ensure_current(call.agent)
        placed = provider().place_call(call_request(call))
    except ProviderError as exc:
        fail_call(call, "provider_error", exc.message)
        return "provider error"
    call.provider_call_id = placed.provider_call_id
    call.provider_data = placed.provider_data
    call.last_event_at = utcnow()
    db.session.commit()
    from . import webhooks

    webhooks.schedule(call, "call_started")
    return "placed"


def fail_call(call: Call, reason: str, message: str | None = None) -> None:
    apply_snapshot(call, CallSnapshot(status="failed", failure_reason=reason, error_message=message))


def merge_turns(call: Call, snapshot: CallSnapshot) -> list[dict]:
    """Bring stored turns in line with the snapshot; returns the turns that are new or changed."""
    changed = []
    existing = {turn.position: turn for turn in call.turns}
    for position, turn in enumerate(snapshot.turns):
        stored = existing.get(position)
        fields = turn.as_dict()
        if stored is None:
            call.turns.append(TranscriptTurn(position=position, **fields))
            changed.append(fields)
        elif stored.as_dict() != fields:
            for name, value in fields.items():
                setattr(stored, name, value)
            changed.append(fields)
    return changed


def _advance_status(call: Call, snapshot: CallSnapshot) -> bool:
    if STATUS_ORDER[snapshot.status] <= STATUS_ORDER[call.status]:
        return False
    now = utcnow()
    call.status = snapshot.status
    if snapshot.status == "in_progress":
        call.answered_at = now
    if snapshot.is_terminal:
        call.ended_at = now
        call.failure_reason = snapshot.failure_reason if snapshot.status == "failed" else None
        call.end_reason = snapshot.end_reason if snapshot.status == "completed" else None
        call.error_message = snapshot.error_message
        if call.answered_at is None and snapshot.status == "completed":
            call.answered_at = now
        task = db.session.get(Task, call.task_id)
        if task is not None and task.last_call_id == call.id:
            task.status = TASK_STATUS_FOR_CALL[snapshot.status]
            task.finished_at = now
    return True


def copy_details(call: Call, snapshot: CallSnapshot) -> bool:
    """Copy the provider's end-of-call details; returns whether anything changed."""
    changed = False
    for name in ("duration_seconds", "cost_credits", "cost_usd", "termination_reason", "analysis"):
        value = getattr(snapshot, name)
        if value is not None and getattr(call, name) != value:
            setattr(call, name, value)
            changed = True
    if snapshot.events and call.events != [dict(event) for event in snapshot.events]:
        call.events = [dict(event) for event in snapshot.events]
        changed = True
    return changed


def stage_snapshot(call: Call, snapshot: CallSnapshot) -> Callable[[], None] | None:
    """Apply what the provider says now to the row, without committing. Returns what to announce
    once committed (live events, finalization), or None: a duplicate, late or backwards snapshot
    changes nothing."""
    if call.finalized_at is not None:
        return None
    new_turns = merge_turns(call, snapshot) if snapshot.turns else []
    status_changed = _advance_status(call, snapshot)
    details_changed = copy_details(call, snapshot)
    if not (new_turns or status_changed or details_changed):
        return None
    call.last_event_at = utcnow()
    call_id, ended = call.id, status_changed and not call.is_active
    # Built now: once committed, the row is expired and reading it would load it again.
    transcript = [transcript_message(call, new_turns)] if new_turns else []
    status = [status_message(call)] if status_changed else []
    # The call is in progress before its first words arrive, and they arrive before it ends.
    messages = status + transcript if call.status == "in_progress" else transcript + status

    def announce() -> None:
        for message in messages:
            _publish(call_id, message)
        if ended:
            enqueue_job("finalize_call", call_id)

    return announce


def apply_snapshot(call: Call, snapshot: CallSnapshot) -> bool:
    """Apply what the provider says now, commit, and announce it. Returns whether anything changed."""
    announce = stage_snapshot(call, snapshot)
    if announce is None:
        return False
    db.session.commit()
    announce()
    return True


def poll(call: Call) -> CallSnapshot | None:
    try:
        return provider().poll(call_ref(call))
    except ProviderError as exc:
        log.warning("poll failed for call %s: %s", call.id, exc.message)
        return None


def sync_call(call: Call) -> bool:
    snapshot = poll(call)
    if snapshot is None:
        db.session.rollback()
        return False
    return apply_snapshot(call, snapshot)


def sync_active_calls(limit: int = 5000) -> int:
    """One pass over every active call placed by the configured provider, SYNC_BATCH_SIZE calls per
    transaction: each batch is read fresh, polled, then applied and committed at once (a commit per
    call would expire, and so reload, every row still waiting). Returns how many changed."""
    active = (Call.status.in_(ACTIVE_CALL_STATUSES), Call.provider_call_id.is_not(None),
              Call.provider == current_app.config["TELEPHONY_PROVIDER"])  # fmt: skip
    call_ids = db.session.execute(
        sa.select(Call.id).where(*active).order_by(Call.last_event_at).limit(limit)
    ).scalars().all()  # fmt: skip
    changed = 0
    for start in range(0, len(call_ids), SYNC_BATCH_SIZE):
        batch = call_ids[start : start + SYNC_BATCH_SIZE]
        calls = db.session.execute(sa.select(Call).where(Call.id.in_(batch), *active)).scalars().all()
        polled = [(call, snapshot) for call in calls if (snapshot := poll(call)) is not None]
        announcements = [announce for call, snapshot in polled if (announce := stage_snapshot(call, snapshot))]
        db.session.commit()
        for announce in announcements:
            announce()
        changed += len(announcements)
    return changed


def sweep_stale_calls() -> int:
    """Bring calls that stopped getting updates to a terminal state: nothing stays in progress."""
    config = current_app.config
    now = utcnow()
    stale_before = now - timedelta(seconds=config["CALL_STALE_SECONDS"])
    unplaced_before = now - timedelta(seconds=config["CALL_PLACE_TIMEOUT_SECONDS"])
    stale = db.session.execute(
        sa.select(Call).where(
            Call.status.in_(ACTIVE_CALL_STATUSES),
            sa.or_(
                Call.last_event_at < stale_before,
                sa.and_(Call.provider_call_id.is_(None), Call.created_at < unplaced_before),
            ),
        )
    ).scalars().all()  # fmt: skip
    for call in stale:
        ours = call.provider == config["TELEPHONY_PROVIDER"]  # another provider's call can't be polled
        if call.provider_call_id and ours and sync_call(call) and not call.is_active:
            continue
        if call.is_active:
            reason = "provider_error" if not call.provider_call_id else "timeout"
            message = (
                "The call was never placed (worker stopped?)"
                if not call.provider_call_id
                else ("No progress from the provider; the call was closed by the sweep")
            )
            fail_call(call, reason, message)
    return len(stale)


def finalize_call(call_id: str) -> str:
    """Store the final transcript and report, set the task, send webhooks. Safe to run twice."""
    call = db.session.get(Call, call_id)
    if call is None or call.is_active or call.finalized_at is not None:
        return "nothing to do"
    from . import recordings, reports, webhooks

    if call.provider_call_id:
        try:
            final = provider().fetch_final(call_ref(call))
            merge_turns(call, final)
            copy_details(call, final)
        except ProviderError as exc:
            log.warning("final fetch failed for call %s: %s", call.id, exc.message)
    call.report = reports.build_report(call)
    call.finalized_at = utcnow()
    db.session.commit()
    webhooks.schedule(call, "call_completed" if call.status == "completed" else "call_failed")
    if call.provider_call_id and call.answered_at is not None:
        recordings.enqueue_store(call.id)
    return "finalized"
