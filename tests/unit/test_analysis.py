"""The local call analyzer reads realistic transcripts into the report shape."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from webapp.services.analysis import analyze_call, report_excerpt, transcript_excerpt
from webapp.services.analysis.answers import classify_answer
from webapp.services.analysis.datetimes import find_datetimes
from webapp.services.analysis.entities import (
    find_amounts,
    find_emails,
    find_phone_numbers,
)
from webapp.telephony.base import Turn

NOW = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
REPORT_KEYS = {
    "summary",
    "outcome",
    "call_successful",
    "extracted_data",
    "metrics",
    "source",
    "generated_at",
}


def conversation(*exchanges: tuple[str, str, float]) -> list[Turn]:
    """Turns from (role, text, seconds spoken), each starting half a second after the last."""
    turns, clock = [], 0.0
    for role, text, seconds in exchanges:
        turns.append(Turn(role, text, clock, clock + seconds))
        clock += seconds + 0.5
    return turns


DELIVERY = conversation(
    ("agent", "Hi, this is Sam from QuickShip. Am I speaking with Maria Lopez?", 4.0),
    ("user", "Yes, this is Maria.", 1.5),
    (
        "agent",
        (
            "Your order 4417 is scheduled for delivery tomorrow between 9 am and noon. "
            "Will someone be home to receive it?"
        ),
        6.0,
    ),
    ("user", "Yes, I'll be home all morning.", 2.0),
    ("agent", "Great. Would you like a text when the driver is 30 minutes away?", 3.5),
    ("user", "No, that's okay.", 1.0),
    ("agent", "Perfect, your delivery is confirmed. Have a great day!", 3.0),
)

RESCHEDULE = conversation(
    (
        "agent",
        (
            "Hello, this is Ava from Bright Smile Dental. Your cleaning is booked for Monday, "
            "March 3rd at 10:30 am. Can you still make it?"
        ),
        7.0,
    ),
    (
        "user",
        "No, I can't make it that day. Can you call me back tomorrow at 5 pm?",
        4.0,
    ),
    ("agent", "Of course, we'll call you then to find a new time. Goodbye!", 3.0),
)

OPT_OUT = conversation(
    (
        "agent",
        ("Hi, this is Leo from SunPower Solar. Do you have a minute to talk about your energy bill?"),
        5.0,
    ),
    ("user", "No. Please stop calling me and remove me from your list.", 3.0),
    ("agent", "Understood, I have removed your number. Sorry for the trouble.", 3.5),
)

BILLING = conversation(
    (
        "agent",
        (
            "Hi Jane, this is Nina from Acme Billing. Invoice 2231 for $49.99 is past due. "
            "Would you like to pay it today?"
        ),
        6.0,
    ),
    (
        "user",
        (
            "Yes. Send the receipt to jane.doe@example.com, and if anything comes up call my "
            "cell at (212) 555-0199. Is the €20 late fee waived?"
        ),
        7.0,
    ),
    (
        "agent",
        "It is, the 20 euros fee is waived and 49 dollars and 99 cents is charged.",
        5.0,
    ),
    ("user", "Great, thanks.", 1.0),
)


def as_dicts(turns: list[Turn]) -> list[dict]:
    return [turn.as_dict() for turn in turns]


class TestDeliveryConfirmation:
    @pytest.fixture
    def report(self):
        return analyze_call(
            DELIVERY,
            status="completed",
            end_reason="ended_by_agent",
            agent_prompt="You confirm delivery windows for customer orders.",
            context_data={"customer_name": "Maria Lopez", "order_id": "4417"},
            now=NOW,
        )

    def test_has_exactly_the_report_shape(self, report):
        assert set(report) == REPORT_KEYS
        assert report["source"] == "local"
        assert report["generated_at"] == "2025-03-01T12:30:00Z"

    def test_is_a_successful_confirmation(self, report):
        assert report["outcome"] == "confirmed"
        assert report["call_successful"] is True

    def test_keeps_each_question_with_its_answer(self, report):
        answers = report["extracted_data"]["answers"]
        assert [(a["question"], a["answer"], a["value"]) for a in answers] == [
            ("Am I speaking with Maria Lopez?", "Yes, this is Maria.", "yes"),
            (
                "Will someone be home to receive it?",
                "Yes, I'll be home all morning.",
                "yes",
            ),
            (
                "Would you like a text when the driver is 30 minutes away?",
                "No, that's okay.",
                "no",
            ),
        ]

    def test_reads_the_delivery_window(self, report):
        mentions = report["extracted_data"]["datetimes"]
        assert [m["text"] for m in mentions] == ["tomorrow", "9 am", "noon"]
        assert mentions[0]["days_from_call"] == 1
        assert [m.get("value") for m in mentions[1:]] == ["09:00", "12:00"]

    def test_metrics(self, report):
        assert report["metrics"] == {
            "duration_seconds": 24.0,
            "turns": 7,
            "agent_talk_seconds": 16.5,
            "user_talk_seconds": 4.5,
        }

    def test_summary_says_who_what_and_how_it_ended(self, report):
        summary = report["summary"]
        assert summary.startswith("Reached Maria Lopez, who said yes to")
        assert "Will someone be home to receive it?" in summary
        assert "tomorrow" in summary
        assert summary.endswith("The call lasted 24s and was ended by the agent.")
        assert summary.count(". ") <= 2

    def test_dict_turns_read_the_same_as_turn_objects(self, report):
        from_dicts = analyze_call(
            as_dicts(DELIVERY),
            status="completed",
            end_reason="ended_by_agent",
            agent_prompt="You confirm delivery windows for customer orders.",
            context_data={"customer_name": "Maria Lopez", "order_id": "4417"},
            now=NOW,
        )
        assert from_dicts == report

    def test_without_a_prompt_a_yes_still_wins_a_tie(self):
        report = analyze_call(DELIVERY, status="completed", now=NOW)
        assert report["outcome"] == "confirmed"
        assert report["summary"].startswith("Reached Maria, who said yes")


class TestRescheduleWithCallback:
    @pytest.fixture
    def report(self):
        return analyze_call(
            RESCHEDULE,
            status="completed",
            end_reason="ended_by_agent",
            duration_seconds=15.2,
            context_data={"first_name": "John", "last_name": "Carter"},
            now=NOW,
        )

    def test_outcome_is_a_successful_callback_request(self, report):
        assert report["outcome"] == "callback_requested"
        assert report["call_successful"] is True

    def test_callback_carries_the_requested_time(self, report):
        (callback,) = report["extracted_data"]["callback_requests"]
        assert callback["requested_time"] == "tomorrow at 5 pm"
        assert callback["at_seconds"] == 7.5
        assert [m["text"] for m in callback["datetimes"]] == ["tomorrow", "at 5 pm"]
        assert callback["datetimes"][1]["value"] == "17:00"

    def test_reads_the_original_appointment(self, report):
        mentions = report["extracted_data"]["datetimes"]
        assert mentions[0] == {"text": "Monday", "type": "weekday", "weekday": "monday"}
        assert mentions[1] == {
            "text": "March 3rd",
            "type": "date",
            "month": 3,
            "day": 3,
        }
        assert mentions[2]["text"] == "at 10:30 am"
        assert mentions[2]["value"] == "10:30"

    def test_the_callee_said_no_to_the_booked_slot(self, report):
        (answer,) = report["extracted_data"]["answers"]
        assert answer["question"] == "Can you still make it?"
        assert answer["value"] == "no"

    def test_given_duration_wins_over_the_last_turn(self, report):
        assert report["metrics"]["duration_seconds"] == 15.2
        assert report["metrics"]["turns"] == 3

    def test_summary(self, report):
        assert report["summary"].startswith("Reached John Carter, who asked to be called back tomorrow at 5 pm.")
        assert "The call lasted 15s" in report["summary"]


class TestOptOut:
    @pytest.fixture
    def report(self):
        return analyze_call(OPT_OUT, status="completed", end_reason="ended_by_agent", now=NOW)

    def test_outcome_is_an_unsuccessful_opt_out(self, report):
        assert report["outcome"] == "opted_out"
        assert report["call_successful"] is False

    def test_records_what_was_said(self, report):
        assert report["extracted_data"]["opt_outs"] == [
            {
                "source": "speech",
                "text": "No. Please stop calling me and remove me from your list.",
                "at_seconds": 5.5,
            }
        ]
        assert report["extracted_data"]["callback_requests"] == []

    def test_summary(self, report):
        assert report["summary"].startswith("Reached the callee, who asked not to be called again.")

    @pytest.mark.parametrize(
        "said",
        [
            "Put me on your do not call list.",
            "Take me off your list, please.",
            "Don't ever call me again.",
            "I want to unsubscribe.",
        ],
    )
    def test_other_ways_of_saying_it(self, said):
        turns = conversation(("agent", "Hi, is now a good time?", 2.0), ("user", said, 2.0))
        assert analyze_call(turns, status="completed", now=NOW)["outcome"] == "opted_out"

    def test_opt_out_outranks_a_failure(self):
        turns = conversation(("agent", "Hello?", 1.0), ("user", "Stop calling me.", 1.0))
        report = analyze_call(turns, status="failed", failure_reason="dropped", now=NOW)
        assert report["outcome"] == "opted_out"
        assert report["call_successful"] is False


class TestContactDetailsAndMoney:
    @pytest.fixture
    def report(self):
        return analyze_call(BILLING, status="completed", end_reason="ended_by_callee", now=NOW)

    def test_email_and_phone(self, report):
        data = report["extracted_data"]
        assert data["emails"] == ["jane.doe@example.com"]
        assert data["phone_numbers"] == ["+12125550199"]

    def test_amounts_are_deduplicated_by_value(self, report):
        assert report["extracted_data"]["amounts"] == [
            {"text": "$49.99", "amount": 49.99, "currency": "USD"},
            {"text": "€20", "amount": 20.0, "currency": "EUR"},
        ]

    def test_outcome(self, report):
        assert report["outcome"] == "confirmed"
        assert report["call_successful"] is True

    def test_summary_lists_the_key_facts(self, report):
        summary = report["summary"]
        assert "email jane.doe@example.com" in summary
        assert "phone +12125550199" in summary
        assert "amount $49.99" in summary
        assert "amount €20" in summary
        assert summary.endswith("and was ended by the callee.")


class TestFailedNoAnswer:
    @pytest.fixture
    def report(self):
        return analyze_call(
            [],
            status="failed",
            failure_reason="no_answer",
            duration_seconds=30,
            context_data={"name": "Dana Reed"},
            now=NOW,
        )

    def test_outcome(self, report):
        assert report["outcome"] == "no_answer"
        assert report["call_successful"] is False

    def test_metrics(self, report):
        assert report["metrics"] == {
            "duration_seconds": 30.0,
            "turns": 0,
            "agent_talk_seconds": 0.0,
            "user_talk_seconds": 0.0,
        }

    def test_extracted_data_is_empty_but_complete(self, report):
        data = report["extracted_data"]
        assert data["emails"] == data["phone_numbers"] == data["datetimes"] == []
        assert data["answers"] == data["callback_requests"] == data["opt_outs"] == []
        assert data["dtmf"] == {"digits": "", "presses": []}
        assert data["contact_name"] is None

    def test_summary(self, report):
        assert report["summary"] == "Nobody answered the call to Dana Reed."

    @pytest.mark.parametrize(
        ("reason", "outcome", "summary"),
        [
            ("busy", "busy", "The line was busy."),
            ("voicemail", "voicemail", "The call went to voicemail."),
            (None, "failed", "The call failed (failed)."),
            ("provider_error", "provider_error", "The call failed (provider error)."),
        ],
    )
    def test_other_failures(self, reason, outcome, summary):
        report = analyze_call([], status="failed", failure_reason=reason, now=NOW)
        assert (report["outcome"], report["summary"]) == (outcome, summary)
        assert report["metrics"]["duration_seconds"] == 0.0


class TestDtmf:
    def test_opt_out_by_keypad(self):
        turns = conversation(
            (
                "agent",
                ("Hi, this is an automated reminder from City Clinic. Press 9 to stop receiving these calls."),
                6.0,
            ),
        )
        events = [
            {"type": "dtmf", "digit": "9", "action": "opt_out", "at_seconds": 12.0},
            {"type": "status", "status": "completed"},
        ]
        report = analyze_call(turns, status="completed", events=events, now=NOW)
        assert report["outcome"] == "opted_out"
        assert report["call_successful"] is False
        data = report["extracted_data"]
        assert data["opt_outs"] == [{"source": "dtmf", "digit": "9", "at_seconds": 12.0}]
        assert data["dtmf"] == {
            "digits": "9",
            "presses": [{"digit": "9", "action": "opt_out", "at_seconds": 12.0}],
        }
        assert "by pressing 9" in report["summary"]

    def test_confirm_by_keypad_outranks_spoken_answers(self):
        turns = conversation(
            (
                "agent",
                "Press 1 to confirm your appointment. Do you want to keep it?",
                4.0,
            ),
            ("user", "Hmm, not sure.", 1.0),
        )
        events = [{"type": "dtmf", "digit": "1", "action": "confirm", "at_seconds": 6.0}]
        report = analyze_call(turns, status="completed", events=events, now=NOW)
        assert report["outcome"] == "confirmed"
        assert "confirmed by pressing 1" in report["summary"]

    def test_transfer_by_keypad(self):
        turns = conversation(("agent", "Press 0 for a person.", 2.0), ("user", "Okay.", 0.5))
        events = [
            {
                "type": "dtmf",
                "digit": "0",
                "action": "transfer",
                "to_number": "+15550100",
            }
        ]
        report = analyze_call(turns, status="completed", events=events, now=NOW)
        assert report["outcome"] == "transferred"
        assert report["call_successful"] is True
        assert report["extracted_data"]["dtmf"]["presses"][0]["to_number"] == "+15550100"


class TestOtherOutcomes:
    def test_declined(self):
        turns = conversation(
            (
                "agent",
                "We have a new fibre plan for $30 a month. Would you like to switch?",
                4.0,
            ),
            ("user", "No thanks, I'm happy with what I have.", 2.0),
        )
        report = analyze_call(turns, status="completed", now=NOW)
        assert report["outcome"] == "declined"
        assert report["call_successful"] is False
        assert "said no to “Would you like to switch?”" in report["summary"]

    def test_not_interested_without_a_question(self):
        turns = conversation(
            ("agent", "Hi, I'm calling about our home insurance offer.", 3.0),
            ("user", "I'm not interested.", 1.0),
        )
        assert analyze_call(turns, status="completed", now=NOW)["outcome"] == "declined"

    def test_no_conversation_when_the_callee_never_spoke(self):
        turns = conversation(("agent", "Hello, is anyone there?", 2.0))
        report = analyze_call(turns, status="completed", now=NOW)
        assert report["outcome"] == "no_conversation"
        assert report["call_successful"] is False

    def test_voicemail_greeting_on_a_completed_call(self):
        turns = conversation(
            (
                "user",
                "Hi, you've reached Tom. Please leave a message after the tone.",
                4.0,
            ),
            ("agent", "Hi Tom, this is Sam from QuickShip about your delivery.", 3.0),
        )
        report = analyze_call(turns, status="completed", now=NOW)
        assert report["outcome"] == "voicemail"
        assert report["call_successful"] is False

    def test_plain_completed_conversation(self):
        turns = conversation(
            ("agent", "Hi, just letting you know your order has shipped.", 3.0),
            ("user", "Thanks for letting me know.", 1.5),
        )
        report = analyze_call(turns, status="completed", now=NOW)
        assert report["outcome"] == "completed"
        assert report["call_successful"] is True
        assert report["summary"].startswith("Reached the callee for a conversation of 2 turns.")

    def test_dropped_call_keeps_what_was_said(self):
        turns = conversation(
            ("agent", "Can I confirm your email address?", 2.0),
            ("user", "Sure, it's sam at example dot com", 2.0),
        )
        report = analyze_call(turns, status="failed", failure_reason="dropped", now=NOW)
        assert report["outcome"] == "dropped"
        assert report["call_successful"] is False
        assert report["extracted_data"]["emails"] == ["sam@example.com"]
        assert report["summary"].startswith("The call dropped before it finished.")

    def test_call_still_in_progress(self):
        turns = conversation(("agent", "Hello?", 1.0), ("user", "Hi.", 0.5))
        assert analyze_call(turns, status="in_progress", now=NOW)["outcome"] == "in_progress"

    def test_callback_accepted_when_the_agent_offers_one(self):
        turns = conversation(
            (
                "agent",
                "Is now a bad time? I can call you back on Friday at 10 am.",
                4.0,
            ),
            ("user", "Yes please, that works.", 1.0),
        )
        report = analyze_call(turns, status="completed", now=NOW)
        assert report["outcome"] == "callback_requested"
        callback = report["extracted_data"]["callback_requests"][0]
        assert callback["requested_time"] == "Friday at 10 am"

    def test_accepting_an_offered_slot_keeps_the_offered_time(self):
        turns = conversation(
            ("agent", "We can call you back later. Does Thursday at 2 pm work?", 3.0),
            ("user", "Thursday works.", 1.0),
        )
        (callback,) = analyze_call(turns, status="completed", now=NOW)["extracted_data"]["callback_requests"]
        assert callback["requested_time"] == "Thursday at 2 pm"

    def test_callback_time_given_in_the_next_reply(self):
        turns = conversation(
            ("user", "I'm driving, can you call me back later?", 2.0),
            ("agent", "Sure, when is a good time?", 1.5),
            ("user", "Around 6:30 tonight.", 1.0),
        )
        callback = analyze_call(turns, status="completed", now=NOW)["extracted_data"]["callback_requests"][0]
        assert callback["requested_time"] == "tonight at 6:30"

    def test_do_not_call_back_is_not_a_callback(self):
        turns = conversation(
            ("agent", "Would you like more information?", 2.0),
            ("user", "No, and don't call me back.", 1.5),
        )
        report = analyze_call(turns, status="completed", now=NOW)
        assert report["extracted_data"]["callback_requests"] == []
        assert report["outcome"] == "opted_out"


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("Yes, that's right.", "yes"),
        ("Yeah sure", "yes"),
        ("Sure, no problem.", "yes"),
        ("That works for me.", "yes"),
        ("Okay.", "yes"),
        ("Tuesday works.", "yes"),
        ("That doesn't work for me.", "no"),
        ("No, that's okay.", "no"),
        ("Okay, no, I can't do Tuesday.", "no"),
        ("Nope", "no"),
        ("I dont think so", "no"),
        ("Not yet.", "no"),
        ("I'm not sure, let me check.", "unclear"),
        ("Maybe", "unclear"),
        ("Tomorrow at 5.", "unclear"),
        ("", "unclear"),
        (None, "unclear"),
    ],
)
def test_classify_answer(answer, value):
    assert classify_answer(answer) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "next Friday",
            [{"type": "weekday", "weekday": "friday", "qualifier": "next"}],
        ),
        ("on 3/14", [{"type": "date", "month": 3, "day": 14}]),
        ("12/25/2025", [{"type": "date", "month": 12, "day": 25, "year": 2025}]),
        ("the 2nd of April", [{"type": "date", "month": 4, "day": 2}]),
        ("2025-04-01", [{"type": "date", "month": 4, "day": 1, "year": 2025}]),
        ("at 3 pm", [{"type": "time", "hour": 15, "minute": 0, "value": "15:00"}]),
        ("10:30 a.m.", [{"type": "time", "hour": 10, "minute": 30, "value": "10:30"}]),
        (
            "at 5 in the afternoon",
            [{"type": "time", "hour": 17, "minute": 0, "value": "17:00"}],
        ),
        (
            "three thirty pm",
            [{"type": "time", "hour": 15, "minute": 30, "value": "15:30"}],
        ),
        (
            "at 5",
            [
                {
                    "type": "time",
                    "hour": 5,
                    "minute": 0,
                    "value": "05:00",
                    "ambiguous": True,
                }
            ],
        ),
        ("midnight", [{"type": "time", "hour": 0, "minute": 0, "value": "00:00"}]),
    ],
)
def test_find_datetimes(text, expected):
    assert [{k: v for k, v in m.items() if k != "text"} for m in find_datetimes(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "open 24/7",
        "we live at 12 Oak Street",
        "5 percent at 5 dollars",
        "you may be right",
    ],
)
def test_find_datetimes_ignores_lookalikes(text):
    assert find_datetimes(text) == []


def test_find_amounts():
    found = find_amounts("It's $1,200.50 now, 49 dollars later, 99 cents extra, or £15.")
    assert [(a["amount"], a["currency"]) for a in found] == [
        (1200.5, "USD"),
        (49.0, "USD"),
        (0.99, "USD"),
        (15.0, "GBP"),
    ]


def test_find_emails_written_and_spoken():
    text = "Use Bob.Stone@Mail.co.uk or bob dot stone at gmail dot com."
    assert find_emails(text) == ["bob.stone@mail.co.uk", "bob.stone@gmail.com"]


def test_find_phone_numbers_as_e164():
    text = "Call 415-555-0123, or +44 20 7946 0958; order 12345678 is not a phone."
    assert find_phone_numbers(text) == ["+14155550123", "+442079460958"]


def test_generated_at_is_utc_with_z():
    local = datetime(2025, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert analyze_call([], status="failed", now=local)["generated_at"] == "2025-03-01T12:30:00Z"
    assert analyze_call([], status="failed")["generated_at"].endswith("Z")


def test_transcript_excerpt():
    excerpt = transcript_excerpt(as_dicts(DELIVERY))
    assert excerpt.startswith(
        "Agent: Hi, this is Sam from QuickShip. Am I speaking with Maria Lopez? / "
        "User: Yes, this is Maria. / Agent: Your order 4417"
    )
    assert len(excerpt) <= 500
    long = conversation(*[("agent", "word " * 60, 5.0), ("user", "reply " * 60, 5.0)] * 3)
    assert len(transcript_excerpt(long)) <= 500
    assert transcript_excerpt(long).endswith("…")
    assert transcript_excerpt([]) == ""


def test_report_excerpt():
    report = analyze_call(BILLING, status="completed", now=NOW)
    assert report_excerpt(report) == report["summary"][:280]
    long = {"summary": "A very long summary sentence. " * 20}
    assert len(report_excerpt(long)) <= 280
    assert report_excerpt(long).endswith("…")
    assert report_excerpt({}) == ""
