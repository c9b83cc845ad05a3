"""flask commands: create-org, create-api-key (prints only the key), seed-demo (idempotent)."""

import re
import uuid

import sqlalchemy as sa

from tests.api.helpers import assert_ok
from tests.support import ApiClient


def test_create_org_then_a_key_that_works(flask_cli, client):
    name = f"CLI Org {uuid.uuid4().hex[:6]}"
    email = f"cli-{uuid.uuid4().hex[:6]}@example.com"
    created = flask_cli("create-org", "--name", name, "--owner-email", email, "--password", "long-enough-pw")
    assert f"Created organization {name}" in created.stdout and email in created.stdout

    printed = flask_cli("create-api-key", "--org", name, "--name", "deploy").stdout
    assert re.fullmatch(r"va_[A-Za-z0-9_-]{32,}\n", printed), printed
    api = ApiClient(client, printed.strip())
    agent = assert_ok(api.post("/agents", json={"name": "From CLI", "system_prompt": "Be brief."}), 201)
    assert assert_ok(api.get(f"/agents/{agent['id']}"))["name"] == "From CLI"


def test_cli_errors_exit_non_zero_with_a_reason(flask_cli, tenant):
    duplicate = flask_cli("create-org", "--name", "Dup", "--owner-email", tenant.email, "--password", "long-enough-pw",
                          check=False)  # fmt: skip
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    missing = flask_cli("create-api-key", "--org", "No such org anywhere", check=False)
    assert missing.returncode != 0 and missing.stdout == "" and "No organization named" in missing.stderr


def _demo_counts(database_url: str) -> tuple[int, int, int]:
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return tuple(
                connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in ("organizations", "agents", "tasks")
            )
    finally:
        engine.dispose()


def test_seed_demo_creates_once(flask_cli, fresh_database_url):
    flask_cli("db", "upgrade", database_url=fresh_database_url)
    first = flask_cli("seed-demo", database_url=fresh_database_url).stdout
    assert "Created organization Demo Co" in first and "Created agent" in first and "Created task" in first
    orgs, agents, tasks = _demo_counts(fresh_database_url)
    assert orgs == 1 and agents >= 1 and tasks >= 1

    second = flask_cli("seed-demo", database_url=fresh_database_url).stdout
    assert "Created" not in second
    assert "nothing to do" in second
    assert _demo_counts(fresh_database_url) == (orgs, agents, tasks)
