"""IVR navigation rules written as /regex/ run with RE2 (linear time): a catastrophic pattern in one
tenant's agent cannot stall the workers that place every tenant's calls; patterns RE2 cannot run
are refused at save time with a 400 naming the rule, and their length is capped."""

import time

import pytest

from tests.api.helpers import COMPLETED_NUMBER, execute, wait_for_end
from tests.support import ScopedClient, Tenant

IVR_NUMBER = "+15005550005"
HOSTILE = ["/(.|.)*Z/", "/(a|aa)*$/", "/(x+x+)+y/", "/((.*)*)*#/"]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"/(a)\1/", "RE2"),  # backreference
        (r"/press(?=\d)/", "RE2"),  # lookahead
        (r"/(?<!no )billing/", "RE2"),  # lookbehind
        ("/" + "a" * 201 + "/", "at most 200"),
        ("/[unclosed/", "RE2"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_at_save_time_naming_the_rule(tenant, pattern, reason):
    rules = {"navigation": [{"when": "billing", "press": "1"}, {"when": pattern, "press": "2"}]}
    answer = tenant.api.post("/agents", json={"name": "IVR", "system_prompt": "x", "dtmf_rules": rules})
    assert answer.status_code == 400, answer.get_json()
    details = answer.get_json()["details"]
    assert list(details) == ["dtmf_rules.navigation.1.when"] and reason in details["dtmf_rules.navigation.1.when"]
    agent = tenant.agent()
    patched = tenant.api.patch(f"/agents/{agent['id']}", json={"dtmf_rules": rules})
    assert patched.status_code == 400 and list(patched.get_json()["details"]) == ["dtmf_rules.navigation.1.when"]


def test_a_hostile_agent_cannot_delay_another_organizations_calls(app, worker):
    hostile = Tenant(app, ScopedClient(app))
    rules = {"navigation": [{"when": pattern, "press": "1"} for pattern in HOSTILE]}
    agent = hostile.agent(name="Hostile", dtmf_rules=rules)
    hostile_calls = [execute(hostile, hostile.task(agent["id"], to_number=IVR_NUMBER)["id"]) for _ in range(3)]

    victim = Tenant(app, ScopedClient(app))
    started = time.monotonic()
    victim_call = execute(victim, victim.task(victim.agent()["id"], to_number=COMPLETED_NUMBER)["id"])
    ended = wait_for_end(victim, victim_call)
    assert ended["status"] == "completed", ended
    assert time.monotonic() - started < 60
    for call_id in hostile_calls:  # the hostile calls end normally too: the patterns ran in linear time
        assert wait_for_end(hostile, call_id)["status"] in ("completed", "failed")
