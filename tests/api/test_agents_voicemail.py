"""The agent's answering-machine setting (used by bridged Twilio calls)."""


def test_voicemail_setting_defaults_validates_and_updates(tenant):
    agent = tenant.agent()
    assert agent["voicemail_action"] == "hang_up" and agent["voicemail_message"] is None
    refused = tenant.api.post("/agents", json={"name": "A", "system_prompt": "p", "voicemail_action": "leave_message"})
    assert refused.status_code == 400 and "voicemail_message" in str(refused.get_json()["details"])
    assert (
        tenant.api.post("/agents", json={"name": "A", "system_prompt": "p", "voicemail_action": "shout"}).status_code
        == 400
    )
    updated = tenant.api.patch(f"/agents/{agent['id']}", json={"voicemail_action": "leave_message"})
    assert updated.status_code == 409 and "voicemail_message" in str(updated.get_json()["details"])
    ok = tenant.api.patch(
        f"/agents/{agent['id']}", json={"voicemail_action": "leave_message", "voicemail_message": "Call us back."}
    )
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["data"]["voicemail_action"] == "leave_message"
    assert tenant.api.patch(f"/agents/{agent['id']}", json={"voicemail_action": None}).status_code == 400
