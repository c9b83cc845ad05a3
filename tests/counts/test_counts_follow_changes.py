"""resource_counts equal COUNT(*) of the rows, grouped by organization and status, after a realistic
mix: API creates and deletes, calls run to their end by a real worker on the simulated provider,
cancels, resets, campaigns of many tasks (bulk inserts and bulk status changes), do-not-call skips."""

from tests.api.helpers import assert_page
from tests.campaigns.helpers import create_campaign, start, wait_for_campaign
from tests.counts.helpers import assert_counters_exact
from tests.support import execute, wait_for_call, wait_until

COMPLETED, NO_ANSWER, BUSY, VOICEMAIL, OPT_OUT = "+14155550123", "+15005550001", "+15005550002", "+15005550003", \
    "+15005550007"  # fmt: skip


def _rows(count: int, prefix: str = "+1212555") -> list[dict]:
    return [{"to_number": f"{prefix}{1000 + index:04d}"} for index in range(count)]


def test_counters_equal_the_rows_after_a_realistic_mix(tenant, other_tenant, worker, db):
    api = tenant.api
    agent, disabled, deleted = (tenant.agent(name=name)["id"] for name in ("Main", "Off", "Gone"))
    assert api.patch(f"/agents/{disabled}", json={"enabled": False}).status_code == 200
    assert api.delete(f"/agents/{deleted}").status_code == 200

    tasks = {number: tenant.task(agent, to_number=number)["id"] for number in (COMPLETED, NO_ANSWER, BUSY,
                                                                              VOICEMAIL, OPT_OUT)}  # fmt: skip
    later_opt_out = tenant.task(agent, to_number=OPT_OUT)["id"]  # skipped once the callee opts out
    spare = [tenant.task(agent, to_number=COMPLETED)["id"] for _ in range(3)]
    assert api.delete(f"/tasks/{spare[0]}").status_code == 200
    assert api.patch(f"/tasks/{spare[1]}", json={"name": "Renamed"}).status_code == 200
    call_ids = [execute(tenant, task_id) for task_id in tasks.values()]
    cancelled = execute(tenant, spare[2])
    assert api.post(f"/calls/{cancelled}/cancel").status_code in (200, 409)  # 409: it had already ended
    for call_id in [*call_ids, cancelled]:
        wait_for_call(tenant, call_id)
    wait_until(lambda: api.get(f"/tasks/{later_opt_out}").get_json()["data"]["status"] == "skipped",
               message="the opt-out to skip the number's other task")  # fmt: skip
    assert api.delete(f"/tasks/{tasks[BUSY]}").status_code == 200  # a failed task: its call goes with it
    assert api.post(f"/tasks/{tasks[NO_ANSWER]}/reset").status_code == 200

    dialled = create_campaign(tenant, agent, _rows(6) + [{"to_number": "not a number"}], max_concurrent_calls=3)
    listed_later = create_campaign(tenant, agent, _rows(4, "+1313555"))
    assert api.post("/dnc", json={"number": "+13135551000"}).status_code == 201  # its pending task is skipped
    start(tenant, dialled["id"])
    assert api.post(f"/campaigns/{listed_later['id']}/cancel").status_code == 200
    create_campaign(tenant, agent, _rows(25, "+1415555"))  # stays a draft
    wait_for_campaign(tenant, dialled["id"])

    other_agent = other_tenant.agent()["id"]
    other_tenant.task(other_agent)
    create_campaign(other_tenant, other_agent, _rows(3))

    counts = assert_counters_exact(db, tenant.org_id, other_tenant.org_id)
    org = tenant.org_id
    assert counts[(org, "calls", "completed")] >= 6 and counts[(org, "tasks", "skipped")] == 2
    assert counts[(org, "tasks", "pending")] == 2 + 25 and counts[(org, "campaigns", "draft")] == 1
    assert (org, "calls", "failed") in counts and (org, "agents", "deleted") in counts

    calls_total = sum(n for (o, resource, _), n in counts.items() if o == org and resource == "calls")
    assert_page(api.get("/calls?limit=1"), total=calls_total, limit=1, offset=0, has_more=True)
    assert_page(api.get("/tasks?status=skipped&limit=5"), total=2, limit=5, offset=0, has_more=False)
    assert_page(api.get("/agents?limit=5"), total=2, limit=5, offset=0, has_more=False)


def test_total_reads_the_counters(tenant, db):
    from webapp.services import resource_counts

    agent = tenant.agent()["id"]
    for _ in range(3):
        tenant.task(agent)
    create_campaign(tenant, agent, _rows(5))
    db.session.rollback()
    assert resource_counts.total(tenant.org_id, "tasks") == 8
    assert resource_counts.total(tenant.org_id, "tasks", "pending") == 8
    assert resource_counts.total(tenant.org_id, "tasks", "completed") == 0
    assert resource_counts.total(tenant.org_id, "calls") == 0
    assert resource_counts.total(tenant.org_id, "agents", "enabled") == 1
    assert resource_counts.total(tenant.org_id, "campaigns", "draft") == 1
    assert resource_counts.total(tenant.org_id, "tasks", "no such status") is None
    assert resource_counts.total(tenant.org_id, "dnc_entries") is None
    assert assert_page(tenant.api.get("/tasks?offset=100&limit=5"), total=8, limit=5, offset=100, has_more=False) == []
    assert_page(tenant.api.get("/tasks?status=pending&offset=5&limit=5"), total=8, limit=5, offset=5, has_more=False)
    assert_page(tenant.api.get("/agents?enabled=false"), total=0, limit=50, offset=0, has_more=False)
