"""Numbers typed in the dashboard without a country code, or with spaces and dashes, are read in the
organization's default phone region and stored in E.164: the task form, the task CSV import, a
campaign's CSV, and the do-not-call list (one number and its CSV import). The API keeps taking E.164
only, as its contract says."""

import io

import pytest

from tests.reliability.helpers import logged_in_client

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def british(app, tenant):
    """The tenant as a British organization: numbers default to GB, and GB may be called."""
    from webapp.services import destinations, orgs

    orgs.set_regional(tenant.org_id, default_phone_region="GB")
    destinations.set_allowed_countries(tenant.org_id, ["GB", "US"])
    client, csrf = logged_in_client(app, tenant)
    return client, csrf, tenant.agent(name="London agent")


def _numbers(tenant, path: str, key: str = "to_number") -> list[str]:
    response = tenant.api.get(path)
    assert response.status_code == 200, response.get_json()
    return sorted(item[key] for item in response.get_json()["data"])


def test_the_task_form_reads_a_local_number_in_the_default_region(british, tenant):
    client, csrf, agent = british
    form = {"name": "Call Ada", "agent_id": agent["id"], "to_number": "020 7946 0958", "priority": "0"}
    response = client.post("/tasks/new", data=form, headers=csrf)
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:500]
    assert _numbers(tenant, "/tasks") == ["+442079460958"]


def test_the_task_import_reads_local_numbers_in_the_default_region(british, tenant):
    client, csrf, agent = british
    csv_file = "name,to_number\nCall Bea,020-7946-0959\nCall Cy,+1 415 555 0199\n"
    response = client.post("/tasks/import", data={"agent_id": agent["id"], "file": (io.BytesIO(csv_file.encode()),
                           "tasks.csv")}, headers=csrf, content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 200 and "<strong>2</strong> tasks created." in response.get_data(as_text=True)
    assert _numbers(tenant, "/tasks") == ["+14155550199", "+442079460959"]


def test_a_campaigns_csv_reads_local_numbers_in_the_default_region(british, tenant):
    client, csrf, agent = british
    form = {"csv_text": "phone,name\n020 7946 0960,Dee\n(020) 7946 0961,Eli\n", "map_to_number": "phone",
            "name": "London calls", "agent_id": agent["id"], "step": "create"}  # fmt: skip
    response = client.post("/campaigns/new", data=form, headers=csrf)
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:800]
    assert _numbers(tenant, "/tasks") == ["+442079460960", "+442079460961"]


def test_the_do_not_call_list_reads_local_numbers_in_the_default_region(british, tenant):
    client, csrf, _ = british
    added = client.post("/settings/dnc", data={"number": "020 7946 0962"}, headers=csrf)
    assert added.status_code in (200, 302, 303), added.get_data(as_text=True)[:500]
    upload = {"file": (io.BytesIO(b"number,reason\n020 7946 0963,asked by letter\n"), "dnc.csv")}
    imported = client.post("/settings/dnc/import", data=upload, headers=csrf, content_type="multipart/form-data")
    assert imported.status_code == 200 and "1 numbers added" in imported.get_data(as_text=True)
    assert _numbers(tenant, "/dnc", "number") == ["+442079460962", "+442079460963"]


def test_the_default_region_is_us_until_changed(app, tenant):
    client, csrf = logged_in_client(app, tenant)
    agent = tenant.agent(name="Default agent")
    form = {"name": "Call Flo", "agent_id": agent["id"], "to_number": "(415) 555-0142", "priority": "0"}
    assert client.post("/tasks/new", data=form, headers=csrf).status_code in (200, 302, 303)
    assert _numbers(tenant, "/tasks") == ["+14155550142"]


def test_the_api_still_takes_e164_only(british, tenant):
    _, _, agent = british
    response = tenant.api.post("/tasks", json={"name": "x", "agent_id": agent["id"], "to_number": "020 7946 0958"})
    assert response.status_code == 400 and list(response.get_json()["details"]) == ["to_number"]


def test_an_agents_transfer_number_reads_in_the_default_region(british, tenant):
    client, csrf, _ = british
    form = {"name": "Transferring agent", "system_prompt": "You help.", "input_key": "0", "input_action": "transfer",
            "input_label": "", "input_to_number": "020 7946 0964"}  # fmt: skip
    response = client.post("/agents/new", data=form, headers=csrf)
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:500]
    agents = {agent["name"]: agent for agent in tenant.api.get("/agents").get_json()["data"]}
    assert agents["Transferring agent"]["dtmf_rules"]["inputs"]["0"]["to_number"] == "+442079460964"
