"""Yes/no answers: what the agent asked, what the callee replied, and which reply decides the
call (confirmed or declined)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from .turns import Line, next_user_line, normalise, question_in

YES, NO, UNCLEAR = "yes", "no", "unclear"

_PHRASES = {
    YES: (
        "yes", "yeah", "yep", "yup", "ya", "correct", "absolutely", "definitely", "of course",
        "certainly", "that's right", "that is right", "that's correct", "that works",
        "works for me", "sounds good", "sounds great", "please do", "go ahead", "i do", "i will",
        "i'll be", "i can", "i am", "it is", "i think so", "no problem", "no worries", "confirmed",
        "i confirm", "exactly", "indeed", "uh-huh", "mm-hmm", "yes please",
    ),
    NO: (
        "no", "nope", "nah", "not really", "not yet", "i don't", "i do not", "i can't",
        "i cannot", "i won't", "i will not", "i'm not", "i am not", "it isn't", "it's not",
        "that's not", "doesn't work", "does not work", "won't work", "not interested",
        "no thanks", "no thank you", "i don't think so", "never", "negative", "wrong",
        "incorrect", "not at all", "rather not", "absolutely not", "definitely not",
        "of course not", "not right now", "not today",
    ),
    UNCLEAR: (
        "not sure", "i'm not sure", "i don't know", "don't know", "maybe", "perhaps", "possibly",
        "it depends", "depends", "let me check", "i'll have to check", "i need to check",
        "hard to say", "i'll think about it", "let me think",
    ),
}  # fmt: skip
_WEAK_YES = (
    "okay",
    "ok",
    "alright",
    "all right",
    "sure",
    "fine",
    "perfect",
    "great",
    "works",
)
_LABELS = {phrase.replace("'", ""): label for label, phrases in _PHRASES.items() for phrase in phrases}
_LABELS.update({phrase: YES for phrase in _WEAK_YES})
_MARKERS = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(_LABELS, key=len, reverse=True))) + r")(?!\w)")
_NOT_DECISIVE = re.compile(
    r"\b(?:is this|is that you|am i (?:speaking|talking) (?:to|with)|speaking with|"
    r"do you have a (?:minute|moment|second)|(?:good|bad|convenient) time|can you hear me|"
    r"how are you|anything else|any other questions?|any questions|something else|"
    r"help you with|is that all|have a (?:good|great|nice|wonderful))\b"
)
_STOPWORDS = frozenset(
    (
        "the", "and", "for", "you", "your", "are", "was", "were", "this", "that", "with",
        "have", "has", "will", "would", "could", "can", "our", "from", "about", "what", "when",
        "where", "which", "there", "their", "them", "they", "just", "like", "been", "into",
        "also", "some", "any", "please", "okay", "call", "calling", "today",
    )
)  # fmt: skip


def classify_answer(answer: str | None) -> str:
    """yes / no / unclear: the first firm marker decides; fillers such as "okay" only count
    when nothing firmer was said."""
    if not answer:
        return UNCLEAR
    plain = normalise(answer).replace("'", "")
    labels = [(match.group(0), _LABELS[match.group(0)]) for match in _MARKERS.finditer(plain)]
    firm = [label for phrase, label in labels if phrase not in _WEAK_YES]
    if firm:
        return firm[0]
    return labels[0][1] if labels else UNCLEAR


def _exchanges(lines: list[Line]) -> Iterator[tuple[Line, str, Line | None]]:
    """(agent turn, the question it asks, the callee's reply or None) for each question."""
    for line in lines:
        question = question_in(line.text) if line.is_agent else None
        if question:
            yield line, question, next_user_line(lines, line.index)


def _record(asked: Line, question: str, reply: Line | None) -> dict:
    return {
        "question": question,
        "answer": reply.text if reply else None,
        "value": classify_answer(reply.text if reply else None),
        "at_seconds": round(asked.start, 2),
    }


def find_answers(lines: list[Line]) -> list[dict]:
    """Each agent question with the callee's reply: {question, answer, value, at_seconds}."""
    return [_record(*exchange) for exchange in _exchanges(lines)]


def is_decisive(answer: dict) -> bool:
    """A firm yes/no to a question about the call's purpose (not a greeting or a wrap-up)."""
    return answer["value"] in (YES, NO) and not _NOT_DECISIVE.search(normalise(answer["question"]))


def main_answer(lines: list[Line], goal_text: str) -> dict | None:
    """The decisive answer to the agent turn sharing most words with the agent's goal (prompt
    and context); among equally good matches a yes wins, then the earliest."""
    goal = content_words(goal_text)
    best, best_key = None, None
    for asked, question, reply in _exchanges(lines):
        record = _record(asked, question, reply)
        key = (len(content_words(asked.text) & goal), record["value"] == YES)
        if is_decisive(record) and (best_key is None or key > best_key):
            best, best_key = record, key
    return best


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", normalise(text))
    return {word for word in words if len(word) > 2 and word not in _STOPWORDS}


def goal_text(agent_prompt: str, context_data: Mapping | None) -> str:
    """The words that say what the call is for: the agent's prompt and the task's context."""
    return " ".join([agent_prompt or "", *_flat_values(context_data or {})])


def _flat_values(data: object) -> Iterable[str]:
    if isinstance(data, Mapping):
        for value in data.values():
            yield from _flat_values(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            yield from _flat_values(value)
    elif data is not None:
        yield str(data)
