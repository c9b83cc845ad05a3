"""A scripted telephony provider for the fast state-machine tests: the test says what the provider
knows about each call (its snapshot, final fetch and recording); nothing runs on a clock."""

from dataclasses import dataclass, field

from webapp.telephony.base import AgentSpec, CallRef, CallRequest, CallSnapshot, PlacedCall, Recording, Turn


def turns(count: int) -> tuple[Turn, ...]:
    roles = ("agent", "user")
    return tuple(Turn(roles[i % 2], f"line {i}", i * 2.0, i * 2.0 + 1.5) for i in range(count))


@dataclass
class ScriptedProvider:
    name = "scripted"
    needs_remote_agents = True  # so agent syncs take the same path as ElevenLabs'

    snapshots: dict[str, CallSnapshot] = field(default_factory=dict)  # provider_call_id → now
    finals: dict[str, CallSnapshot] = field(default_factory=dict)
    recordings: dict[str, Recording | None] = field(default_factory=dict)
    placed: list[str] = field(default_factory=list)
    synced: list[str] = field(default_factory=list)

    def sync_agent(self, agent: AgentSpec) -> str | None:
        self.synced.append(agent.id)
        return agent.remote_agent_id or f"remote-{agent.id}"

    def check_reachable(self, agent: AgentSpec) -> None:
        return None

    def place_call(self, request: CallRequest) -> PlacedCall:
        self.placed.append(request.call_id)
        provider_call_id = f"conv-{request.call_id}"
        self.snapshots[provider_call_id] = CallSnapshot(status="initiated")
        return PlacedCall(provider_call_id, {"placed": True})

    def poll(self, call: CallRef) -> CallSnapshot:
        return self.snapshots[call.provider_call_id]

    def hang_up(self, call: CallRef, reason) -> dict:
        return dict(call.provider_data)

    def fetch_final(self, call: CallRef) -> CallSnapshot:
        return self.finals.get(call.provider_call_id) or self.snapshots[call.provider_call_id]

    def fetch_recording(self, call: CallRef) -> Recording | None:
        return self.recordings.get(call.provider_call_id, Recording("audio/wav", b"RIFF" + b"\0" * 40))
