"""Dispatch: calling windows in the callee's zone, retries, caps across processes, do-not-call,
opt-out, pause/resume/cancel and a worker killed mid-campaign, against real workers."""

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.campaigns.helpers import (
    campaign,
    campaign_tasks,
    create_campaign,
    max_overlap,
    org_calls,
    start,
    task_detail,
    wait_for_campaign,
)
from tests.support import ROOT, scaled, wait_until

NY, SYDNEY = "+12125550123", "+61291234567"


def allow_australia(tenant) -> None:
    """Sydney is outside the default allowed countries (US, CA)."""
    from webapp.services import destinations

    destinations.set_allowed_countries(tenant.org_id, ["US", "CA", "AU"])


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _set_cap(tenant, limit: int) -> None:
    from webapp.services import orgs

    orgs.set_max_concurrent_calls(tenant.org_id, limit)


def test_window_in_each_callees_zone(app, tenant):
    allow_australia(tenant)
    """Frozen clock: one weekday three days from now, 15:00 UTC (10:00 in New York, 01:00 the next day
    in Sydney). New York is dialled; Sydney waits for its 09:00 on that weekday a week later. The
    real clock is never inside the window during the test, so no worker dials anything early."""
    from webapp.services import dispatch

    day = date.today() + timedelta(days=3)
    window = {"days": [DAYS[day.weekday()]], "start": "09:00", "end": "20:00"}
    agent = tenant.agent()
    data = create_campaign(tenant, agent["id"], [{"to_number": NY}, {"to_number": SYDNEY}], calling_window=window)
    start(tenant, data["id"])
    frozen = datetime.combine(day, time(15, 0), tzinfo=UTC)
    dispatch.dispatch_org(tenant.org_id, now=frozen)
    tasks = {task["to_number"]: task for task in campaign_tasks(tenant, data["id"])}
    assert tasks[NY]["status"] in ("in_progress", "completed") and tasks[NY]["attempt_count"] == 1
    sydney = tasks[SYDNEY]
    assert sydney["status"] == "pending" and sydney["status_reason"] == "waiting_for_window"
    opens = datetime.combine(day + timedelta(days=7), time(9, 0), tzinfo=ZoneInfo("Australia/Sydney"))
    assert datetime.fromisoformat(sydney["dispatch_after"].replace("Z", "+00:00")) == opens
    assert campaign(tenant, data["id"])["counters"]["waiting_for_window"] == 1
    dispatch.dispatch_org(tenant.org_id, now=opens - timedelta(minutes=1))
    assert task_detail(tenant, sydney["id"])["status"] == "pending"
    dispatch.dispatch_org(tenant.org_id, now=opens)
    assert task_detail(tenant, sydney["id"])["attempt_count"] == 1


def test_a_number_in_several_zones_waits_until_open_in_all():
    from webapp.services import windows

    window = {"days": list(DAYS), "start": "09:00", "end": "20:00"}
    mobile = "+61412345678"  # an Australian mobile: Perth to Lord Howe Island, Christmas Island, Cocos
    zones = windows.zones_for(mobile)
    assert len(zones) > 3
    now = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 11:00 in Sydney, 08:00 in Perth
    assert not windows.is_open(window, mobile, now) and windows.is_open(window, SYDNEY, now)
    opens = windows.next_open(window, mobile, now)
    assert all(time(9) <= opens.astimezone(zone).time() < time(20) for zone in zones)
    latest_start = max(datetime.combine(now.astimezone(z).date(), time(9), tzinfo=z) for z in zones)
    assert opens == latest_start.astimezone(UTC)
    narrow = {"days": ["mon"], "start": "09:00", "end": "10:00"}  # Christmas Island to Lord Howe: never all
    assert windows.next_open(narrow, mobile, now) is None


OUTCOMES = {"+15005550001": "no_answer", "+15005550002": "busy", "+15005550003": "voicemail", "+15005550004": "dropped"}
BACKOFF = {"no_answer": 0.01, "busy": 0.02, "voicemail": 0.01, "dropped": 0.015}  # minutes


def test_retries_with_backoff_on_each_retryable_outcome(tenant, worker):
    agent = tenant.agent()
    rows = [{"to_number": number} for number in OUTCOMES]
    data = create_campaign(tenant, agent["id"], rows, max_attempts=2, backoff_minutes=BACKOFF,
                           retry_on=list(BACKOFF))  # fmt: skip
    start(tenant, data["id"])
    done = wait_for_campaign(tenant, data["id"], timeout=120)
    assert done["counters"]["failed"] == 4
    for task in campaign_tasks(tenant, data["id"]):
        outcome = OUTCOMES[task["to_number"]]
        detail = task_detail(tenant, task["id"])
        assert detail["status"] == "failed" and detail["status_reason"] == outcome
        attempts = detail["attempts"]
        assert [a["attempt_number"] for a in attempts] == [1, 2] and detail["attempt_count"] == 2
        assert {a["failure_reason"] for a in attempts} == {outcome}
        first_end = datetime.fromisoformat(attempts[0]["ended_at"].replace("Z", "+00:00"))
        second = datetime.fromisoformat(attempts[1]["created_at"].replace("Z", "+00:00"))
        assert second - first_end >= timedelta(minutes=BACKOFF[outcome]), outcome


def test_do_not_call_added_mid_campaign(app, tenant, worker):
    from webapp.extensions import db
    from webapp.models import DncEntry

    agent = tenant.agent()
    numbers = ["+12125550161", "+12125550162", "+12125550163"]
    data = create_campaign(tenant, agent["id"], [{"to_number": n} for n in numbers], max_concurrent_calls=1)
    tasks = {task["to_number"]: task for task in campaign_tasks(tenant, data["id"])}
    assert tenant.api.post("/dnc", json={"number": numbers[1], "reason": "asked"}).status_code == 201
    # Listed behind the API's back (as a concurrent writer could): caught just before dialling.
    db.session.add(DncEntry(organization_id=tenant.org_id, number=numbers[2], source="import"))
    db.session.commit()
    start(tenant, data["id"])
    done = wait_for_campaign(tenant, data["id"])
    assert done["counters"] | {"total": 0} == {
        "total": 0,
        "pending": 0,
        "waiting_for_window": 0,
        "in_progress": 0,
        "retry_scheduled": 0,
        "completed": 1,
        "failed": 0,
        "skipped": 2,
    }
    for number in numbers[1:]:
        detail = task_detail(tenant, tasks[number]["id"])
        assert (detail["status"], detail["status_reason"], detail["attempts"]) == ("skipped", "do_not_call", [])


@pytest.mark.parametrize("how", ["spoken", "dtmf"])
def test_opt_out_from_the_call_itself(tenant, worker, how):
    if how == "spoken":
        agent, number = tenant.agent(), "+15005550007"
    else:
        agent = tenant.agent(dtmf_rules={"inputs": {"9": {"action": "opt_out"}}})
        number = "+15005550006"
    later = tenant.task(agent["id"], to_number=number, name="Another call to the same number")
    data = create_campaign(tenant, agent["id"], [{"to_number": number}])
    start(tenant, data["id"])
    wait_for_campaign(tenant, data["id"])

    def listed():
        entries = tenant.api.get(f"/dnc?number={number.replace('+', '%2B')}").get_json()["data"]
        return entries[0] if entries else None

    entry = wait_until(listed, timeout=30, message="the number on the do-not-call list")
    call_id = campaign_tasks(tenant, data["id"])[0]["last_call_id"]
    assert entry["source"] == "call" and entry["call_id"] == call_id
    skipped = task_detail(tenant, later["id"])
    assert (skipped["status"], skipped["status_reason"]) == ("skipped", "do_not_call")


EXECUTE_SCRIPT = """
import json, os, sys, time
from webapp import create_app
from webapp.services import calls
app = create_app()
go = sys.argv[2]
open(f"{go}.ready-{os.getpid()}", "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
with app.app_context():
    print(json.dumps([calls.execute_task(sys.argv[1], task_id) is None for task_id in sys.argv[3:]]))
"""


def test_org_cap_holds_under_concurrent_executes_from_several_processes(tenant, worker, tmp_path):
    _set_cap(tenant, 3)
    agent = tenant.agent()
    task_ids = [tenant.task(agent["id"], to_number=f"+1415555{i:04d}")["id"] for i in range(12)]
    go = tmp_path / "go"
    processes = [
        subprocess.Popen([sys.executable, "-c", EXECUTE_SCRIPT, tenant.org_id, str(go), *task_ids[i::4]],
                         cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, text=True)
        for i in range(4)
    ]  # fmt: skip
    wait_until(lambda: len(list(tmp_path.glob("go.ready-*"))) == 4, timeout=120, message="the processes to start")
    go.write_text("go")
    queued = sum(sum(json.loads(process.communicate(timeout=scaled(120))[0])) for process in processes)
    assert queued >= 9 - 3  # at most 3 placed at once; the rest queued, not refused

    def all_done():
        return all(task_detail(tenant, t)["status"] == "completed" for t in task_ids)

    wait_until(all_done, timeout=120, interval=0.5, message="every task to complete")
    calls = org_calls(tenant)
    assert len(calls) == 12 and len({call["task_id"] for call in calls}) == 12
    assert max_overlap(calls) <= 3


def test_campaign_cap_with_two_worker_processes(tenant, start_worker):
    start_worker(processes=2)
    agent = tenant.agent()
    rows = [{"to_number": f"+1415556{i:04d}"} for i in range(6)]
    data = create_campaign(tenant, agent["id"], rows, max_concurrent_calls=2)
    start(tenant, data["id"])
    wait_for_campaign(tenant, data["id"], timeout=180)
    calls = org_calls(tenant)
    assert len(calls) == 6 and max_overlap(calls) <= 2


def test_pause_resume_cancel_mid_flight(app, tenant, worker):
    from webapp.services import dispatch

    agent = tenant.agent()
    rows = [{"to_number": f"+1415557{i:04d}"} for i in range(4)]
    data = create_campaign(tenant, agent["id"], rows, max_concurrent_calls=1)
    start(tenant, data["id"])
    wait_until(lambda: campaign(tenant, data["id"])["counters"]["in_progress"] == 1, message="a call in progress")
    assert tenant.api.post(f"/campaigns/{data['id']}/pause").get_json()["data"]["status"] == "paused"
    wait_until(lambda: campaign(tenant, data["id"])["counters"]["in_progress"] == 0, message="the call to end")
    dispatch.dispatch_pass()  # a paused campaign dials nothing
    counters = campaign(tenant, data["id"])["counters"]
    assert counters["completed"] == 1 and counters["pending"] == 3 and counters["in_progress"] == 0
    assert tenant.api.post(f"/campaigns/{data['id']}/resume").get_json()["data"]["status"] == "running"
    wait_until(lambda: campaign(tenant, data["id"])["counters"]["in_progress"] == 1, message="dialling to resume")
    cancelled = tenant.api.post(f"/campaigns/{data['id']}/cancel").get_json()["data"]
    assert cancelled["status"] == "cancelled" and cancelled["counters"]["failed"] == 2
    wait_until(lambda: campaign(tenant, data["id"])["counters"]["in_progress"] == 0, message="the last call to end")
    counters = campaign(tenant, data["id"])["counters"]
    assert counters["completed"] == 2 and counters["failed"] == 2  # the call in flight finished
    reasons = {task["status_reason"] for task in campaign_tasks(tenant, data["id"]) if task["status"] == "failed"}
    assert reasons == {"campaign_cancelled"}


def test_worker_killed_mid_campaign(tenant, start_worker):
    """Nothing dialled twice, nothing lost: every task ends with exactly one dialled call."""
    env = {"CALL_PLACE_TIMEOUT_SECONDS": "3"}
    first = start_worker(extra_env=env)
    agent = tenant.agent()
    rows = [{"to_number": f"+1415558{i:04d}"} for i in range(10)]
    data = create_campaign(tenant, agent["id"], rows, max_concurrent_calls=4)
    start(tenant, data["id"])
    wait_until(lambda: campaign(tenant, data["id"])["counters"]["completed"] >= 2, timeout=60, message="progress")
    first.kill()
    start_worker(extra_env=env)
    done = wait_for_campaign(tenant, data["id"], timeout=120)
    assert done["counters"]["completed"] + done["counters"]["failed"] == 10
    dialled: dict[str, int] = {}
    for task in campaign_tasks(tenant, data["id"]):
        detail = task_detail(tenant, task["id"])
        placed = [a for a in detail["attempts"] if a["failure_reason"] != "provider_error"]
        dialled[task["id"]] = len(placed)
    assert set(dialled.values()) == {1}, dialled


def test_fair_dispatch_priority_then_age_and_one_org_never_waits_for_another(app, make_tenant):
    """Org A's campaign fills A's cap; org B's single execute is placed at once; within an
    organization the queue goes by priority, then age."""
    import sqlalchemy as sa

    from webapp.extensions import db
    from webapp.models import Task, utcnow
    from webapp.services import dispatch

    big, small = make_tenant(), make_tenant()
    _set_cap(big, 2)
    agent = big.agent()
    rows = [{"to_number": f"+1415559{i:04d}"} for i in range(30)]
    data = create_campaign(big, agent["id"], rows, max_concurrent_calls=30)
    start(big, data["id"])
    dispatch.dispatch_org(big.org_id)
    assert campaign(big, data["id"])["counters"]["pending"] >= 28  # A is at its cap with work waiting
    single = small.task()
    placed = small.api.post(f"/tasks/{single['id']}/execute").get_json()["data"]
    assert placed["call_id"] and not placed.get("queued")

    queue_org = make_tenant()
    _set_cap(queue_org, 1)
    other = queue_org.agent()
    priorities = (0, 5, 5)
    queued = [
        queue_org.task(other["id"], to_number=f"+1415558{i:04d}", priority=p)["id"] for i, p in enumerate(priorities)
    ]
    db.session.execute(  # as executes beyond the cap leave them, oldest first
        sa.update(Task).where(Task.id.in_(queued)).values(dispatch_after=utcnow(), status_reason="queued")
    )
    db.session.commit()
    assert len(dispatch.dispatch_org(queue_org.org_id)) == 1
    statuses = [task_detail(queue_org, task_id)["status"] for task_id in queued]
    assert statuses[0] == statuses[2] == "pending" and statuses[1] != "pending"  # priority 5, the older one
