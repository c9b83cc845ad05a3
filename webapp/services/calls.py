"""Turning tasks into calls and controlling calls: execute, reset, end, cancel, re-fetch."""

import logging
from dataclasses import replace

import redis
import sqlalchemy as sa

from ..errors import Conflict, Unavailable
from ..extensions import db
from ..models import Call, Task, utcnow
from ..outbox import enqueue_after_commit
from ..queues import redis_client
from ..telephony.base import CallSnapshot, HangUpUnsupported, ProviderError
from . import dispatch, dnc, engine, reports
from .call_queries import get_call
from .destinations import check_destination
from .provider_gateway import agent_spec, call_ref, provider
from .tasks import get_task, require_variables

log = logging.getLogger(__name__)

QUEUE_UNREACHABLE = "The call queue (Redis) is unreachable; nothing was changed. Try again shortly."


def _require_queue() -> None:
    try:
        redis_client().ping()
    except redis.RedisError:
        raise Unavailable(QUEUE_UNREACHABLE) from None


def _require_provider(agent) -> None:
    """503 before anything changes when the provider can't be reached."""
    try:
        provider().check_reachable(agent_spec(agent))
    except ProviderError as exc:
        raise Unavailable(f"The telephony provider is unavailable; nothing was changed. {exc.message}") from None


def execute_task(org_id: str, task_id: str) -> Call | None:
    """pending → in_progress in one conditional UPDATE, so two concurrent executes make one call.
    Beyond the organization's concurrent-call cap the task is queued instead (returns None) and
    the dispatcher places it when a slot frees."""
    task = get_task(org_id, task_id)
    if task.campaign_id is not None:
        raise Conflict("This task belongs to a campaign, which dials it", {"campaign_id": task.campaign_id})
    if task.status == "pending" and task.dispatch_after is not None:
        raise Conflict("The task is already queued to be dialled", {"status": "queued"})
    if task.agent.deleted_at is not None or not task.agent.enabled:
        raise Conflict("The task's agent is disabled; enable it before executing", {"agent_id": task.agent_id})
    check_destination(org_id, task.to_number, error=Conflict)  # the allowed countries may have changed
    require_variables(task.agent, task.context_data, task.starting_message)
    _require_queue()
    _require_provider(task.agent)
    now = utcnow()
    if dnc.is_listed(org_id, task.to_number):  # listed since the task was created
        dnc.skip_pending_tasks(org_id, task.to_number)
        db.session.commit()
        raise Conflict("The number is on the do-not-call list; the task was skipped", {"status_reason": "do_not_call"})
    db.session.commit()  # the slot lock must be the first write of its transaction
    if dispatch.free_slots(org_id) <= 0:
        return _queue_task(task.id, now)
    call = dispatch.claim(task.id, org_id, now)
    if call is None:
        db.session.rollback()
        current = db.session.get(Task, task.id)
        raise Conflict(f"Only pending tasks can be executed; this task is {current.status}", {"status": current.status})
    enqueue_after_commit(engine.start_call, call.id)  # if Redis fails now, the sweep places it
    db.session.commit()
    return call


def _queue_task(task_id: str, now) -> None:
    queued = db.session.execute(
        sa.update(Task)
        .where(Task.id == task_id, Task.status == "pending", Task.dispatch_after.is_(None))
        .values(dispatch_after=now, status_reason="queued", updated_at=now)
    ).rowcount
    db.session.commit()
    if queued != 1:
        current = db.session.get(Task, task_id)
        db.session.refresh(current)
        raise Conflict(f"Only pending tasks can be executed; this task is {current.status}", {"status": current.status})
    return None


def reset_task(org_id: str, task_id: str) -> Task:
    task = get_task(org_id, task_id)
    if task.status == "pending":
        raise Conflict("The task is already pending", {"status": task.status})
    active = task.last_call_id and db.session.execute(
        sa.select(Call.status).where(Call.id == task.last_call_id)
    ).scalar_one_or_none() in ("initiated", "in_progress")
    if active:
        raise Conflict("The task's call is still active; end or cancel it first", {"call_id": task.last_call_id})
    task.status = "pending"
    task.finished_at = None
    task.status_reason = None
    task.dispatch_after = utcnow() if task.campaign_id else None  # its campaign dials it again
    db.session.commit()
    return task


def _require_active(call: Call) -> None:
    if not call.is_active:
        raise Conflict(f"The call is already over ({call.status})", {"status": call.status})


def hang_up(org_id: str, call_id: str, reason: str, via: str = "api") -> Call:
    """End (`ended_via_api`, completed) or cancel (`cancelled`, failed) an active call. Ended from
    the dashboard (`via="dashboard"`), the call's end_reason is `dashboard`."""
    call = get_call(org_id, call_id)
    _require_active(call)
    if call.provider_call_id:
        try:
            call.provider_data = provider().hang_up(call_ref(call), reason)
        except ProviderError as exc:
            if isinstance(exc, HangUpUnsupported):
                raise Conflict(exc.message) from None
            if exc.unreachable:
                raise Unavailable(f"The telephony provider is unreachable: {exc.message}") from None
            raise Conflict(f"The provider refused to stop the call: {exc.message}") from None
    snapshot = (
        CallSnapshot(status="completed", end_reason="ended_via_api")
        if reason == "ended_via_api"
        else CallSnapshot(status="failed", failure_reason="cancelled", error_message="Cancelled via the API")
    )
    if call.provider_call_id:
        try:
            polled = provider().poll(call_ref(call))
            if polled.is_terminal:
                snapshot = _ended_on_request(polled, snapshot)
            else:
                snapshot = replace(snapshot, turns=polled.turns)
        except ProviderError:
            pass  # the local verdict stands; the final fetch will fill in the transcript
    if via == "dashboard" and snapshot.end_reason == "ended_via_api":
        snapshot = replace(snapshot, end_reason="dashboard")
    provider_data = call.provider_data

    def stage() -> bool:
        # The hang-up is stored with the verdict: a poller that saw it first would record its own.
        call.provider_data = provider_data
        return engine.stage_snapshot(call, snapshot)

    engine.commit_staged(call, stage)
    return call


def _ended_on_request(polled: CallSnapshot, verdict: CallSnapshot) -> CallSnapshot:
    """The provider confirms the end and adds what it knows (transcript, duration, costs); who
    ended the call is known here, not there (Twilio reads any hang-up as the callee's)."""
    return replace(polled, status=verdict.status, end_reason=verdict.end_reason,
                   failure_reason=verdict.failure_reason, error_message=verdict.error_message)  # fmt: skip


def refresh_transcript(org_id: str, call_id: str) -> Call:
    """Fetch the transcript from the provider again, reprocess it and regenerate the report."""
    call = get_call(org_id, call_id)
    final = None
    if call.provider_call_id:
        try:
            final = provider().fetch_final(call_ref(call))
        except ProviderError as exc:
            raise Unavailable(f"Could not fetch the transcript from the provider: {exc.message}") from None

    def restage() -> bool:
        if final is not None:
            engine.merge_turns(call, final)
            engine.copy_details(call, final)
        call.report = reports.build_report(call)
        return True

    engine.commit_staged(call, restage)
    return call
