"""The call state machine without a worker process: duplicate, late and backwards snapshots, finalize
twice, a provider webhook racing the poller, and the sweeps finding work whose dispatch was lost."""

import threading
import uuid
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from tests.state.scripted import turns
from webapp.telephony.base import CallSnapshot, Recording


def task_fields(agent_id: str, url: str, events):
    from webapp.schemas.tasks import TaskCreate

    fields = {"agent_id": agent_id, "name": "Call", "to_number": "+14155550123", "webhook_url": url,
              "webhook_events": list(events)}  # fmt: skip
    return TaskCreate.model_validate(fields, context={"allow_loopback": True})


FINAL = CallSnapshot(status="completed", turns=turns(4), end_reason="ended_by_agent", duration_seconds=9.0)


@pytest.fixture
def account(fast_app, receiver):
    """An organization with an agent and a factory of placed calls (webhooks to the receiver)."""
    from webapp.schemas.agents import AgentCreate
    from webapp.services import agents, calls, orgs, tasks

    suffix = uuid.uuid4().hex[:8]
    org, _ = orgs.sign_up(org_name=f"State {suffix}", email=f"state-{suffix}@example.com", password="correct-horse-1")
    agent = agents.create_agent(org.id, AgentCreate(name="Agent", system_prompt="You confirm deliveries."))
    ids = {"org_id": org.id, "agent_id": agent.id}

    class Account:
        org_id = ids["org_id"]
        agent_id = ids["agent_id"]

        @staticmethod
        def call(jobs, *, events=("call_started", "call_completed", "call_failed")) -> str:
            task = tasks.create_task(ids["org_id"], task_fields(ids["agent_id"], f"{receiver.url}/hooks", events))
            call_id = calls.execute_task(ids["org_id"], task.id).id
            assert ("start_call", (call_id,)) in jobs.queued()
            jobs.run()
            return call_id

    return Account


def _call(call_id: str):
    from webapp.extensions import db
    from webapp.models import Call

    db.session.remove()
    return db.session.get(Call, call_id)


def _apply(call_id: str, snapshot: CallSnapshot) -> bool:
    from webapp.services import engine

    return engine.apply_snapshot(_call(call_id), snapshot)


def _deliveries(call_id: str) -> list:
    from webapp.extensions import db
    from webapp.models import WebhookDelivery

    db.session.remove()
    return list(db.session.execute(sa.select(WebhookDelivery).where(WebhookDelivery.call_id == call_id)
                                   .order_by(WebhookDelivery.created_at)).scalars())  # fmt: skip


CALL_JOBS = ("start_call", "finalize_call", "store_recording", "deliver", "sync_agent")


def _call_jobs(jobs: list) -> list:
    """The call engine's jobs among those queued or run (campaign dispatch requests aside); a drain
    of due deliveries (deliver_due) counts as `deliver`."""
    named = [(("deliver",) + job[1:] if job[0] == "deliver_due" else job) if isinstance(job, tuple)
             else ("deliver" if job == "deliver_due" else job) for job in jobs]  # fmt: skip
    return [job for job in named if (job[0] if isinstance(job, tuple) else job) in CALL_JOBS]


def _provider_id(call_id: str) -> str:
    return _call(call_id).provider_call_id


def test_duplicate_late_and_backwards_snapshots_change_nothing(account, jobs, scripted):
    call_id = account.call(jobs)
    talking = CallSnapshot(status="in_progress", turns=turns(2))
    assert _apply(call_id, talking) is True
    assert _call_jobs(jobs.queued()) == []  # live events only: nothing to do yet
    assert _apply(call_id, talking) is False  # duplicate
    assert _apply(call_id, CallSnapshot(status="initiated")) is False  # backwards
    assert _apply(call_id, CallSnapshot(status="in_progress", turns=turns(1))) is False  # older transcript
    assert len(_call(call_id).turns) == 2

    assert _apply(call_id, FINAL) is True
    assert _call_jobs(jobs.queued()) == [("finalize_call", (call_id,))]
    assert _apply(call_id, CallSnapshot(status="in_progress", turns=turns(3))) is False  # late
    assert _apply(call_id, CallSnapshot(status="failed", failure_reason="dropped")) is False  # terminal is final
    call = _call(call_id)
    assert (call.status, call.end_reason, len(call.turns), call.task.status) == ("completed", "ended_by_agent", 4,
                                                                                 "completed")  # fmt: skip
    assert _call_jobs(jobs.queued()) == [("finalize_call", (call_id,))]


def test_finalize_twice_stores_one_report_one_webhook_and_one_recording(account, jobs, scripted, receiver):
    from webapp.services import engine

    call_id = account.call(jobs)
    _apply(call_id, CallSnapshot(status="in_progress", turns=turns(2)))
    scripted.finals[_provider_id(call_id)] = FINAL
    _apply(call_id, FINAL)
    jobs.drop()
    assert engine.finalize_call(call_id) == "finalized"
    assert engine.finalize_call(call_id) == "nothing to do"
    names = _call_jobs(jobs.run())
    assert sorted(names) == ["deliver", "store_recording"]  # call_completed waited for the recording
    call = _call(call_id)
    assert call.report and call.recording_status == "stored" and call.has_recording
    sent = [d.event_type for d in _deliveries(call_id)]
    assert sent == ["call_started", "call_completed"]
    completed = _deliveries(call_id)[1]
    assert completed.status == "delivered" and completed.attempt_count == 1
    artifacts = completed.payload["data"]["artifacts"]
    assert artifacts == {"transcript": "ready", "report": "ready", "recording": "ready", "recording_note": None}
    assert engine.finalize_call(call_id) == "nothing to do" and _call_jobs(jobs.run()) == []


def test_a_provider_webhook_racing_the_poller_ends_the_call_once(account, jobs, scripted, fast_app):
    from webapp.extensions import db
    from webapp.services import engine

    call_id = account.call(jobs)
    _apply(call_id, CallSnapshot(status="in_progress", turns=turns(2)))
    scripted.snapshots[_provider_id(call_id)] = FINAL
    barrier = threading.Barrier(2)
    results, errors = [], []

    def racer(action):
        with fast_app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(action())
            except sa.exc.IntegrityError:  # the polling pass lost the race: its next pass sees the end
                db.session.rollback()
                results.append(False)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer, args=(action,)) for action in
               (engine.sync_active_calls, lambda: engine.apply_snapshot(_call(call_id), FINAL))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert any(results)
    jobs.run()
    call = _call(call_id)
    assert (call.status, len(call.turns), call.finalized_at is not None) == ("completed", 4, True)
    assert [d.event_type for d in _deliveries(call_id)] == ["call_started", "call_completed"]


def test_hang_up_answers_after_its_commit_when_redis_is_gone_and_the_sweep_finishes(account, jobs, fast_app):
    from webapp.services import calls, sweeps

    call_id = account.call(jobs)
    _apply(call_id, CallSnapshot(status="in_progress", turns=turns(2)))
    working = fast_app.extensions["redis"]
    fast_app.extensions["redis"] = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    try:
        call = calls.hang_up(account.org_id, call_id, "ended_via_api")  # no error after the commit
    finally:
        fast_app.extensions["redis"] = working
    assert call.status == "completed" and call.end_reason == "ended_via_api"
    assert _call_jobs(jobs.queued()) == []  # the finalize job was lost with Redis
    assert _call(call_id).finalized_at is None

    assert sweeps.sweep()["finalized"] == 1
    jobs.run()
    call = _call(call_id)
    assert call.finalized_at and call.report and call.recording_status == "stored"
    assert [d.status for d in _deliveries(call_id)] == ["delivered", "delivered"]
    assert sweeps.sweep() == dict.fromkeys(("closed", "placed", "finalized", "recordings", "deliveries", "agents"), 0)


def test_lost_jobs_are_found_by_the_sweeps(account, jobs, scripted, receiver):
    """A placement, an agent sync and a delivery whose jobs were lost are dispatched again; the
    delivery is re-sent with the same X-Webhook-Id and recorded once per attempt."""
    from webapp.schemas.agents import AgentUpdate
    from webapp.services import agents, calls, sweeps, tasks

    jobs.run()
    agents.update_agent(account.org_id, account.agent_id, AgentUpdate(name="Renamed"))
    task = tasks.create_task(account.org_id, task_fields(account.agent_id, f"{receiver.url}/hooks", ["call_started"]))
    call_id = calls.execute_task(account.org_id, task.id).id
    assert jobs.drop() == 2  # the agent sync and the placement
    swept = sweeps.sweep()
    assert (swept["placed"], swept["agents"]) == (1, 1)
    jobs.run()
    assert _call(call_id).provider_call_id and _call(call_id).agent.sync_status == "synced"

    [started] = _deliveries(call_id)
    assert started.status == "delivered"
    first_id = receiver.requests[-1].headers["X-Webhook-Id"]
    assert first_id == started.id
    # The same delivery as a worker killed mid-POST leaves it: due, no attempt recorded.
    from webapp.extensions import db
    from webapp.models import WebhookAttempt, WebhookDelivery

    db.session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id == started.id))
    db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == started.id)
                       .values(status="pending", attempt_count=0, delivered_at=None))  # fmt: skip
    db.session.commit()
    assert sweeps.sweep()["deliveries"] == 1
    jobs.run()
    [again] = _deliveries(call_id)
    assert (again.status, again.attempt_count) == ("delivered", 1)
    assert [r.headers["X-Webhook-Id"] for r in receiver.requests[-2:]] == [first_id, first_id]


def test_the_terminal_webhook_waits_for_the_recording_then_says_which_artifacts_are_ready(account, jobs, scripted):
    from webapp.extensions import db
    from webapp.models import Call, utcnow
    from webapp.queues import end_lease
    from webapp.services import sweeps

    slow = account.call(jobs, events=("call_completed",))
    _apply(slow, CallSnapshot(status="in_progress", turns=turns(2)))
    scripted.recordings[_provider_id(slow)] = None  # the provider has no recording yet
    _apply(slow, FINAL)
    jobs.run()
    call = _call(slow)
    assert call.recording_status == "pending"
    [waiting] = _deliveries(slow)
    assert waiting.status == "pending" and waiting.next_attempt_at > utcnow() + timedelta(seconds=30)
    assert len(jobs.scheduled()) == 1  # sent at the bound if the recording never comes

    scripted.recordings[_provider_id(slow)] = Recording("audio/wav", b"RIFF" + b"\1" * 40)
    assert sweeps.sweep()["recordings"] == 0  # the provider is asked again only after a while
    end_lease(f"recording-wait:{slow}")  # that while is over
    assert sweeps.sweep()["recordings"] == 1
    jobs.run()
    [sent] = _deliveries(slow)
    assert sent.status == "delivered" and sent.payload["data"]["artifacts"]["recording"] == "ready"
    assert _call(slow).recording_status == "stored"

    never = account.call(jobs, events=("call_completed",))
    _apply(never, CallSnapshot(status="in_progress", turns=turns(2)))
    scripted.recordings[_provider_id(never)] = None
    _apply(never, FINAL)
    jobs.run()
    db.session.execute(sa.update(Call).where(Call.id == never).values(ended_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    end_lease(f"recording-wait:{never}")
    sweeps.sweep()
    jobs.run()
    call = _call(never)
    assert call.recording_status == "none" and "no recording" in call.recording_note
    [sent] = _deliveries(never)
    assert sent.status == "delivered"
    assert sent.payload["data"]["artifacts"]["recording"] == "none"
    assert sent.payload["data"]["artifacts"]["recording_note"] == call.recording_note


def test_a_call_never_answered_has_a_definitive_no_recording(account, jobs):
    call_id = account.call(jobs, events=("call_failed",))
    _apply(call_id, CallSnapshot(status="failed", failure_reason="no_answer"))
    assert _call_jobs(jobs.run()) == ["finalize_call", "deliver"]
    call = _call(call_id)
    assert (call.recording_status, call.recording_note) == ("none", "The call was never answered")
    [failed] = _deliveries(call_id)
    assert failed.status == "delivered"
    assert failed.payload["data"]["artifacts"] == {"transcript": "ready", "report": "ready", "recording": "none",
                                                   "recording_note": "The call was never answered"}  # fmt: skip


@pytest.mark.parametrize("never_rang", [True, False])
def test_a_placement_whose_worker_died_is_placed_again_only_where_that_cannot_ring_twice(
    account, jobs, scripted, receiver, monkeypatch, never_rang
):
    """A claimed placement that never stored its result: on a provider where that means it never rang
    (the simulator) the sweep places the call again; elsewhere it is closed, never dialled twice."""
    from tests.state.scripted import ScriptedProvider
    from webapp.extensions import db
    from webapp.models import Call, utcnow
    from webapp.services import calls, sweeps, tasks

    monkeypatch.setattr(ScriptedProvider, "unstored_placement_never_rang", never_rang, raising=False)
    jobs.run()
    task = tasks.create_task(account.org_id, task_fields(account.agent_id, f"{receiver.url}/hooks", ["call_failed"]))
    call_id = calls.execute_task(account.org_id, task.id).id
    jobs.drop()  # the worker took the placement job and died after claiming it
    claimed_at = utcnow() - timedelta(hours=1)
    db.session.execute(sa.update(Call).where(Call.id == call_id).values(placing_started_at=claimed_at))
    db.session.commit()

    assert sweeps.sweep()["closed"] == 1
    call = _call(call_id)
    if never_rang:
        assert (call.status, call.placing_started_at) == ("initiated", None)
        jobs.run()
        assert _call(call_id).provider_call_id == f"conv-{call_id}" and scripted.placed.count(call_id) == 1
    else:
        assert (call.status, call.failure_reason) == ("failed", "provider_error")
        jobs.run()
        assert call_id not in scripted.placed


def test_a_job_taken_by_a_worker_that_died_before_starting_it_is_dispatched_again(account, jobs, receiver):
    """The waiting marker names its RQ job: once that job is no longer waiting (a worker took it and
    died before job_started), the sweep queues the work again instead of trusting the marker."""
    from rq.job import JobStatus

    from webapp.queues import queue
    from webapp.services import calls, sweeps, tasks

    jobs.run()
    task = tasks.create_task(account.org_id, task_fields(account.agent_id, f"{receiver.url}/hooks", ["call_started"]))
    call_id = calls.execute_task(account.org_id, task.id).id
    assert sweeps.sweep()["placed"] == 0  # its job waits in the queue: left alone
    [taken] = queue("calls").jobs
    queue("calls").remove(taken)
    taken.set_status(JobStatus.STARTED)  # as RQ does on dequeue; the worker dies right there
    assert sweeps.sweep()["placed"] == 1
    jobs.run()
    assert _call(call_id).provider_call_id == f"conv-{call_id}"


def test_a_transcript_refresh_racing_the_poller_stores_each_turn_once(account, jobs, scripted, fast_app):
    """POST /calls/{id}/transcript and the poller write the same new turns at once: neither fails
    (it was a 500 from the unique position of a turn), and each turn is stored once."""
    from webapp.extensions import db
    from webapp.services import calls, engine

    call_id = account.call(jobs)
    scripted.snapshots[_provider_id(call_id)] = CallSnapshot(status="in_progress", turns=turns(3))
    scripted.finals[_provider_id(call_id)] = CallSnapshot(status="in_progress", turns=turns(3))
    barrier = threading.Barrier(2)
    errors = []

    def racer(action):
        with fast_app.app_context():
            try:
                barrier.wait(timeout=10)
                action()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    for _ in range(5):  # the race is won either way; each round adds one turn both writers see
        snapshot = scripted.snapshots[_provider_id(call_id)]
        grown = CallSnapshot(status="in_progress", turns=turns(len(snapshot.turns) + 1))
        scripted.snapshots[_provider_id(call_id)] = scripted.finals[_provider_id(call_id)] = grown
        threads = [threading.Thread(target=racer, args=(action,)) for action in (
            lambda: engine.sync_call(_call(call_id)),
            lambda: calls.refresh_transcript(account.org_id, call_id))]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        assert [turn.position for turn in _call(call_id).turns] == list(range(len(grown.turns)))
