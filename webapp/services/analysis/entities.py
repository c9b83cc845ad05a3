"""Contact details and money amounts found in transcript text."""

from __future__ import annotations

import re

import phonenumbers

from .turns import without_overlaps

DEFAULT_REGION = "US"

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_SPOKEN_EMAIL = re.compile(
    r"\b([a-z0-9][a-z0-9._-]*(?:\s+(?:dot|underscore|dash)\s+[a-z0-9_-]+)*)"
    r"\s+at\s+"
    r"([a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)*\s+dot\s+"
    r"(?:com|net|org|edu|gov|io|co|uk|de|fr|us|ca|info|biz|me|ai))\b",
    re.IGNORECASE,
)
_SPOKEN_SYMBOLS = {"dot": ".", "underscore": "_", "dash": "-"}

_NUMBER = r"(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<fraction>\d{1,2}))?"
_SCALE = r"(?:\s?(?P<scale>k|thousand|million|billion)\b)?"
_CURRENCIES = {
    "$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "usd": "USD",
    "cent": "USD",
    "cents": "USD",
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pounds sterling": "GBP",
}
_SCALES = {
    "k": 1_000,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
}
_CURRENCY_WORD = r"(?P<currency>dollars?|bucks|usd|euros?|eur|gbp|pounds sterling)"
_AND_CENTS = r"(?:\s+and\s+(?P<cents>\d{1,2})\s+cents?\b)?"
_MONEY_PATTERNS = (
    re.compile(r"(?P<currency>[$€£])\s?" + _NUMBER + _SCALE, re.IGNORECASE),
    re.compile(rf"\b{_NUMBER}{_SCALE}\s*{_CURRENCY_WORD}\b{_AND_CENTS}", re.IGNORECASE),
    re.compile(r"\b(?P<cents>\d{1,2})\s+(?P<currency>cents?)\b", re.IGNORECASE),
)


def find_emails(text: str) -> list[str]:
    """Written addresses (jane@example.com) and spoken ones (jane dot doe at example dot com)."""
    found = [match.group(0).lower() for match in _EMAIL.finditer(text)]
    for match in _SPOKEN_EMAIL.finditer(text):
        found.append(f"{_unspeak(match.group(1))}@{_unspeak(match.group(2))}".lower())
    return found


def _unspeak(spoken: str) -> str:
    words = spoken.split()
    return "".join(_SPOKEN_SYMBOLS.get(word.lower(), word) for word in words)


def find_phone_numbers(text: str, region: str = DEFAULT_REGION) -> list[str]:
    """Valid phone numbers, as E.164."""
    return [
        phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        for match in phonenumbers.PhoneNumberMatcher(text, region)
    ]


def find_amounts(text: str) -> list[dict]:
    """Money mentions in order: {"text", "amount", "currency"}."""
    found = [_money(match) for pattern in _MONEY_PATTERNS for match in pattern.finditer(text)]
    return [amount for _, _, amount in without_overlaps(found)]


def _money(match: re.Match) -> tuple[int, int, dict]:
    groups = match.groupdict()
    value = float((groups.get("whole") or "0").replace(",", ""))
    value += float(f"0.{groups['fraction']}") if groups.get("fraction") else 0.0
    value *= _SCALES.get((groups.get("scale") or "").lower(), 1)
    value += int(groups["cents"]) / 100 if groups.get("cents") else 0.0
    return _amount(match, value, _CURRENCIES[groups["currency"].lower()])


def _amount(match: re.Match, value: float, currency: str) -> tuple[int, int, dict]:
    record = {
        "text": match.group(0).strip(),
        "amount": round(value, 2),
        "currency": currency,
    }
    return match.start(), match.end(), record
