"""Numbers typed without a country code are read in the organization's default region, and numbers
phonenumbers knows no zone for get the organization's zone in calling windows."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from webapp.schemas.phone import normalise_typed
from webapp.schemas.regional import check_phone_region, check_time_zone
from webapp.services import windows


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("020 7946 0958", "GB", "+442079460958"),
        ("020-7946-0958", "GB", "+442079460958"),
        ("(020) 7946 0958", "GB", "+442079460958"),
        ("+1 415 555 0199", "GB", "+14155550199"),  # a country code wins over the region
        ("030 1234567", "DE", "+49301234567"),
        ("(415) 555-0199", "US", "+14155550199"),
        ("+442079460958", "US", "+442079460958"),
    ],
)
def test_typed_numbers_become_e164_in_the_default_region(typed, region, e164):
    assert normalise_typed(typed, region) == e164


def test_the_same_digits_mean_another_number_in_another_region():
    assert normalise_typed("020 7946 0958", "US") != "+442079460958"


def test_zone_and_region_names_are_canonical():
    assert check_time_zone(" europe/LONDON ") == "Europe/London"
    assert check_phone_region("gb") == "GB"
    for bad in ("", "Europe", "localtime", "Factory", "Europe/London/x"):
        with pytest.raises(ValueError):
            check_time_zone(bad)
    for bad in ("", "UK", "001", "G"):
        with pytest.raises(ValueError):
            check_phone_region(bad)


def test_a_number_without_a_zone_of_its_own_uses_the_organizations_zone():
    freephone = "+80012345678"  # international freephone: no country, no zone
    assert windows.zones_for(freephone) == (ZoneInfo("UTC"),)
    assert windows.zones_for(freephone, "Asia/Tokyo") == (ZoneInfo("Asia/Tokyo"),)
    window = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
    now = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # a Wednesday: 10:00 in Tokyo, 01:00 in UTC
    assert windows.is_open(window, freephone, now, "Asia/Tokyo")
    assert not windows.is_open(window, freephone, now)
    assert windows.next_open(window, freephone, now) == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    london = "+442079460958"  # a number with a zone keeps it, whatever the organization's
    assert windows.zones_for(london, "Asia/Tokyo") == (ZoneInfo("Europe/London"),)


def test_numbers_not_tied_to_a_place_use_the_organizations_zone_mobiles_their_countrys():
    """A US toll-free or 500 number maps to all 42 North American zones, Guam to St John's, where a
    09:00-20:00 window never opens everywhere: it is judged in the organization's zone instead."""
    for unplaced in ("+18005550199", "+15005550006"):
        assert windows.zones_for(unplaced, "America/Chicago") == (ZoneInfo("America/Chicago"),)
    assert len(windows.zones_for("+61412345678", "America/Chicago")) > 3  # a mobile: anywhere in Australia
    window = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"}
    now = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Chicago
    assert windows.next_open(window, "+18005550199", now, "America/Chicago") == now


def test_numbers_said_without_a_country_code_are_read_in_the_region_given():
    from webapp.services.analysis import analyze_call

    turns = [{"role": "agent", "text": "Which number should we use?", "start_seconds": 0, "end_seconds": 2},
             {"role": "user", "text": "Call me on 020 7946 0958.", "start_seconds": 2, "end_seconds": 5}]  # fmt: skip
    british = analyze_call(turns, status="completed", phone_region="GB")["extracted_data"]["phone_numbers"]
    assert british == ["+442079460958"]
    assert analyze_call(turns, status="completed")["extracted_data"]["phone_numbers"] == []  # not a US number
