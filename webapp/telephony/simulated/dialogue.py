"""What the simulated agent and callee say, built from the agent, the task and its context."""

from __future__ import annotations

import hashlib
import random

from webapp.telephony.base import CallRequest

from ..dynamic_variables import values as variable_values
from .context import CallContext, Fact, fill_template
from .phrases import (
    ACKS,
    ANYTHING_ELSE,
    CALLBACK_TIMES,
    REACTIONS,
    SHARED_REACTIONS,
    TOPIC_DETAIL,
    TOPIC_PURPOSE,
    TOPIC_WORDS,
)

Line = tuple[str, str]  # (role, text)


def seeded_rng(call_id: str) -> random.Random:
    """A random generator that makes the same choices for a call id in any process."""
    digest = hashlib.sha256(call_id.encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def topic_of(request: CallRequest) -> str:
    """appointment, payment, order, survey or general, from the prompt and the task."""
    parts = [request.agent.system_prompt, request.task_name, request.starting_message]
    text = " ".join(filter(None, parts)).lower()
    for topic, words in TOPIC_WORDS.items():
        if any(word in text for word in words):
            return topic
    return "general"


class Dialogue:
    """The lines of one call; every choice is seeded by the call id."""

    def __init__(self, request: CallRequest, rng: random.Random):
        self.request = request
        self.rng = rng
        self.context = CallContext(request.context_data)
        self.topic = topic_of(request)
        self.answer_prefix = ""

    @property
    def first_name(self) -> str | None:
        return self.context.first_name

    def opening_line(self) -> str:
        """The task's starting message, else the agent's, else a greeting."""
        agent = self.request.agent
        message = self.request.starting_message or agent.starting_message
        if message and message.strip():
            values = {"agent_name": agent.name, **variable_values(self.request.context_data, agent.dynamic_variables)}
            return fill_template(message.strip(), values)
        hello = f"Hi {self.first_name}" if self.first_name else "Hi there"
        company = f" from {self.context.company}" if self.context.company else ""
        name = agent.name or "your assistant"
        return f"{hello}, this is {name}{company}. Do you have a quick minute?"

    def _purpose(self) -> str:
        if self.context.facts:
            return self.context.facts[0].purpose
        return self.request.task_name or TOPIC_PURPOSE[self.topic]

    def opening(self, after_ivr: bool = False) -> list[Line]:
        """Agent opens, callee replies, agent states the purpose, callee reacts."""
        replies = ["Sure, go ahead.", "Hello. Yes, I have a minute."]
        if self.first_name and not after_ivr:
            replies = [
                f"Yes, this is {self.first_name}. What's this about?",
                replies[0],
            ]
        reply = self.rng.choice(replies)
        facts = self.context.facts
        kind = facts[0].kind if facts else self.topic
        reactions = REACTIONS[kind] + SHARED_REACTIONS
        reaction, self.answer_prefix = self.rng.choice(reactions)
        return [
            ("agent", self.opening_line()),
            ("user", reply),
            ("agent", f"Great, thank you. I'm calling about {self._purpose()}."),
            ("user", reaction),
        ]

    def take_answer_prefix(self) -> str:
        """The answer to the callee's reaction, for the next agent line (given once)."""
        prefix, self.answer_prefix = self.answer_prefix, ""
        return prefix

    def details(self, max_pairs: int) -> list[Line]:
        """Agent lines about the context facts, each followed by the callee's answer.

        Facts beyond `max_pairs` are told in the last agent line, so none is left out.
        """
        facts = self.context.facts or [Fact(self.topic, "", TOPIC_DETAIL[self.topic])]
        kept, overflow = facts[: max(1, max_pairs)], facts[max(1, max_pairs) :]
        lines: list[Line] = []
        for index, fact in enumerate(kept):
            text = fact.detail
            if index == len(kept) - 1 and overflow:
                text = " ".join([text, *(extra.detail for extra in overflow)])
            if index == 0:
                text = self.take_answer_prefix() + text
            lines += [("agent", text), ("user", self.rng.choice(ACKS[fact.kind]))]
        return lines

    def follow_up(self) -> tuple[list[Line], str]:
        """An email confirmation, a callback time or questions; lines and the agent's ack."""
        choice = self.rng.choice(["email", "email", "callback", "questions"])
        email = self.context.email
        if choice == "email":
            return [
                ("agent", "Would you like me to send a confirmation by email?"),
                ("user", f"Yes please, send it to {email}."),
            ], f"Perfect, I'll send it to {email}."
        if choice == "callback":
            when = self.rng.choice(CALLBACK_TIMES)
            return [
                ("agent", "Is there a good time to call you back if anything changes?"),
                ("user", f"{when[0].upper()}{when[1:]} works best for me."),
            ], f"Noted, we'll call you back {when}."
        return [
            ("agent", "Do you have any questions for me?"),
            ("user", "No, I think that covers it."),
        ], "Great."

    def closing(self, ack: str = "", agent_ends: bool | None = None) -> tuple[list[Line], str]:
        """The goodbye lines and who ended the call (ended_by_agent or ended_by_callee)."""
        if agent_ends is None:
            agent_ends = self.rng.random() < 0.5
        ask = " ".join(filter(None, [self.take_answer_prefix() + ack, ANYTHING_ELSE]))
        if not agent_ends:
            bye = ("user", "No, that's everything. Thanks, bye!")
            return [("agent", ask), bye], "ended_by_callee"
        thanks = f"Thank you, {self.first_name}." if self.first_name else "Thank you."
        return [
            ("agent", ask),
            ("user", "No, that's all. Thank you."),
            ("agent", f"{thanks} Have a great day. Goodbye!"),
        ], "ended_by_agent"

    def conversation(self, after_ivr: bool = False) -> tuple[list[Line], str]:
        """A whole conversation of 8 to 12 turns and its end reason."""
        lines = self.opening(after_ivr)
        agent_ends = self.rng.random() < 0.5
        with_follow_up = self.rng.random() < 0.75
        closing_turns = 3 if agent_ends else 2
        budget = 12 - len(lines) - closing_turns - (2 if with_follow_up else 0)
        lines += self.details(budget // 2)
        ack = ""
        if with_follow_up:
            follow, ack = self.follow_up()
            lines += follow
        closing, end_reason = self.closing(ack, agent_ends)
        return lines + closing, end_reason

    def voicemail_greeting(self) -> str:
        owner = self.context.full_name or "this number"
        return f"Hi, you've reached {owner}. I can't take your call right now. Please leave a message after the tone."
