"""SimulatedProvider: the Provider protocol played out from a timeline decided at placement.

State is a pure function of the stored provider_data and the clock, so any process (web,
worker, sweep) that holds the Call row computes the same snapshot.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Literal

from webapp.telephony.base import (
    AgentSpec,
    CallRef,
    CallRequest,
    CallSnapshot,
    PlacedCall,
    ProviderError,
    Recording,
)

from ..dynamic_variables import missing_for_call, missing_message
from . import audio
from .script import build_timeline
from .timeline import Timeline, end_point, next_change_after, snapshot_at

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
HANG_UP_REASONS = ("ended_via_api", "cancelled")


class SimulatedProvider:
    """A stand-in for Twilio + ElevenLabs driven by the test numbers in docs/api.md.

    `time_scale` is simulated seconds per real second (10 plays a call ten times faster);
    it is stored with each call at placement. `recordings_voice` is the espeak-ng voice
    (default "en-us"); `use_espeak` forces (True) or forbids (False) espeak-ng, None detects.
    """

    name = "simulated"
    needs_remote_agents = False  # agents live in our database only
    knows_next_change = True  # the timeline says when each turn ends: the engine syncs a call right then
    unstored_placement_never_rang = True  # the call is the timeline place_call() returns

    def __init__(
        self,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
        recordings_voice: str | None = None,
        use_espeak: bool | None = None,
    ):
        if not time_scale > 0:
            raise ValueError("time_scale must be greater than 0")
        self.time_scale = float(time_scale)
        self.clock = clock
        self.recordings_voice = recordings_voice or "en-us"
        self.use_espeak = use_espeak

    def sync_agent(self, agent: AgentSpec) -> str | None:
        return None

    def check_reachable(self, agent: AgentSpec) -> None:
        return None  # always reachable: it runs in this process

    def place_call(self, request: CallRequest) -> PlacedCall:
        if not E164.match(request.to_number or ""):
            raise ProviderError(f"{request.to_number!r} is not an E.164 phone number.")
        missing = missing_for_call(request.agent, request.context_data, request.starting_message)
        if missing:  # as ElevenLabs does: the conversation can't start without them
            raise ProviderError(missing_message(missing))
        timeline = build_timeline(request)
        data = {
            "placed_at": float(self.clock()),
            "time_scale": self.time_scale,
            **timeline.to_data(),
        }
        return PlacedCall(provider_call_id=f"sim_{uuid.uuid4().hex}", provider_data=data)

    def _clock_of(self, data: dict) -> tuple[float, float]:
        """(placed_at, time scale) of a call."""
        try:
            return float(data["placed_at"]), float(data.get("time_scale") or self.time_scale)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError("This call was not placed by the simulated provider.") from exc

    def _elapsed(self, data: dict) -> float:
        """Simulated seconds since the call was placed."""
        placed_at, scale = self._clock_of(data)
        return (self.clock() - placed_at) * scale

    def next_change_at(self, call: CallRef) -> float | None:
        """The Unix time at which poll() next answers something new; None once the call has ended."""
        data = call.provider_data or {}
        placed_at, scale = self._clock_of(data)
        after = next_change_after(Timeline.from_data(data), self._elapsed(data), data.get("hangup"))
        return None if after is None else placed_at + (after + 0.001) / scale  # 1 ms past it: poll() rounds

    def poll(self, call: CallRef) -> CallSnapshot:
        data = call.provider_data or {}
        timeline = Timeline.from_data(data)
        return snapshot_at(timeline, self._elapsed(data), data.get("hangup"))

    def hang_up(self, call: CallRef, reason: Literal["ended_via_api", "cancelled"]) -> dict:
        """Records the hang-up time; a call that already ended (or was hung up) is unchanged."""
        if reason not in HANG_UP_REASONS:
            raise ProviderError(f"Unknown hang-up reason {reason!r}.")
        data = dict(call.provider_data or {})
        if self.poll(call).is_terminal:
            return data
        data["hangup"] = {
            "reason": reason,
            "elapsed_seconds": round(self._elapsed(data), 2),
        }
        return data

    def fetch_final(self, call: CallRef) -> CallSnapshot:
        """The final snapshot once the call has ended (the current one before that)."""
        return self.poll(call)

    def fetch_recording(self, call: CallRef) -> Recording | None:
        """A WAV of an answered call once it has ended; None if never answered or still live."""
        data = call.provider_data or {}
        timeline = Timeline.from_data(data)
        snapshot = snapshot_at(timeline, self._elapsed(data), data.get("hangup"))
        _, call_time, _ = end_point(timeline, data.get("hangup"))
        if not snapshot.is_terminal or not timeline.answered or call_time <= 0:
            return None
        wav = audio.render_recording(
            snapshot.turns,
            snapshot.events,
            call_time,
            use_espeak=self.use_espeak,
            voice=self.recordings_voice,
        )
        return Recording("audio/wav", wav)
