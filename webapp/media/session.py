"""What the media bridge needs from the application: the call behind a stream, the agent's
signed URL, and a writer that records what happens (turns, events, verdicts) and talks to
Twilio's REST API off the audio path.

One writer thread per process runs those jobs in order, so a call's verdict is committed
before the hang-up or transfer that follows it, and no audio waits for the database."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import replace

import redis
from flask import current_app

from .. import events
from ..extensions import db
from ..models import Call
from ..services import engine, provider_gateway
from ..telephony.base import CallSnapshot, ProviderError
from ..telephony.dynamic_variables import values as dynamic_variable_values
from ..telephony.twilio.bridge import CallContext, Hooks, StreamRefused
from . import tokens

log = logging.getLogger(__name__)

PROVIDER = "twilio"
STREAM_PATH = "/media/twilio"  # on the media process (server.py)


def control_key(call_id: str) -> str:
    """The fan-out key of a call's bridge controls (never a call id, so live sockets don't see them)."""
    return f"bridge:{call_id}"


def send_control(call_id: str, message: dict) -> None:
    """Tell the bridge of a call, in whichever media process holds it, e.g. an AMD verdict."""
    from ..queues import redis_client

    events.publish(redis_client(), current_app.config["REDIS_NAMESPACE"], control_key(call_id), message)


class Writer:
    """One thread per process running bridge jobs in order, each in an app context."""

    def __init__(self, app):
        self.app = app
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="media-writer", daemon=True)
        self.thread.start()

    def submit(self, job, *args) -> None:
        self.jobs.put((job, args))

    def _run(self) -> None:
        while True:
            job, args = self.jobs.get()
            with self.app.app_context():
                try:
                    job(*args)
                except Exception:  # noqa: BLE001 - one failed job must not stop the writer
                    log.exception("media bridge job %s failed", getattr(job, "__name__", job))
                    db.session.rollback()
                finally:
                    db.session.remove()
                    self.jobs.task_done()

    def wait_idle(self, timeout: float) -> bool:
        """Until every job submitted so far has run (at most `timeout` seconds); True if they did."""
        deadline = time.monotonic() + timeout
        while self.jobs.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.jobs.unfinished_tasks


_writers: dict[int, Writer] = {}
_writers_lock = threading.Lock()


def writer_for(app) -> Writer:
    with _writers_lock:
        if id(app) not in _writers:
            _writers[id(app)] = Writer(app)
        return _writers[id(app)]


HANG_UP_SECONDS = 300


def _hang_up_key(call_id: str) -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}:bridge-hangup:{call_id}"


def note_hang_up(call_id: str, reason: str) -> None:
    """We are about to hang this call up on request: Twilio's `stop` that follows is not the callee."""
    from ..queues import redis_client

    try:
        redis_client().set(_hang_up_key(call_id), reason, ex=HANG_UP_SECONDS)
    except redis.RedisError as exc:
        log.warning("could not note the hang-up of call %s: %s", call_id, exc)


def requested_end(call_id: str, snapshot: CallSnapshot) -> CallSnapshot:
    """A `stop` or a Twilio `completed` after our own hang-up is `ended_via_api` (or cancelled),
    not the callee."""
    if snapshot.status != "completed" or snapshot.end_reason != "ended_by_callee":
        return snapshot
    from ..queues import redis_client

    try:
        reason = redis_client().get(_hang_up_key(call_id))
    except redis.RedisError:
        return snapshot
    if reason is None:
        return snapshot
    if reason.decode() == "cancelled":
        return replace(snapshot, status="failed", end_reason=None, failure_reason="cancelled",
                       error_message="Cancelled via the API")  # fmt: skip
    return replace(snapshot, end_reason=reason.decode())


def record(call_id: str, snapshot: CallSnapshot, provider_data: dict | None) -> None:
    call = db.session.get(Call, call_id)
    if call is None:
        return
    snapshot = requested_end(call_id, snapshot)
    if provider_data and any(call.provider_data.get(k) != v for k, v in provider_data.items()):
        call.provider_data = {**(call.provider_data or {}), **provider_data}
        if not engine.apply_snapshot(call, snapshot):
            db.session.commit()
        return
    engine.apply_snapshot(call, snapshot)


def hang_up(call_id: str, call_sid: str) -> None:
    try:
        provider_gateway.provider().end_call(call_sid)
    except ProviderError as exc:
        log.warning("could not hang up call %s: %s", call_id, exc.message)


def transfer(call_id: str, call_sid: str, to_number: str) -> None:
    try:
        provider_gateway.provider().transfer(call_sid, to_number)
    except ProviderError as exc:
        log.warning("could not transfer call %s: %s", call_id, exc.message)
        call = db.session.get(Call, call_id)
        if call is not None:
            call.error_message = f"The transfer to {to_number} failed: {exc.message}"
            db.session.commit()
        hang_up(call_id, call_sid)


def call_context(call: Call) -> CallContext:
    agent, task = call.agent, call.task
    return CallContext(
        call_id=call.id,
        agent_id=(call.provider_data or {}).get("agent_id") or agent.remote_agent_id,
        dynamic_variables=dynamic_variable_values(task.context_data, agent.dynamic_variables),
        first_message=task.starting_message or agent.starting_message,
        dtmf_rules=agent.dtmf_rules or {},
        voicemail_action=getattr(agent, "voicemail_action", None) or "hang_up",
        voicemail_message=getattr(agent, "voicemail_message", None),
    )


class AppHooks(Hooks):
    def __init__(self, app):
        self.app = app
        self.writer = writer_for(app)
        self.config = app.config

    def authorize(self, parameters: dict, call_sid: str) -> CallContext:
        call_id = str(parameters.get("call_id") or "")
        with self.app.app_context():
            if not tokens.check(str(parameters.get("token") or ""), call_id, call_sid):
                raise StreamRefused("the stream token is missing, expired or not for this call")
            try:
                call = db.session.get(Call, call_id)
                if call is None or call.provider != PROVIDER or not call.is_active:
                    raise StreamRefused("the call is not an active bridged call")
                context = call_context(call)
            finally:
                db.session.remove()
        if not context.agent_id:
            raise StreamRefused("the call's agent has no ElevenLabs agent")
        return context

    def agent_url(self, context: CallContext) -> str:
        with self.app.app_context():
            return provider_gateway.provider().signed_url(context.agent_id)

    def controls(self, call_id: str):
        fanout = events.fanout_for(self.config["REDIS_URL"], self.config["REDIS_NAMESPACE"])
        return fanout.watch(control_key(call_id))

    def release(self, call_id: str, inbox) -> None:
        fanout = events.fanout_for(self.config["REDIS_URL"], self.config["REDIS_NAMESPACE"])
        fanout.unwatch(control_key(call_id), inbox)

    def report(self, call_id: str, snapshot: CallSnapshot, provider_data: dict | None = None) -> None:
        self.writer.submit(record, call_id, snapshot, provider_data)

    def hang_up(self, call_id: str, call_sid: str) -> None:
        self.writer.submit(hang_up, call_id, call_sid)

    def transfer(self, call_id: str, call_sid: str, to_number: str) -> None:
        self.writer.submit(transfer, call_id, call_sid, to_number)
