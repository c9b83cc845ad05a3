"""Ending a live ElevenLabs call goes through Twilio's REST API; without Twilio credentials the
API answers 409 and the call goes on."""

import pytest

from tests.provider.helpers import freeze, placed, start_call
from tests.support import wait_until

pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated")


def test_end_call_through_twilio_and_409_without_credentials(account, emulator, app_without_twilio):
    call_id = start_call(account)
    placed(account, call_id)
    call = wait_until(
        lambda: (c := account.http.data(f"/calls/{call_id}"))["status"] == "in_progress" and c,
        message="the call answered",
    )
    freeze(emulator, call["provider_call_id"])  # it stays in progress until we end it
    call_sid = emulator.calls[call["provider_call_id"]].call_sid

    refused = app_without_twilio.test_client().post(
        f"/api/v1/calls/{call_id}/end", headers={"Authorization": f"Bearer {account.key}"}
    )
    assert refused.status_code == 409, refused.get_json()
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in refused.get_json()["error"]
    assert account.http.data(f"/calls/{call_id}")["status"] == "in_progress"
    assert not emulator.requests_to("POST", f"/2010-04-01/Accounts/{emulator.twilio_account_sid}/Calls/{call_sid}")

    ended = account.http.post(f"/calls/{call_id}/end")
    assert ended.status_code == 200, ended.text
    assert ended.json()["data"]["status"] == "completed"
    update = emulator.last_request("POST", f"/2010-04-01/Accounts/{emulator.twilio_account_sid}/Calls/{call_sid}.json")
    assert update is not None and update.form == {"Status": "completed"}
    assert emulator.twilio_statuses[call_sid] == "completed"

    call = account.http.data(f"/calls/{call_id}")
    assert (call["status"], call["end_reason"]) == ("completed", "ended_via_api")
    assert account.http.data(f"/tasks/{call['task_id']}")["status"] == "completed"
    again = account.http.post(f"/calls/{call_id}/end")
    assert again.status_code == 409 and "already over" in again.json()["error"]
