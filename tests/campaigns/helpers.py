"""Helpers for the campaign tests."""

from datetime import datetime

from tests.support import wait_until

CONVERSATION = "+14155550123"


def create_campaign(tenant, agent_id: str, rows: list[dict], **fields) -> dict:
    body = {"name": "Campaign", "agent_id": agent_id, "tasks": rows, **fields}
    response = tenant.api.post("/campaigns", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def start(tenant, campaign_id: str) -> dict:
    response = tenant.api.post(f"/campaigns/{campaign_id}/start")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def campaign(tenant, campaign_id: str) -> dict:
    return tenant.api.get(f"/campaigns/{campaign_id}").get_json()["data"]


def campaign_tasks(tenant, campaign_id: str) -> list[dict]:
    return tenant.api.get(f"/tasks?campaign_id={campaign_id}&limit=100").get_json()["data"]


def task_detail(tenant, task_id: str) -> dict:
    return tenant.api.get(f"/tasks/{task_id}").get_json()["data"]


def wait_for_campaign(tenant, campaign_id: str, status: str = "completed", timeout: float = 90) -> dict:
    def reached():
        data = campaign(tenant, campaign_id)
        return data if data["status"] == status else None

    return wait_until(reached, timeout=timeout, message=f"campaign {campaign_id} to be {status}")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def max_overlap(calls: list[dict]) -> int:
    """The most calls that were active at once: each call holds its slot from creation to its end."""
    events = []
    for call in calls:
        events.append((_time(call["created_at"]), 1))
        events.append((_time(call["ended_at"]) if call.get("ended_at") else datetime.max.replace(tzinfo=None), -1))
    events = [(moment.replace(tzinfo=None), delta) for moment, delta in events]
    current = highest = 0
    for _, delta in sorted(events, key=lambda event: (event[0], event[1])):  # ends before starts at a tie
        current += delta
        highest = max(highest, current)
    return highest


def org_calls(tenant) -> list[dict]:
    calls, offset = [], 0
    while True:
        page = tenant.api.get(f"/calls?limit=100&offset={offset}").get_json()
        calls += page["data"]
        if not page["meta"]["pagination"]["has_more"]:
            return calls
        offset += 100
