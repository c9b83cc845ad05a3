"""The telephony provider protocol and the value types the call engine exchanges with it.

The engine (webapp.services.calls) only ever talks to a `Provider`; `get_provider(config)` in
webapp.telephony picks the concrete one from TELEPHONY_PROVIDER.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

CallStatus = Literal["initiated", "in_progress", "completed", "failed"]


class ProviderError(Exception):
    """The provider refused or failed a request; `message` is safe to show a user."""

    def __init__(self, message: str, *, unreachable: bool = False):
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable  # network error / timeout: the API answers 503


class HangUpUnsupported(ProviderError):
    """The provider cannot stop calls with the current configuration (the API answers 409)."""


@dataclass(frozen=True)
class AgentSpec:
    """What a provider needs to know about one of our agents."""

    id: str
    name: str
    system_prompt: str
    starting_message: str | None
    voice_settings: dict
    dtmf_rules: dict
    language: str = "en"
    remote_agent_id: str | None = None
    dynamic_variables: dict = field(default_factory=dict)  # defaults of the {{variables}} used
    ringing_timeout_secs: int | None = None


@dataclass(frozen=True)
class CallRequest:
    call_id: str
    to_number: str
    agent: AgentSpec
    starting_message: str | None  # task's override, else the agent's
    context_data: dict
    task_name: str = ""


@dataclass(frozen=True)
class PlacedCall:
    provider_call_id: str
    provider_data: dict = field(default_factory=dict)  # stored as JSON on the Call row


@dataclass(frozen=True)
class CallRef:
    call_id: str
    provider_call_id: str
    provider_data: dict


@dataclass(frozen=True)
class Turn:
    role: Literal["agent", "user"]
    text: str
    start_seconds: float
    end_seconds: float

    def as_dict(self) -> dict:
        return {
            "role": self.role,
            "text": self.text,
            "start_seconds": round(self.start_seconds, 2),
            "end_seconds": round(self.end_seconds, 2),
        }


@dataclass(frozen=True)
class CallSnapshot:
    """Everything the provider knows about a call right now. `turns` is always the whole
    transcript so far, so applying a snapshot twice changes nothing twice."""

    status: CallStatus
    turns: tuple[Turn, ...] = ()
    failure_reason: str | None = None
    end_reason: str | None = None
    duration_seconds: float | None = None
    analysis: dict | None = None  # provider's analysis: summary, call_successful, data ...
    events: tuple[dict, ...] = ()  # e.g. {"type": "dtmf", "digit": "9", "at_seconds": 12.0}
    cost_credits: float | None = None  # what the provider charged, in its credits
    cost_usd: float | None = None  # the same in US dollars, when the provider says
    termination_reason: str | None = None
    error_message: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in ("completed", "failed")


@dataclass(frozen=True)
class Recording:
    content_type: str  # audio/wav, audio/mpeg
    data: bytes


class Provider(Protocol):
    """A telephony provider. Differences between providers are capabilities declared here (class
    attributes), never checks of TELEPHONY_PROVIDER in the services."""

    name: str
    needs_remote_agents: bool  # agents must be mirrored at the provider (sync_agent) before a call
    # next_change_at() says when poll() will next answer something new (a turn ends, the call is
    # answered or ends), so the engine syncs the call at that moment instead of waiting for the next
    # polling pass. Optional: a provider without it (False or absent) is polled.
    knows_next_change: bool
    # place_call() has no effect outside the PlacedCall it returns (the simulator: the call is its
    # timeline in provider_data). A placement whose worker died before storing that result then
    # provably never rang, and the sweep places the call again instead of closing it. A real
    # provider's interrupted placement may have rung: the call is closed (provider_error), never
    # dialled again. Optional: absent means False.
    unstored_placement_never_rang: bool

    def sync_agent(self, agent: AgentSpec) -> str | None:
        """Create or update the provider-side agent; return its id (None if not applicable)."""

    def check_reachable(self, agent: AgentSpec) -> None:
        """Raise ProviderError(unreachable=True) if a call for this agent can't be placed right now."""

    def place_call(self, request: CallRequest) -> PlacedCall: ...

    def poll(self, call: CallRef) -> CallSnapshot:
        """Current state of a call; called often and must be cheap."""

    def hang_up(self, call: CallRef, reason: Literal["ended_via_api", "cancelled"]) -> dict:
        """Stop a live call. Returns the provider_data to store (possibly updated)."""

    def fetch_final(self, call: CallRef) -> CallSnapshot:
        """The final transcript and analysis of a call that has ended."""

    def fetch_recording(self, call: CallRef) -> Recording | None: ...

    def next_change_at(self, call: CallRef) -> float | None:
        """Only with knows_next_change: the Unix time at which poll() will next differ from now
        (None when nothing more will change by itself)."""
