"""What the simulated call knows from `context_data`: who is called and what to talk about."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_KEYS = ("customer_name", "name", "full_name", "contact_name", "client_name")
FIRST_NAME_KEYS = ("first_name", "firstname")
ORDER_KEYS = ("order_id", "order_number", "order_no", "order", "booking_id")
WHEN_KEYS = ("appointment_date", "appointment_time", "appointment", "date")
AMOUNT_KEYS = ("amount_due", "amount", "balance", "balance_due", "total")
EMAIL_KEYS = ("email", "email_address")
COMPANY_KEYS = ("company", "company_name", "business_name", "organization")
CURRENCY_KEYS = ("currency",)
KNOWN_KEYS = frozenset(NAME_KEYS + FIRST_NAME_KEYS + ORDER_KEYS + WHEN_KEYS + AMOUNT_KEYS) | frozenset(
    EMAIL_KEYS + COMPANY_KEYS + CURRENCY_KEYS
)


@dataclass(frozen=True)
class Fact:
    """One thing from context_data the agent talks about."""

    kind: str  # order | appointment | payment | general
    purpose: str
    detail: str


def first_value(context: dict, keys: tuple[str, ...]) -> object | None:
    """The value of the first of `keys` that holds something."""
    for key in keys:
        value = context.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def spoken(value: object) -> str:
    """A context value as it would be read out, cut short when it is long."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip()
    return text if len(text) <= 60 else text[:57].rstrip() + "..."


def fill_template(text: str, context: dict) -> str:
    """Replace `{{key}}` placeholders with context values, leaving unknown ones as written."""

    def value(match: re.Match) -> str:
        key = match.group(1)
        return spoken(context[key]) if key in context else match.group(0)

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", value, text)


class CallContext:
    """The callee's name, company, email and the facts to discuss."""

    def __init__(self, context_data: dict | None):
        self.data = dict(context_data or {})
        name = first_value(self.data, NAME_KEYS)
        first = first_value(self.data, FIRST_NAME_KEYS)
        self.full_name = spoken(name) if name else None
        self.first_name = spoken(first) if first else self._first_word(self.full_name)
        company = first_value(self.data, COMPANY_KEYS)
        self.company = spoken(company) if company else None
        self.email = self._email()
        self.facts = self._facts()

    @staticmethod
    def _first_word(text: str | None) -> str | None:
        return text.split(" ")[0] if text else None

    def _email(self) -> str:
        email = first_value(self.data, EMAIL_KEYS)
        if email:
            return spoken(email)
        if self.full_name:
            local = re.sub(r"[^a-z0-9]+", ".", self.full_name.lower()).strip(".")
            return f"{local or 'me'}@example.com"
        return "me@example.com"

    def _amount(self, value: object) -> str:
        currency = first_value(self.data, CURRENCY_KEYS)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:,.2f} {currency}" if currency else f"${value:,.2f}"
        return spoken(value)

    def _facts(self) -> list[Fact]:
        facts = []
        if order := first_value(self.data, ORDER_KEYS):
            order = spoken(order)
            detail = f"Order {order} has been confirmed and should arrive within three days."
            facts.append(Fact("order", f"your order {order}", detail))
        if when := first_value(self.data, WHEN_KEYS):
            when = spoken(when)
            detail = f"You are booked in for {when}. Does that still work for you?"
            facts.append(Fact("appointment", f"your appointment on {when}", detail))
        if amount := first_value(self.data, AMOUNT_KEYS):
            amount = self._amount(amount)
            detail = f"The amount due is {amount}. You can pay online or over the phone."
            facts.append(Fact("payment", f"your outstanding balance of {amount}", detail))
        if others := self._other_details():
            detail = f"I have {others}. Is that right?"
            facts.append(Fact("general", "a few details on your account", detail))
        return facts

    def _other_details(self) -> str:
        """Keys we have no script for, read out generically: "your plan as Gold and ..."."""
        others = [
            f"your {key.replace('_', ' ')} as {spoken(value)}"
            for key, value in self.data.items()
            if key not in KNOWN_KEYS and isinstance(value, (str, int, float, bool)) and str(value).strip()
        ]
        if len(others) < 2:
            return "".join(others)
        return ", ".join(others[:-1]) + " and " + others[-1]
