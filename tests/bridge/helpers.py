"""Helpers for the bridged-call tests."""

import itertools
import os

from tests.provider.helpers import execute, finished, synced_agent
from tests.support import scaled, wait_until

FROM_NUMBER = "+15550009999"
_numbers = itertools.count(1000)


def settings(emulators, public_url: str) -> dict:
    return {
        "TELEPHONY_PROVIDER": "twilio",
        "ELEVENLABS_API_KEY": emulators.elevenlabs.api_key,
        "ELEVENLABS_API_BASE_URL": emulators.elevenlabs.url,
        "TWILIO_ACCOUNT_SID": emulators.twilio.account_sid,
        "TWILIO_AUTH_TOKEN": emulators.twilio.auth_token,
        "TWILIO_API_BASE_URL": emulators.twilio.url,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "PUBLIC_BASE_URL": public_url,
        "PROVIDER_TIMEOUT_SECONDS": scaled(3.0),
        "AGENT_SYNC_RETRY_SECONDS": 0.5,
        "REDIS_NAMESPACE": f"{os.environ['REDIS_NAMESPACE']}-twilio",
    }


def new_number() -> str:
    """A fresh callee number per test, so each test scripts its own callee."""
    return f"+1415555{next(_numbers):04d}"


def bridged_call(account, emulators, *, callee=None, script=None, agent_fields=None, **task_fields):
    """Create an agent (synced to the ElevenLabs emulator) and a task, script both sides, execute.
    Returns (call_id, to_number, remote_agent_id)."""
    fields = {"starting_message": "Hello {{customer_name}}, this is Acme about order {{order_id}}."}
    agent = synced_agent(account, **{**fields, **(agent_fields or {})})
    number = task_fields.pop("to_number", None) or new_number()
    if callee is not None:
        emulators.twilio.callees[number] = callee
    if script is not None:
        emulators.sockets.scripts[agent["remote_agent_id"]] = script
    task = account.task(agent["id"], to_number=number, **task_fields)
    return execute(account, task["id"]), number, agent["remote_agent_id"]


__all__ = ["bridged_call", "finished", "new_number"]


def twilio_hung_up(emulators, number: str) -> None:
    """Twilio ends the line: a hang-up request is answered at once and carried out just after."""
    wait_until(lambda: emulators.twilio.line_for(number).ended_at, message=f"Twilio to end the call to {number}")
