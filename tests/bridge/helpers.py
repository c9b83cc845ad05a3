"""Helpers for the bridged-call tests."""

import itertools

from tests.provider.helpers import execute, finished, synced_agent

_numbers = itertools.count(1000)


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
