"""The generated OpenAPI 3.1 document and the /docs page built from it."""

import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _api_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) for every /api/v1 route the app serves."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            routes |= {(method, path) for method in rule.methods - IGNORED_METHODS}
    return routes


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_api_route_is_documented(app, document):
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    routes = _api_routes(app)
    assert {("GET", "/api/v1/agents"), ("POST", "/api/v1/tasks/{task_id}/execute")} <= routes
    assert routes == documented


def test_operations_describe_auth_bodies_and_error_envelopes(document):
    create_agent = document["paths"]["/api/v1/agents"]["post"]
    assert create_agent["security"] == [{"apiKey": []}]
    body_schema = create_agent["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    agent_create = document["components"]["schemas"][body_schema]
    assert set(agent_create["required"]) == {"name", "system_prompt"}
    assert {"201", "400", "401", "413", "429"} <= set(create_agent["responses"])
    error_schema = create_agent["responses"]["400"]["content"]["application/json"]["schema"]
    assert error_schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
    assert document["paths"]["/api/v1/api-keys"]["get"]["security"] == [{"session": []}]
    listed = document["paths"]["/api/v1/tasks"]["get"]
    assert {p["name"] for p in listed["parameters"]} == {"agent_id", "campaign_id", "status", "limit", "offset"}


def test_docs_page_lists_the_endpoints(client, document):
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path in document["paths"]:
        assert path in html, path
    assert "openapi.json" in html
