"""Reading ElevenLabs conversation objects (GET /v1/convai/conversations/{id}, and the data
of post_call_transcription webhooks) into CallSnapshots."""

from __future__ import annotations

import json

from ..base import CallSnapshot, Turn
from . import termination as termination_module

WORDS_PER_SECOND = 2.5
STATUS = {
    "initiated": "initiated",
    "in-progress": "in_progress",
    "processing": "in_progress",
    "done": "completed",
    "failed": "failed",
}
SUCCESS = {"success": True, "failure": False}
TERMINATION_REASON_MAX = 200  # the column's size; the text is otherwise stored verbatim


def turns(transcript: list[dict], duration: float | None = None) -> tuple[Turn, ...]:
    spoken = [t for t in transcript or [] if t.get("role") in ("agent", "user") and (t.get("message") or "").strip()]
    result = []
    for i, item in enumerate(spoken):
        start = float(item.get("time_in_call_secs") or 0)
        text = item["message"].strip()
        estimate = start + max(len(text.split()), 1) / WORDS_PER_SECOND
        following = float(spoken[i + 1].get("time_in_call_secs") or 0) if i + 1 < len(spoken) else None
        if following is not None and following > start:
            end = following
        elif following is None and duration and duration > start:
            end = min(estimate, duration)
        else:
            end = estimate
        result.append(Turn(role=item["role"], text=text, start_seconds=start, end_seconds=end))
    return tuple(result)


def tool_events(transcript: list[dict]) -> tuple[dict, ...]:
    events = []
    for item in transcript or []:
        for call in item.get("tool_calls") or []:
            try:
                params = json.loads(call.get("params_as_json") or "{}")
            except ValueError:
                params = {}
            events.append(
                {
                    "type": "tool_call",
                    "tool": call.get("tool_name"),
                    "params": params,
                    "at_seconds": float(item.get("time_in_call_secs") or 0),
                }
            )
    return tuple(events)


def analysis(data: dict | None) -> dict | None:
    if not data:
        return None
    collected = data.get("data_collection_results") or {}
    criteria = data.get("evaluation_criteria_results") or {}
    return {
        "summary": data.get("transcript_summary"),
        "title": data.get("call_summary_title"),
        "call_successful": SUCCESS.get(data.get("call_successful")),
        "data_collection": {key: (value or {}).get("value") for key, value in collected.items()},
        "evaluation": {
            key: {
                "result": (value or {}).get("result"),
                "rationale": (value or {}).get("rationale"),
            }
            for key, value in criteria.items()
        },
    }


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _tools_called(events: tuple[dict, ...]) -> set[str]:
    return {event.get("tool") for event in events if event.get("type") == "tool_call" and event.get("tool")}


def snapshot(conversation: dict, *, final: bool = False, answered_by: str | None = None) -> CallSnapshot:
    """A CallSnapshot of a conversation. `final`: it has ended (post-call webhook), so a
    status still reported as running counts as done. `answered_by`: Twilio's answering-machine
    verdict, when the answering_machine_detection webhook brought one."""
    metadata = conversation.get("metadata") or {}
    phone_call = metadata.get("phone_call") or {}
    raw_status = conversation.get("status") or "initiated"
    if final and raw_status != "failed":
        raw_status = "done"
    status = STATUS.get(raw_status, "in_progress")
    call_result = phone_call.get("call_result")
    termination = (metadata.get("termination_reason") or "")[:TERMINATION_REASON_MAX] or None
    error = metadata.get("error") or {}
    events = tool_events(conversation.get("transcript") or [])
    if answered_by:
        events += ({"type": "answering_machine_detection", "answered_by": answered_by},)
    failure_reason = end = error_message = None
    if status == "completed":
        ending = termination_kind(termination, events, call_result, answered_by)
        status, end, failure_reason = ending.status, ending.end_reason, ending.failure_reason
    elif status == "failed":
        ending = termination_kind(termination, events, call_result, answered_by)
        failure_reason = ending.failure_reason or "provider_error"
    if failure_reason == "provider_error":
        error_message = error.get("reason") or termination or "The call failed at the provider."
    duration = _number(metadata.get("call_duration_secs"))
    terminal = status in ("completed", "failed")
    return CallSnapshot(
        status=status,
        turns=turns(conversation.get("transcript") or [], duration if terminal else None),
        failure_reason=failure_reason,
        end_reason=end,
        duration_seconds=duration if (terminal or duration) else None,
        analysis=analysis(conversation.get("analysis")),
        events=events,
        cost_credits=_number(metadata.get("cost")),
        cost_usd=_number(metadata.get("cost_fiat")),
        termination_reason=termination,
        error_message=error_message,
    )


def termination_kind(termination, events, call_result, answered_by) -> termination_module.Ending:
    return termination_module.classify(
        termination, tools_called=_tools_called(events), call_result=call_result, answered_by=answered_by
    )
