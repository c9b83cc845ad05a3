"""Bridged calls end to end: each scenario of the issue, over loopback."""

import pytest

from tests.bridge.helpers import bridged_call, finished, twilio_hung_up


def test_normal_call(account, emulators):
    call_id, number, agent_id = bridged_call(account, emulators)
    call = finished(account, call_id)
    assert call["status"] == "completed", call
    assert call["end_reason"] == "ended_by_agent"
    texts = [(t["role"], t["text"]) for t in call["transcript"]]
    assert texts[0] == ("agent", "Hello Jane Roe, this is Acme about order A-1001.")
    assert ("user", "Yes, that's me.") in texts
    line = emulators.twilio.line_for(number)
    params = line.params
    assert params["MachineDetection"] == "DetectMessageEnd" and params["AsyncAmd"] == "true"
    assert params["Record"] == "true" and params["RecordingChannels"] == "dual"
    conversation = emulators.sockets.conversation_for(agent_id)
    assert conversation.initiation["dynamic_variables"]["customer_name"] == "Jane Roe"
    assert conversation.ended_by == "agent"
    # the goodbye was played to the end before the hang-up: every mark came back
    sent_marks = [m["mark"]["name"] for m in line.received if m["event"] == "mark"]
    assert sent_marks and set(sent_marks) <= set(line.marks_echoed)


def _events(call, kind):
    return [e for e in call["events"] if e.get("type") == kind]


def test_barge_in_clears_twilio_and_drops_the_interrupted_audio(account, emulators):
    def callee(line):
        line.wait_speaking()
        line.pause(0.6)
        line.say(1.0)
        line.wait_end()

    def agent(c):
        long = "Hello Jane, I am calling about your order and I would like to go through all of its details with you"
        assert not c.say(long + " one by one, starting with the delivery address.", interruptible=True)
        c.user_said("Sorry, I am busy right now.")
        c.say("No problem, goodbye.")
        c.end()

    call_id, number, agent_id = bridged_call(account, emulators, callee=callee, script=agent)
    call = finished(account, call_id)
    assert call["status"] == "completed" and call["end_reason"] == "ended_by_agent", call
    line = emulators.twilio.line_for(number)
    kinds = [m["event"] for m in line.received]
    assert "clear" in kinds
    cleared_at = kinds.index("clear")
    interrupted = {m["mark"]["name"].split(".")[0] for m in line.received[:cleared_at] if m["event"] == "mark"}
    after = [m["mark"]["name"].split(".")[0] for m in line.received[cleared_at:] if m["event"] == "mark"]
    assert after and not interrupted & set(after), "audio of the interrupted response was sent after the clear"
    assert [t["text"] for t in call["transcript"]][-2:] == ["Sorry, I am busy right now.", "No problem, goodbye."]


def test_callee_key_presses_follow_the_dtmf_rules(account, emulators):
    def callee(line):
        line.wait_agent()
        line.press("1")
        line.pause(0.5)
        line.press("9")
        line.wait_end()

    def agent(c):
        c.say(c.fill("Hello {{customer_name}}, press 1 to confirm or 9 to opt out."))
        assert "confirmed" in c.wait_context("key 1")
        assert "opt out" in c.wait_context("key 9")
        c.say("Understood, you will not be called again. Goodbye.")
        c.end()

    rules = {"inputs": {"1": {"action": "confirm"}, "9": {"action": "opt_out"}}}
    call_id, _, _ = bridged_call(account, emulators, callee=callee, script=agent, agent_fields={"dtmf_rules": rules})
    call = finished(account, call_id)
    assert call["status"] == "completed", call
    presses = [(e["digit"], e.get("action")) for e in _events(call, "dtmf")]
    assert presses == [("1", "confirm"), ("9", "opt_out")]
    assert call["report"]["extracted_data"]["dtmf"]["digits"] == "19"


def test_agent_navigates_a_phone_menu_with_real_tones(account, emulators):
    def ivr(line):
        line.wait_keys("2")  # the navigation rule, heard as DTMF tones (Goertzel)
        line.wait_keys("2#")  # then the agent's press_keys tool
        line.say(1.0)  # a person picks up
        line.wait_end()

    def agent(c):
        c.user_said("Welcome to Acme. For billing press 1. Press 2 for deliveries.")
        c.pause(1.5)
        result = c.tool("press_keys", {"digits": "#"})
        assert result["is_error"] is False and result["result"] == "Pressed #"
        c.hear("Deliveries, this is Sam.")
        c.say("Hi Sam, I am calling about order A-1001. Goodbye.")
        c.end()

    rules = {"navigation": [{"when": "press 2 for deliveries", "press": "2"}]}
    call_id, number, _ = bridged_call(account, emulators, callee=ivr, script=agent, agent_fields={"dtmf_rules": rules})
    call = finished(account, call_id)
    assert call["status"] == "completed", call
    assert [e["digits"] for e in _events(call, "keys_sent")] == ["2", "#"]


def test_answering_machine_hangs_up_as_voicemail(account, emulators):
    def machine(line):
        line.say(2.0)  # the greeting, then the beep
        line.wait_end()

    def agent(c):
        c.say("Hello, is this Jane?")
        c.wait_closed()

    number = "+14155557001"
    emulators.twilio.machines[number] = "machine_end_beep"
    call_id, _, _ = bridged_call(account, emulators, callee=machine, script=agent, to_number=number)
    call = finished(account, call_id)
    assert call["status"] == "failed" and call["failure_reason"] == "voicemail", call
    assert _events(call, "answering_machine")[0]["action"] == "hang_up"
    twilio_hung_up(emulators, number)


def test_transfer_key_dials_the_number(account, emulators):
    def callee(line):
        line.wait_agent()
        line.press("0")
        line.wait_end()

    def agent(c):
        c.say("Hello, press 0 to speak with a person.")
        c.wait_closed()

    rules = {"inputs": {"0": {"action": "transfer", "to_number": "+14155550100"}}}
    fields = {"dtmf_rules": rules}
    call_id, number, _ = bridged_call(account, emulators, callee=callee, script=agent, agent_fields=fields)
    call = finished(account, call_id)
    assert call["status"] == "completed" and call["end_reason"] == "transferred", call
    assert _events(call, "transferred")[0]["to_number"] == "+14155550100"
    assert emulators.twilio.line_for(number).transferred_to == "+14155550100"


def test_agent_transfer_tool(account, emulators):
    def agent(c):
        c.say("Let me get you a colleague.")
        assert c.tool("transfer_call", {})["is_error"] is False
        c.wait_closed()

    rules = {"inputs": {"0": {"action": "transfer", "to_number": "+14155550101"}}}
    call_id, number, _ = bridged_call(account, emulators, script=agent, agent_fields={"dtmf_rules": rules})
    call = finished(account, call_id)
    assert call["end_reason"] == "transferred", call
    assert emulators.twilio.line_for(number).transferred_to == "+14155550101"


def test_callee_hangs_up_first(account, emulators):
    def callee(line):
        line.wait_agent()
        line.hang_up()

    def agent(c):
        c.say("Hello, this is Acme.")
        c.wait_closed()

    call_id, _, agent_id = bridged_call(account, emulators, callee=callee, script=agent)
    call = finished(account, call_id)
    assert call["status"] == "completed" and call["end_reason"] == "ended_by_callee", call
    assert emulators.sockets.conversation_for(agent_id).ended_by == "client"


def _drops_its_socket(c):
    c.say("Hello, this is Acme.")
    c.drop()


def _sends_an_unreadable_message(c):
    c.say("Hello, this is Acme.")
    c.send({"type": "audio", "audio_event": {"audio_base_64": "//8=", "event_id": "not-a-number"}})
    c.wait_closed()


@pytest.mark.parametrize(
    ("agent", "reason"),
    [(_drops_its_socket, "agent connection dropped"), (_sends_an_unreadable_message, "a message could not be handled")],
    ids=["socket-dropped", "unreadable-message"],
)
def test_an_agent_side_failure_ends_the_call_and_hangs_up(account, emulators, agent, reason):
    call_id, number, _ = bridged_call(account, emulators, script=agent)
    call = finished(account, call_id)
    assert call["status"] == "failed" and call["failure_reason"] == "provider_error", call
    assert reason in call["error_message"]
    twilio_hung_up(emulators, number)


@pytest.mark.parametrize("callbacks_first", [False, True], ids=["answer-first", "callbacks-first"])
def test_end_via_api_hangs_up_through_twilio(account, emulators, callbacks_first):
    """Whichever reaches us first, Twilio's answer to the hang-up or its `completed` callback
    (and the stream's stop), the call is recorded as ended via the API."""
    emulators.twilio.callbacks_before_hang_up_answer = callbacks_first

    def agent(c):
        c.say("Hello, this is Acme.")
        c.wait_closed()

    call_id, number, agent_id = bridged_call(account, emulators, script=agent)
    from tests.support import wait_until

    wait_until(lambda: account.http.data(f"/calls/{call_id}")["transcript"], message="the greeting")
    assert account.http.post(f"/calls/{call_id}/end").status_code == 200
    call = finished(account, call_id)
    assert call["status"] == "completed" and call["end_reason"] == "ended_via_api", call
    wait_until(lambda: emulators.sockets.conversation_for(agent_id).closed, message="the agent socket closed")
    twilio_hung_up(emulators, number)


def test_answering_machine_gets_the_agents_voicemail_message(account, emulators):
    def machine(line):
        line.say(2.0)  # the greeting, then the beep
        line.wait_end()

    def agent(c):
        c.say("Hello, is this Jane?")
        text = c.wait_context("voicemail")
        message = text.split(": ", 1)[1]
        c.say(message)
        c.end()

    number = "+14155557002"
    emulators.twilio.machines[number] = "machine_end_beep"
    fields = {"voicemail_action": "leave_message", "voicemail_message": "Hi Jane, Acme here, please call us back."}
    call_id, _, _ = bridged_call(account, emulators, callee=machine, script=agent, to_number=number,
                                 agent_fields=fields)  # fmt: skip
    call = finished(account, call_id)
    assert call["status"] == "failed" and call["failure_reason"] == "voicemail", call
    assert "left a message" in call["error_message"]
    assert call["transcript"][-1]["text"] == "Hi Jane, Acme here, please call us back."
    assert _events(call, "answering_machine")[0]["action"] == "leave_message"


def test_agent_with_the_wrong_audio_format_fails_the_call(account, emulators):
    emulators.sockets.audio_format = "pcm_16000"
    try:
        call_id, number, _ = bridged_call(account, emulators)
        call = finished(account, call_id)
    finally:
        emulators.sockets.audio_format = "ulaw_8000"
    assert call["status"] == "failed" and call["failure_reason"] == "provider_error", call
    assert "ulaw_8000" in call["error_message"]
    twilio_hung_up(emulators, number)


def test_busy_and_unanswered_calls_fail_from_twilios_status_callbacks(account, emulators):
    busy_id, _, _ = bridged_call(account, emulators, callee="busy")
    silent_id, _, _ = bridged_call(account, emulators, callee="no-answer")
    busy, silent = finished(account, busy_id), finished(account, silent_id)
    assert (busy["status"], busy["failure_reason"]) == ("failed", "busy"), busy
    assert (silent["status"], silent["failure_reason"]) == ("failed", "no_answer"), silent


def test_turns_reach_the_live_socket_while_the_call_runs_and_the_recording_is_twilios(account, emulators):
    """The greeting is on the live socket before the callee has answered it; afterwards the report
    comes from the conversation's analysis and the recording is Twilio's dual-channel WAV."""
    import io
    import wave

    from tests.support import scaled, wait_until, watch_call_socket

    def callee(line):
        line.wait_agent()
        line.pause(1.0)
        line.say(1.0)
        line.wait_end()

    call_id, _, _ = bridged_call(account, emulators, callee=callee)
    messages, done = watch_call_socket(account.http.data(f"/calls/{call_id}/live"))
    assert done.wait(scaled(60)), "the socket never saw the call end"
    updates = [m["data"] for m in messages if m["type"] == "transcript_update"]
    assert updates and [t["role"] for t in updates[0]["transcript"]] == ["agent"], "the greeting came alone, first"
    call = finished(account, call_id)
    assert call["transcript"][0]["start_seconds"] < call["transcript"][1]["start_seconds"]
    report = account.http.data(f"/calls/{call_id}/report")
    assert report["source"] == "provider" and report["call_successful"] is True
    wait_until(lambda: account.http.get(f"/calls/{call_id}/recording").status_code == 200, message="the recording")
    audio = account.http.get(f"/calls/{call_id}/recording/stream")
    assert audio.status_code == 200
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert wav.getnchannels() == 2 and wav.getframerate() == 8000 and wav.getnframes() > 8000
