"""Where the real ElevenLabs service behaves differently from what a naive client assumes, end to
end against the emulator (which does what the real service does): missing dynamic variables,
overrides that are not enabled, voicemail, end reasons, recordings after a 5xx."""

from tests.emulators import SILENT_NUMBER, UNKNOWN_ENDING_NUMBER, VOICEMAIL_NUMBER
from tests.provider.helpers import CALLEE, OUTBOUND_CALL, execute, finished, placed, synced_agent
from tests.support import wait_until

GREETING = "Hello {{customer_name}}, this is Acme about your {{plan}} plan."


def _refused(response, *names):
    body = response.json()
    assert response.status_code == 400, body
    assert body["error"] == "Missing required dynamic variables: " + ", ".join(names)
    assert sorted(body["details"]) == sorted(f"context_data.{name}" for name in names)


def test_variables_without_a_value_or_default_are_refused_and_defaults_reach_elevenlabs(account, emulator):
    agent = synced_agent(
        account,
        system_prompt="You talk to {{customer_name}} about {{plan}}; today is {{system__time}}.",
        starting_message=GREETING,
        dynamic_variables={"plan": "Gold"},
    )
    remote = emulator.agents[agent["remote_agent_id"]]["conversation_config"]["agent"]
    assert remote["dynamic_variables"] == {"dynamic_variable_placeholders": {"plan": "Gold"}}

    body = {"agent_id": agent["id"], "name": "No name", "to_number": CALLEE, "context_data": {"order_id": "A-1"}}
    _refused(account.http.post("/tasks", json=body), "customer_name")  # plan has a default; system__ is theirs

    task = account.task(agent["id"], context_data={"customer_name": "Jane Roe"})
    call = finished(account, execute(account, task["id"]))
    assert (call["status"], call["end_reason"]) == ("completed", "ended_by_agent"), call
    sent = emulator.last_request("POST", OUTBOUND_CALL).json["conversation_initiation_client_data"]
    assert sent["dynamic_variables"] == {"plan": "Gold", "customer_name": "Jane Roe"}
    assert call["transcript"][0]["text"] == "Hello Jane Roe, this is Acme about your Gold plan."


def test_execute_refuses_a_task_whose_agent_now_needs_a_variable_it_lacks(account, emulator):
    agent = synced_agent(account, starting_message="Hello {{customer_name}}.")
    task = account.task(agent["id"], context_data={"customer_name": "Jane Roe"})
    updated = account.http.patch(f"/agents/{agent['id']}", json={"starting_message": "Hi {{nickname}} ({{tier}})"})
    assert updated.status_code == 200, updated.text

    _refused(account.http.post(f"/tasks/{task['id']}/execute"), "nickname", "tier")
    assert account.http.data(f"/tasks/{task['id']}")["status"] == "pending"
    assert account.http.data(f"/calls?task_id={task['id']}") == []


def test_a_call_missing_a_variable_is_ended_by_elevenlabs(account, emulator):
    """What the check prevents: the emulator, like ElevenLabs, ends such a conversation at once."""
    agent = synced_agent(account, starting_message="Hello {{customer_name}}.")
    task = account.task(agent["id"], context_data={"customer_name": "Jane Roe"})
    remote = emulator.agents[agent["remote_agent_id"]]["conversation_config"]["agent"]
    remote["prompt"]["prompt"] += " Mention order {{order_id}}."  # edited in their dashboard

    call = finished(account, execute(account, task["id"]))
    assert (call["status"], call["failure_reason"]) == ("failed", "provider_error"), call
    assert call["error_message"] == "Missing required dynamic variables in prompt: order_id"


def test_an_override_refused_by_elevenlabs_resyncs_the_whitelist_and_retries_once(account, emulator):
    agent = synced_agent(account, starting_message="Hello {{customer_name}}.")
    # Someone saves the agent in the ElevenLabs dashboard: the override whitelist is gone.
    emulator.agents[agent["remote_agent_id"]]["platform_settings"]["overrides"] = {}
    patches = len(emulator.requests_to("PATCH", f"/v1/convai/agents/{agent['remote_agent_id']}"))
    task = account.task(agent["id"], starting_message="Hi {{customer_name}}, a quick question.")

    call = finished(account, execute(account, task["id"]))

    assert (call["status"], call["end_reason"]) == ("completed", "ended_by_agent"), call
    assert call["transcript"][0]["text"] == "Hi Jane Roe, a quick question."
    assert len(emulator.requests_to("POST", OUTBOUND_CALL)) >= 2
    assert len(emulator.requests_to("PATCH", f"/v1/convai/agents/{agent['remote_agent_id']}")) == patches + 1
    overrides = emulator.agents[agent["remote_agent_id"]]["platform_settings"]["overrides"]
    assert overrides["conversation_config_override"]["agent"]["first_message"] is True


def test_voicemail_is_read_from_the_tool_call_and_termination_reason(account, emulator):
    """Real conversations that reach a voicemail say call_result "answered"."""
    agent = synced_agent(account, ringing_timeout_secs=25)
    call = finished(account, execute(account, account.task(agent["id"], to_number=VOICEMAIL_NUMBER)["id"]))

    assert (call["status"], call["failure_reason"]) == ("failed", "voicemail"), call
    assert call["termination_reason"] == "voicemail_detection tool was called."
    conversation = emulator.conversation(call["provider_call_id"])
    assert conversation["metadata"]["phone_call"]["call_result"] == "answered"
    telephony = emulator.last_request("POST", OUTBOUND_CALL).json["telephony_call_config"]
    assert telephony["ringing_timeout_secs"] == 25
    assert telephony["twilio_machine_detection"]["mode"] == "enable"


def test_a_machine_verdict_from_the_answering_machine_webhook_makes_it_a_voicemail(account, emulator, site):
    agent = synced_agent(account)
    call_id = execute(account, account.task(agent["id"], to_number=CALLEE)["id"])
    conversation_id = placed(account, call_id)["provider_call_id"]

    answer = emulator.send_elevenlabs_webhook(
        f"{site.url}/webhooks/elevenlabs", "answering_machine_detection", conversation_id, answered_by="machine_start"
    )
    assert answer.status_code == 200 and answer.json()["applied"] is True, answer.text

    call = finished(account, call_id)
    assert (call["status"], call["failure_reason"]) == ("failed", "voicemail"), call
    assert {"type": "answering_machine_detection", "answered_by": "machine_start"} in call["events"]


def test_end_reasons_follow_the_documented_termination_texts(account):
    agent = synced_agent(account)
    silent = execute(account, account.task(agent["id"], to_number=SILENT_NUMBER)["id"])
    unknown = execute(account, account.task(agent["id"], to_number=UNKNOWN_ENDING_NUMBER)["id"])

    call = finished(account, silent)
    assert (call["status"], call["end_reason"], call["termination_reason"]) == (
        "completed",
        "silence_timeout",
        "Silence timeout",
    )
    call = finished(account, unknown)
    assert (call["status"], call["end_reason"]) == ("completed", "other")
    assert call["termination_reason"] == "Non retryable error during text to speech"  # verbatim


def test_cost_in_credits_and_usd_and_a_recording_fetched_again_after_a_5xx(account, emulator):
    agent = synced_agent(account)
    call_id = execute(account, account.task(agent["id"])["id"])
    conversation_id = placed(account, call_id)["provider_call_id"]
    audio = f"/v1/convai/conversations/{conversation_id}/audio"
    emulator.fail_next(503, path_prefix=audio)

    call = finished(account, call_id)
    assert call["cost_credits"] > 0 and 0 < call["cost_usd"] < 1
    wait_until(lambda: account.http.data(f"/calls/{call_id}")["has_recording"], message="the recording stored")
    assert len(emulator.requests_to("GET", audio)) >= 2
