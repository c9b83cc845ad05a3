"""The gateway to the telephony provider: which Provider serves this deployment, and the
conversions from our models to the value types it takes. The call engine only moves states."""

from flask import current_app

from ..models import Agent, Call
from ..telephony import get_provider, provider_class
from ..telephony.base import AgentSpec, CallRef, CallRequest, Provider


def provider() -> Provider:
    return get_provider(current_app.config)


def provider_name() -> str:
    return current_app.config["TELEPHONY_PROVIDER"]


def needs_remote_agents() -> bool:
    """Read from the provider's class: answering needs no credentials."""
    return provider_class(provider_name()).needs_remote_agents


def unstored_placement_never_rang() -> bool:
    return bool(getattr(provider_class(provider_name()), "unstored_placement_never_rang", False))


def call_ref(call: Call) -> CallRef:
    return CallRef(
        call_id=call.id, provider_call_id=call.provider_call_id or "", provider_data=call.provider_data or {}
    )


def agent_spec(agent: Agent) -> AgentSpec:
    return AgentSpec(
        id=agent.id,
        name=agent.name,
        system_prompt=agent.system_prompt,
        starting_message=agent.starting_message,
        voice_settings=agent.voice_settings or {},
        dtmf_rules=agent.dtmf_rules or {},
        language=agent.language,
        remote_agent_id=agent.remote_agent_id,
        dynamic_variables=agent.dynamic_variables or {},
        ringing_timeout_secs=agent.ringing_timeout_secs,
    )


def call_request(call: Call) -> CallRequest:
    task = call.task
    return CallRequest(
        call_id=call.id,
        to_number=call.to_number,
        agent=agent_spec(call.agent),
        starting_message=task.starting_message or call.agent.starting_message,
        context_data=task.context_data or {},
        task_name=task.name,
    )
