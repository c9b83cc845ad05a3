"""Calls: a list that follows running calls, and a call page with the live transcript, controls,
and afterwards the recording, transcript, report and webhook delivery log."""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import jsonify, request, url_for

from ..errors import Conflict, Unavailable
from ..extensions import db
from ..models import Call, utcnow
from ..schemas.calls import CallStatus
from ..services import call_queries as queries
from ..services import calls as call_service
from ..services import live, recordings, reports, stats, webhooks
from .access import org_id
from .blueprint import bp
from .tasks import org_agents
from .views import id_or_blank, page_number, page_or_partial

PAGE_SIZE = 25
CALL_STATUSES = CallStatus.__args__
RECORDING_WAIT = timedelta(seconds=30)


def _filters() -> dict:
    status = request.args.get("status", "")
    return {
        "status": status if status in CALL_STATUSES else "",
        "agent_id": id_or_blank(request.args.get("agent_id", "")),
    }


@bp.get("/calls")
def calls_index():
    filters, page = _filters(), page_number()
    rows, total = queries.list_calls(
        org_id(), task_id=None, agent_id=filters["agent_id"] or None, status=filters["status"] or None,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    context = {"calls": rows, "total": total, "page": page, "page_size": PAGE_SIZE, "filters": filters,
               "statuses": CALL_STATUSES, "agents": org_agents(),
               "running": stats.anything_running(org_id())}  # fmt: skip
    return page_or_partial("dashboard/calls/index.html", "dashboard/calls/_list.html", **context)


def _settling(call: Call) -> bool:
    """Over, but the final transcript, report or recording is still on its way."""
    if call.is_active:
        return False
    if call.finalized_at is None:
        return True
    recording_due = call.answered_at is not None and call.provider_call_id and not call.recording_path
    return bool(recording_due) and utcnow() - call.finalized_at < RECORDING_WAIT


def socket_path(call: Call) -> str:
    """The API's live transcript socket; the browser adds its own host (ws:// or wss://)."""
    return urlsplit(url_for("sockets.call_socket", call_id=call.id)).path


def _detail_context(call: Call) -> dict:
    context = {"call": call, "settling": _settling(call)}
    if call.is_active:
        context["socket_token"], _ = live.issue_token(call.id, call.organization_id)
        context["socket_path"] = socket_path(call)
    else:
        context["report"] = reports.report_for(call) if call.finalized_at else None
        context["deliveries"] = webhooks.deliveries_for_call(org_id(), call.id)
    return context


@bp.get("/calls/<call_id>")
def call_detail(call_id: str):
    call = queries.get_call(org_id(), call_id)
    return page_or_partial("dashboard/calls/detail.html", "dashboard/calls/_detail.html", **_detail_context(call))


def _hang_up(call_id: str, reason: str):
    """End or cancel; a refusal (the call already ended, the provider is unreachable) is shown on the page."""
    call = queries.get_call(org_id(), call_id)
    try:
        call = call_service.hang_up(org_id(), call.id, reason, via="dashboard")
    except (Conflict, Unavailable) as exc:
        db.session.rollback()
        call = queries.get_call(org_id(), call_id)
        return page_or_partial("dashboard/calls/detail.html", "dashboard/calls/_detail.html", exc.status,
                               action_error=exc.message, **_detail_context(call))  # fmt: skip
    return page_or_partial("dashboard/calls/detail.html", "dashboard/calls/_detail.html", **_detail_context(call))


@bp.post("/calls/<call_id>/end")
def call_end(call_id: str):
    return _hang_up(call_id, "ended_via_api")


@bp.post("/calls/<call_id>/cancel")
def call_cancel(call_id: str):
    return _hang_up(call_id, "cancelled")


@bp.get("/calls/<call_id>/live-token")
def call_live_token(call_id: str):
    """A fresh token for the transcript socket (they last 5 minutes; long calls reconnect with a new one)."""
    call = queries.get_call(org_id(), call_id)
    token, expires_at = live.issue_token(call.id, call.organization_id)
    return jsonify({"token": token, "expires_at": expires_at.isoformat(), "active": call.is_active,
                    "socket_path": socket_path(call)})  # fmt: skip


@bp.get("/calls/<call_id>/recording")
def call_recording(call_id: str):
    """The recording for the page's <audio> player, with Range support (session authenticated)."""
    return recordings.stream(queries.get_call(org_id(), call_id))
