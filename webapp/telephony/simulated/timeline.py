"""A simulated call's timeline, how it is stored, and the state the call is in at any moment.

Two clocks: `elapsed` counts simulated seconds since the call was placed; "call time" counts
seconds since the call was answered. Turn `start_seconds`/`end_seconds`, event `at_seconds`
and `duration_seconds` are call time, as in a provider's transcript and recording.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.telephony.base import CallSnapshot, ProviderError, Turn


@dataclass(frozen=True)
class Outcome:
    status: str  # completed | failed
    failure_reason: str | None
    end_reason: str | None
    termination_reason: str


HANG_UP_OUTCOMES = {
    "ended_via_api": Outcome("completed", None, "ended_via_api", "ended via API"),
    "cancelled": Outcome("failed", "cancelled", None, "cancelled via API"),
}


@dataclass(frozen=True)
class Timeline:
    """Everything that will happen on a call if nobody hangs up early."""

    scenario: str
    ring_seconds: float  # elapsed seconds until the answer, or until an unanswered call fails
    answered: bool
    end_seconds: float  # call time at which the call ends by itself (0 when unanswered)
    turns: tuple[Turn, ...]
    events: tuple[dict, ...]
    outcome: Outcome

    def to_data(self) -> dict:
        """The JSON-friendly form stored in provider_data."""
        return {
            "scenario": self.scenario,
            "ring_seconds": self.ring_seconds,
            "answered": self.answered,
            "end_seconds": self.end_seconds,
            "turns": [turn.as_dict() for turn in self.turns],
            "events": [dict(event) for event in self.events],
            "outcome": {
                "status": self.outcome.status,
                "failure_reason": self.outcome.failure_reason,
                "end_reason": self.outcome.end_reason,
                "termination_reason": self.outcome.termination_reason,
            },
        }

    @classmethod
    def from_data(cls, data: dict) -> Timeline:
        try:
            return cls(
                scenario=data["scenario"],
                ring_seconds=float(data["ring_seconds"]),
                answered=bool(data["answered"]),
                end_seconds=float(data["end_seconds"]),
                turns=tuple(
                    Turn(
                        t["role"],
                        t["text"],
                        float(t["start_seconds"]),
                        float(t["end_seconds"]),
                    )
                    for t in data["turns"]
                ),
                events=tuple(dict(event) for event in data["events"]),
                outcome=Outcome(**data["outcome"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError("This call was not placed by the simulated provider.") from exc


def hang_up_point(timeline: Timeline, hangup: dict | None) -> tuple[float, Outcome] | None:
    """The elapsed time and outcome of an API hang-up, if it came before the natural end."""
    if not hangup:
        return None
    natural_end = timeline.ring_seconds + (timeline.end_seconds if timeline.answered else 0.0)
    at = float(hangup["elapsed_seconds"])
    if at >= natural_end:
        return None
    return at, HANG_UP_OUTCOMES[hangup["reason"]]


def end_point(timeline: Timeline, hangup: dict | None) -> tuple[float, float, Outcome]:
    """When the call ends: (elapsed seconds, call time, outcome)."""
    early = hang_up_point(timeline, hangup)
    if early:
        at, outcome = early
        call_time = max(0.0, at - timeline.ring_seconds) if timeline.answered else 0.0
        return at, round(call_time, 2), outcome
    if not timeline.answered:
        return timeline.ring_seconds, 0.0, timeline.outcome
    return (
        timeline.ring_seconds + timeline.end_seconds,
        timeline.end_seconds,
        timeline.outcome,
    )


def _heard_by(timeline: Timeline, call_time: float) -> tuple[tuple[Turn, ...], tuple[dict, ...]]:
    turns = tuple(turn for turn in timeline.turns if turn.end_seconds <= call_time)
    events = tuple(event for event in timeline.events if event["at_seconds"] <= call_time)
    return turns, events


def snapshot_at(timeline: Timeline, elapsed: float, hangup: dict | None = None) -> CallSnapshot:
    """The call as it stands `elapsed` simulated seconds after it was placed.

    Times are compared to the millisecond, so a turn counts as heard exactly at its end.
    """
    end_elapsed, end_call_time, outcome = end_point(timeline, hangup)
    elapsed = round(elapsed, 3)
    if elapsed >= round(end_elapsed, 3):
        turns, events = _heard_by(timeline, end_call_time)
        return CallSnapshot(
            status=outcome.status,  # type: ignore[arg-type]
            turns=turns,
            failure_reason=outcome.failure_reason,
            end_reason=outcome.end_reason,
            duration_seconds=end_call_time,
            events=events,
            termination_reason=outcome.termination_reason,
        )
    if not timeline.answered or elapsed < timeline.ring_seconds:
        return CallSnapshot(status="initiated")
    turns, events = _heard_by(timeline, round(elapsed - timeline.ring_seconds, 3))
    return CallSnapshot(status="in_progress", turns=turns, events=events)


def next_change_after(timeline: Timeline, elapsed: float, hangup: dict | None = None) -> float | None:
    """The elapsed time of the next moment snapshot_at() answers something new (the answer, the end
    of a turn, an event, the end of the call); None once the call has ended."""
    end_elapsed, end_call_time, _ = end_point(timeline, hangup)
    elapsed = round(elapsed, 3)
    if elapsed >= round(end_elapsed, 3):
        return None
    points = [end_elapsed]
    if timeline.answered:
        ring = timeline.ring_seconds
        points.append(ring)
        points += [ring + turn.end_seconds for turn in timeline.turns if turn.end_seconds <= end_call_time]
        points += [ring + event["at_seconds"] for event in timeline.events if event["at_seconds"] <= end_call_time]
    return min(point for point in points if round(point, 3) > elapsed)
