"""resource_counts from the command line and from migration 0009: `recount-resources` repairs
counters changed behind the application's back; the migration backfills them from existing rows."""

import sqlalchemy as sa

from tests.counts.helpers import assert_counters_exact


def test_recount_repairs_counters_changed_behind_the_app(flask_cli, tenant, db):
    agent = tenant.agent()["id"]
    tenant.task(agent)
    db.session.execute(
        sa.text("UPDATE resource_counts SET n = n + 5 WHERE organization_id = :org AND resource = 'tasks'"),
        {"org": tenant.org_id},
    )
    db.session.execute(
        sa.text("DELETE FROM resource_counts WHERE organization_id = :org AND resource = 'agents'"),
        {"org": tenant.org_id},
    )
    db.session.commit()

    check = flask_cli("recount-resources", "--org", tenant.org_id, "--check", check=False)
    assert check.returncode == 1
    assert f"{tenant.org_id} tasks pending: counted 6, rows 1" in check.stdout
    assert f"{tenant.org_id} agents enabled: counted 0, rows 1" in check.stdout
    assert "2 were off" in flask_cli("recount-resources", "--org", tenant.org_id).stdout
    assert "Counts match the rows" in flask_cli("recount-resources", "--check").stdout
    assert_counters_exact(db, tenant.org_id)
    missing = flask_cli("recount-resources", "--org", "No such organization", check=False)
    assert missing.returncode != 0 and "No organization named" in missing.stderr


def _engine(database_url: str) -> sa.Engine:
    return sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_migration_backfills_the_counts_of_existing_rows(fresh_database_url, flask_cli):
    from webapp.models import Agent, Call, Campaign, Organization, Task

    flask_cli("db", "upgrade", "0008", database_url=fresh_database_url)
    engine = _engine(fresh_database_url)
    try:
        with engine.begin() as connection:
            org = connection.execute(
                sa.insert(Organization.__table__)
                .values(name="Old", webhook_secret="whsec_x")
                .returning(Organization.__table__.c.id)
            ).scalar_one()
            agents = [
                connection.execute(
                    sa.insert(Agent.__table__)
                    .values(organization_id=org, name="A", system_prompt="Hi.", **fields)
                    .returning(Agent.__table__.c.id)
                ).scalar_one()
                for fields in ({"enabled": True}, {"enabled": False}, {"enabled": False, "deleted_at": sa.func.now()})
            ]
            task_rows = [{"organization_id": org, "agent_id": agents[0], "name": "T", "to_number": "+14155550123",
                          "status": status} for status in ("pending", "pending", "completed")]  # fmt: skip
            task_ids = [
                connection.execute(sa.insert(Task.__table__).values(**row).returning(Task.__table__.c.id)).scalar_one()
                for row in task_rows
            ]
            connection.execute(
                sa.insert(Call.__table__).values(organization_id=org, task_id=task_ids[2], agent_id=agents[0],
                                                 to_number="+14155550123", status="completed", provider="simulated")
            )  # fmt: skip
            connection.execute(
                sa.insert(Campaign.__table__).values(organization_id=org, name="C", agent_id=agents[0], status="draft")
            )
        flask_cli("db", "upgrade", database_url=fresh_database_url)
        with engine.connect() as connection:
            counts = connection.execute(sa.text("SELECT resource, status, n FROM resource_counts")).all()
        assert sorted(tuple(row) for row in counts) == [
            ("agents", "deleted", 1), ("agents", "disabled", 1), ("agents", "enabled", 1),
            ("calls", "completed", 1), ("campaigns", "draft", 1), ("tasks", "completed", 1), ("tasks", "pending", 2),
        ]  # fmt: skip
    finally:
        engine.dispose()
