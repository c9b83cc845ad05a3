"""Agents mirrored to ElevenLabs by the worker: create, update, failure then retry, and the
sync a call makes first for an agent ElevenLabs doesn't have."""

import pytest
import sqlalchemy as sa

from tests.provider.helpers import AGENTS, execute, placed, synced_agent
from tests.support import wait_until

pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated")

VOICE = {"voice_id": "voice_abc", "stability": 0.4, "similarity_boost": 0.8, "speed": 1.1}


def _requests_for(emulator, method: str, path: str, agent_id: str) -> list:
    tag = f"platform-agent:{agent_id}"
    return [r for r in emulator.requests_to(method, path) if tag in ((r.json or {}).get("tags") or [])]


def test_agent_create_and_update_reach_elevenlabs(account, emulator):
    agent = synced_agent(
        account,
        name="Order confirmations",
        system_prompt="You confirm orders politely.",
        starting_message="Hello {{customer_name}}!",
        voice_settings=VOICE,
        dtmf_rules={"inputs": {"9": {"action": "opt_out"}}},
    )
    remote_id = agent["remote_agent_id"]
    assert remote_id and agent["sync_error"] is None
    remote = emulator.agents[remote_id]
    assert remote["name"] == "Order confirmations"
    prompt = remote["conversation_config"]["agent"]["prompt"]["prompt"]
    assert prompt.startswith("You confirm orders politely.") and "9:" in prompt
    assert remote["conversation_config"]["agent"]["first_message"] == "Hello {{customer_name}}!"
    assert remote["conversation_config"]["tts"]["voice_id"] == "voice_abc"
    assert remote["conversation_config"]["tts"]["speed"] == 1.1

    response = account.http.patch(
        f"/agents/{agent['id']}", json={"name": "Delivery confirmations", "system_prompt": "You confirm deliveries."}
    )
    assert response.status_code == 200 and response.json()["data"]["sync_status"] == "pending"
    updated = wait_until(
        lambda: (a := account.http.data(f"/agents/{agent['id']}"))["sync_status"] == "synced" and a,
        message="the update to sync",
    )
    assert updated["remote_agent_id"] == remote_id  # updated in place, not created again
    patch = emulator.last_request("PATCH", f"{AGENTS}/{remote_id}")
    assert patch is not None and patch.json["name"] == "Delivery confirmations"
    assert emulator.agents[remote_id]["name"] == "Delivery confirmations"
    assert emulator.agents[remote_id]["conversation_config"]["agent"]["prompt"]["prompt"].startswith(
        "You confirm deliveries."
    )
    assert len(_requests_for(emulator, "POST", f"{AGENTS}/create", agent["id"])) == 1


def test_failed_sync_is_visible_kept_and_retried(account, emulator):
    emulator.fail_next(500, path_prefix=f"{AGENTS}/create")
    created = account.agent(name="Unlucky agent")

    failed = wait_until(
        lambda: (a := account.http.data(f"/agents/{created['id']}"))["sync_status"] == "failed" and a,
        message="the sync to fail",
    )
    assert failed["remote_agent_id"] is None
    assert "HTTP 500" in failed["sync_error"] and "Injected failure" in failed["sync_error"]
    assert failed["name"] == "Unlucky agent"  # the local agent is kept as it was

    synced = wait_until(
        lambda: (a := account.http.data(f"/agents/{created['id']}"))["sync_status"] == "synced" and a,
        message="the periodic retry",
    )
    assert synced["remote_agent_id"] in emulator.agents and synced["sync_error"] is None
    assert len(_requests_for(emulator, "POST", f"{AGENTS}/create", created["id"])) == 2


def test_a_call_syncs_an_agent_elevenlabs_does_not_have(account, emulator, site):
    """An agent from before the switch to ElevenLabs: the call creates it there first and keeps its id."""
    from webapp.extensions import db
    from webapp.models import Agent

    agent = synced_agent(account, name="Older agent")
    with site.app.app_context():
        db.session.execute(
            sa.update(Agent).where(Agent.id == agent["id"]).values(remote_agent_id=None, sync_status="not_required")
        )
        db.session.commit()
    task = account.task(agent["id"])

    call = placed(account, execute(account, task["id"]))

    stored = account.http.data(f"/agents/{agent['id']}")
    assert stored["sync_status"] == "synced" and stored["remote_agent_id"] not in (None, agent["remote_agent_id"])
    assert emulator.calls[call["provider_call_id"]].agent_id == stored["remote_agent_id"]
    assert emulator.agents[stored["remote_agent_id"]]["name"] == "Older agent"
