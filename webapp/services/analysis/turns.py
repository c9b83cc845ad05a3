"""Read transcript turns whatever their form (the telephony `Turn` dataclass or a plain dict),
and the small text helpers every other analysis module shares."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

AGENT_ROLES = frozenset({"agent", "assistant", "ai", "bot"})
USER_ROLES = frozenset({"user", "callee", "customer", "human"})

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_QUESTION_OPENERS = re.compile(
    r"^(?:and |so |also |now |then |okay,? |ok,? )*"
    r"(?:(?:is|are|was|were|do|does|did|can|could|would|will|should|shall|may|might|have|has)"
    r"\s+(?:i|you|we|it|this|that|there|he|she|they|your|the)\b"
    r"|(?:what|when|where|which|who|whom|whose|why|how)\s)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Line:
    """One transcript turn, normalised: role is "agent" or "user", times are floats."""

    index: int
    role: str
    text: str
    start: float
    end: float

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"

    @property
    def is_user(self) -> bool:
        return self.role == "user"

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def read_turns(turns: Iterable[object]) -> list[Line]:
    """Normalise turns; turns whose role is neither agent nor user are left out."""
    lines = []
    for turn in turns or ():
        role = _role(_field(turn, "role"))
        if role:
            lines.append(_line(len(lines), role, turn))
    return lines


def _field(turn: object, name: str) -> object:
    if isinstance(turn, Mapping):
        return turn.get(name)
    return getattr(turn, name, None)


def _role(raw: object) -> str | None:
    role = str(raw or "").strip().lower()
    if role in AGENT_ROLES:
        return "agent"
    if role in USER_ROLES:
        return "user"
    return None


def _seconds(raw: object) -> float:
    try:
        return max(0.0, float(raw))
    except (TypeError, ValueError):
        return 0.0


def _line(index: int, role: str, turn: object) -> Line:
    start = _seconds(_field(turn, "start_seconds"))
    end = max(start, _seconds(_field(turn, "end_seconds")))
    text = " ".join(str(_field(turn, "text") or "").split())
    return Line(index=index, role=role, text=text, start=start, end=end)


def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces: the form phrase rules match against."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").lower().split())


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


def question_in(text: str) -> str | None:
    """The question an agent turn ends on (the last sentence asking something), if any."""
    for sentence in reversed(sentences(text)):
        if sentence.endswith("?") or _QUESTION_OPENERS.match(sentence):
            return sentence
    return None


def next_user_line(lines: list[Line], after: int) -> Line | None:
    """The user's reply to turn `after`: the next turn, if the user spoke it."""
    following = lines[after + 1] if after + 1 < len(lines) else None
    return following if following is not None and following.is_user else None


def negated(text: str, start: int) -> bool:
    """Whether the words just before `start` in normalised `text` negate what follows."""
    before = text[max(0, start - 16) : start]
    return (
        re.search(
            r"\b(?:don't|dont|do not|never|no need to|won't|will not|not(?: a)?)\s*$",
            before,
        )
        is not None
    )


def without_overlaps(spans: list[tuple[int, int, dict]]) -> list[tuple[int, int, dict]]:
    """Of overlapping (start, end, record) matches keep the longest; return them in text order."""
    kept: list[tuple[int, int, dict]] = []
    for span in sorted(spans, key=lambda item: (item[0] - item[1], item[0])):
        if all(span[1] <= other[0] or span[0] >= other[1] for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda item: item[0])
