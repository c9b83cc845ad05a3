"""How often the provider is asked again for a recording it did not have yet."""

from webapp.services.recordings import FIRST_LOOK_SECONDS, LAST_LOOK_SECONDS, next_look_after


def test_the_provider_is_asked_less_and_less_often_and_about_twenty_times_in_an_hour():
    waits, waited = [], 0.0
    while waited < 3600:
        wait = next_look_after(waited)
        waits.append(wait)
        waited += wait
    assert waits[0] == FIRST_LOOK_SECONDS and max(waits) == LAST_LOOK_SECONDS
    assert waits == sorted(waits)
    assert 10 <= len(waits) <= 25  # every 15 s sweep would have asked 240 times
