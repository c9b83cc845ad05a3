from urllib.parse import urlencode

from flask import Blueprint

from ..identity import Principal
from ..schemas.calls import (
    CallActionOut,
    CallDetailOut,
    CallListQuery,
    CallOut,
    CallTranscriptOut,
    LiveOut,
    RecordingOut,
    ReportOut,
    TranscriptRefreshOut,
    WebhookDeliveryOut,
)
from ..services import call_queries as queries
from ..services import calls as call_service
from ..services import live, recording_links, recordings, reports
from ..sockets import MESSAGE_TYPES
from ..urls import public_url, websocket_url
from . import queries as reads_of
from . import reads
from .endpoint import endpoint
from .envelope import ok

bp = Blueprint("calls", __name__, url_prefix="/calls")


@bp.get("")
@endpoint("List calls", query=CallListQuery, response=CallOut, many=True)
def list_calls(principal, query: CallListQuery):
    page = reads_of.list_calls(
        principal.organization_id,
        task_id=query.task_id,
        agent_id=query.agent_id,
        status=query.status,
        limit=query.limit,
        offset=query.offset,
    )
    return reads.respond_page(CallOut, page)


@bp.get("/<call_id>")
@endpoint("Get a call with its transcript and report", response=CallDetailOut, errors=(404,))
def get_call(principal, call_id: str):
    return reads.respond_model(CallDetailOut, reads_of.get_call(principal.organization_id, call_id))


@bp.get("/<call_id>/transcript")
@endpoint("Get the stored transcript", response=CallTranscriptOut, errors=(404,))
def get_transcript(principal, call_id: str):
    return reads.respond_model(CallTranscriptOut, reads_of.get_transcript(principal.organization_id, call_id))


@bp.post("/<call_id>/transcript")
@endpoint("Fetch the transcript from the provider again, reprocess it and regenerate the report",
          response=TranscriptRefreshOut, errors=(404, 503))  # fmt: skip
def refresh_transcript(principal, call_id: str):
    call = call_service.refresh_transcript(principal.organization_id, call_id)
    return ok(
        {
            "call_id": call.id,
            "transcript": call.transcript,
            "extracted_data": call.report["extracted_data"],
            "report": call.report,
        }  # fmt: skip
    )


@bp.get("/<call_id>/report")
@endpoint("Get the call report (generated now if missing)", response=ReportOut, errors=(404,))
def get_report(principal, call_id: str):
    stored = reads_of.stored_report(principal.organization_id, call_id)
    if stored is None:  # generated now (needs the call's agent and task), not stored
        return ok(reports.report_for(queries.get_call(principal.organization_id, call_id)))
    return reads.respond(stored)


@bp.get("/<call_id>/recording")
@endpoint("Get the recording's proxy URL", response=RecordingOut, errors=(404,))
def get_recording(principal, call_id: str):
    call = queries.get_call(principal.organization_id, call_id)
    recordings.file_for(call)
    token, expires_at = recording_links.issue(call.id, call.organization_id)
    url = public_url("api.calls.stream_recording", call_id=call.id)
    return ok(
        {
            "call_id": call.id,
            "content_type": call.recording_content_type,
            "recording_url": f"{url}?{urlencode({recording_links.QUERY_PARAM: token})}",
            "expires_at": expires_at.isoformat().replace("+00:00", "Z"),
        }  # fmt: skip
    )


def _recording_link_principal(token: str, view_args: dict) -> Principal:
    return Principal(organization_id=recording_links.organization_for(token, view_args["call_id"]))


AUDIO_SCHEMA = {"type": "string", "format": "binary", "description": "audio/wav (simulated) or audio/mpeg (ElevenLabs)"}


@bp.get("/<call_id>/recording/stream")
@endpoint("Stream the recording (supports Range requests)", errors=(404,), range_requests=True,
          signed_url=(recording_links.QUERY_PARAM, _recording_link_principal),
          raw_response={"audio/*": {"schema": AUDIO_SCHEMA}})  # fmt: skip
def stream_recording(principal, call_id: str):
    return recordings.stream(queries.get_call(principal.organization_id, call_id))


@bp.get("/<call_id>/live")
@endpoint("WebSocket connection information for the live transcript", response=LiveOut, errors=(404,))
def live_info(principal, call_id: str):
    call = queries.get_call(principal.organization_id, call_id)
    token, expires_at = live.issue_token(call.id, call.organization_id)
    url = websocket_url("sockets.call_socket", call_id=call.id)
    return ok(
        {
            "websocket_url": url,
            "call_id": call.id,
            "temp_token": token,
            "expires_at": expires_at.isoformat().replace("+00:00", "Z"),
            "connection_info": {
                "url": url,
                "auth_method": "query_param",
                "auth_param": "api_key",
                "temp_auth_param": "session_token",
                "example": f"{url}?api_key=YOUR_API_KEY",
                "example_session": f"{url}?session_token={token}",
                "message_format": "json",
                "message_types": MESSAGE_TYPES,
            },
        }
    )


@bp.post("/<call_id>/end")
@endpoint("End an active call (completed, ended_via_api)", response=CallActionOut, errors=(404, 409, 503))
def end_call(principal, call_id: str):
    call = call_service.hang_up(principal.organization_id, call_id, "ended_via_api")
    return ok({"call_id": call.id, "status": call.status, "message": "Call ended"})


@bp.post("/<call_id>/cancel")
@endpoint("Cancel an active call (failed, cancelled)", response=CallActionOut, errors=(404, 409, 503))
def cancel_call(principal, call_id: str):
    call = call_service.hang_up(principal.organization_id, call_id, "cancelled")
    return ok({"call_id": call.id, "status": call.status, "message": "Call cancelled"})


@bp.get("/<call_id>/webhook-deliveries")
@endpoint("Webhook deliveries for this call, with every attempt", response=WebhookDeliveryOut, many=True,
          errors=(404,))  # fmt: skip
def webhook_deliveries(principal, call_id: str):
    deliveries = reads_of.webhook_deliveries(principal.organization_id, call_id)
    return reads.respond_model(WebhookDeliveryOut, deliveries, many=True)
