"""/api/v1/calls on calls that really ran: list filters, detail with transcript and report, and the
sub-resources of a finished call."""

from urllib.parse import urlsplit

import pytest

from tests.api.helpers import assert_error, assert_ok, assert_page
from tests.support import wait_until

REPORT_KEYS = {"summary", "outcome", "call_successful", "extracted_data", "metrics", "source", "generated_at"}
METRIC_KEYS = {"duration_seconds", "turns", "agent_talk_seconds", "user_talk_seconds"}
TURN_KEYS = {"role", "text", "start_seconds", "end_seconds"}


@pytest.fixture
def calls(finished_calls):
    return finished_calls


def _ids(items) -> set[str]:
    return {item["id"] for item in items}


def test_list_filters_by_task_agent_and_status(calls):
    api = calls.tenant.api
    both = {calls.completed_call_id, calls.failed_call_id}
    assert _ids(assert_page(api.get("/calls"), total=2, limit=50, offset=0, has_more=False)) == both
    completed = assert_page(api.get("/calls?status=completed"), total=1, limit=50, offset=0, has_more=False)
    assert _ids(completed) == {calls.completed_call_id}
    failed = assert_page(api.get("/calls?status=failed"), total=1, limit=50, offset=0, has_more=False)
    assert _ids(failed) == {calls.failed_call_id}
    by_task = assert_page(api.get(f"/calls?task_id={calls.completed_task_id}"), total=1, limit=50, offset=0,
                          has_more=False)  # fmt: skip
    assert _ids(by_task) == {calls.completed_call_id}
    by_agent = assert_page(api.get(f"/calls?agent_id={calls.agent_ids[1]}"), total=1, limit=50, offset=0,
                           has_more=False)  # fmt: skip
    assert _ids(by_agent) == {calls.failed_call_id}
    mismatch = f"/calls?agent_id={calls.agent_ids[0]}&status=failed"
    assert assert_page(api.get(mismatch), total=0, limit=50, offset=0, has_more=False) == []
    assert len(assert_page(api.get("/calls?limit=1"), total=2, limit=1, offset=0, has_more=True)) == 1
    assert len(assert_page(api.get("/calls?limit=1&offset=1"), total=2, limit=1, offset=1, has_more=False)) == 1


def test_list_refuses_an_unknown_status(calls):
    _, details = assert_error(calls.tenant.api.get("/calls?status=ringing"), 400)
    assert list(details) == ["status"]


def test_list_items_leave_out_the_transcript(calls):
    item = assert_ok(calls.tenant.api.get("/calls?status=completed"), paginated=True)[0]
    assert "transcript" not in item and "report" not in item
    assert item["task_id"] == calls.completed_task_id and item["agent_id"] == calls.agent_ids[0]


def test_get_a_completed_call_with_transcript_and_report(calls):
    call = assert_ok(calls.tenant.api.get(f"/calls/{calls.completed_call_id}"))
    assert call["status"] == "completed" and call["failure_reason"] is None
    assert call["end_reason"] in ("ended_by_agent", "ended_by_callee")
    assert call["to_number"] == "+14155550123" and call["provider"] == "simulated"
    assert call["transcript"], "a completed conversation has turns"
    assert all(set(turn) == TURN_KEYS and turn["role"] in ("agent", "user") for turn in call["transcript"])
    starts = [turn["start_seconds"] for turn in call["transcript"]]
    assert starts == sorted(starts)
    assert set(call["report"]) == REPORT_KEYS and set(call["report"]["metrics"]) == METRIC_KEYS
    assert call["report"]["metrics"]["turns"] == len(call["transcript"])


def test_get_a_failed_call_names_the_failure(calls):
    call = assert_ok(calls.tenant.api.get(f"/calls/{calls.failed_call_id}"))
    assert call["status"] == "failed" and call["failure_reason"] == "busy"
    assert call["transcript"] == []


def test_transcript_and_report_endpoints_match_the_detail(calls):
    api = calls.tenant.api
    call = assert_ok(api.get(f"/calls/{calls.completed_call_id}"))
    transcript = assert_ok(api.get(f"/calls/{calls.completed_call_id}/transcript"))
    assert transcript == {"call_id": call["id"], "status": "completed", "transcript": call["transcript"]}
    assert assert_ok(api.get(f"/calls/{calls.completed_call_id}/report")) == call["report"]
    failed_report = assert_ok(api.get(f"/calls/{calls.failed_call_id}/report"))
    assert set(failed_report) == REPORT_KEYS and failed_report["call_successful"] is not True


def test_refetching_the_transcript_regenerates_the_report(calls):
    api = calls.tenant.api
    stored = assert_ok(api.get(f"/calls/{calls.completed_call_id}/transcript"))["transcript"]
    refreshed = assert_ok(api.post(f"/calls/{calls.completed_call_id}/transcript"))
    assert set(refreshed) == {"call_id", "transcript", "extracted_data", "report"}
    assert refreshed["transcript"] == stored
    assert set(refreshed["report"]) == REPORT_KEYS
    assert refreshed["extracted_data"] == refreshed["report"]["extracted_data"]


def test_recording_of_a_completed_call_is_a_proxy_url_that_streams(calls):
    api = calls.tenant.api

    def has_recording():
        return api.get(f"/calls/{calls.completed_call_id}").get_json()["data"]["has_recording"]

    wait_until(has_recording, timeout=30, message="the recording to be stored")
    data = assert_ok(api.get(f"/calls/{calls.completed_call_id}/recording"))
    url = urlsplit(data["recording_url"])
    assert url.path == f"/api/v1/calls/{calls.completed_call_id}/recording/stream" and url.query.startswith("token=")
    audio = api.get(f"/calls/{calls.completed_call_id}/recording/stream")
    assert audio.status_code == 200 and audio.mimetype == data["content_type"]
    assert audio.data[:4] == b"RIFF"
    # the signed URL needs no Authorization header (an <audio src>), for this call only
    signed = api.client.get(f"{url.path}?{url.query}")
    assert signed.status_code == 200 and signed.data == audio.data
    other = api.client.get(f"/api/v1/calls/{calls.failed_call_id}/recording/stream?{url.query}")
    assert other.status_code == 401
    assert api.client.get(f"{url.path}?token=forged").status_code == 401
    head = api.get(f"/calls/{calls.completed_call_id}/recording/stream", headers={"Range": "bytes=0-3"})
    assert head.status_code == 206 and head.data == b"RIFF"
    assert head.headers["Content-Range"] == f"bytes 0-3/{len(audio.data)}"
    error, _ = assert_error(api.get(f"/calls/{calls.failed_call_id}/recording"), 404)
    assert "Recording" in error


def test_live_info_for_a_call(calls):
    data = assert_ok(calls.tenant.api.get(f"/calls/{calls.completed_call_id}/live"))
    assert data["call_id"] == calls.completed_call_id
    assert data["websocket_url"].endswith(f"/ws/calls/{calls.completed_call_id}")
    types = ["connected", "transcript_update", "call_status_update", "error", "pong"]
    assert data["connection_info"]["message_types"] == types


@pytest.mark.parametrize("action", ["end", "cancel"])
def test_ending_a_finished_call_is_a_conflict(calls, action):
    error, details = assert_error(calls.tenant.api.post(f"/calls/{calls.completed_call_id}/{action}"), 409)
    assert error == "The call is already over (completed)"
    assert details == {"status": "completed"}


def test_webhook_deliveries_are_empty_without_a_webhook(calls):
    assert assert_ok(calls.tenant.api.get(f"/calls/{calls.completed_call_id}/webhook-deliveries")) == []


def test_unknown_call_is_404(calls):
    error, _ = assert_error(calls.tenant.api.get("/calls/00000000-0000-0000-0000-000000000000"), 404)
    assert error == "Call not found"
