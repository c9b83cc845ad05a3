"""The schema comes from the migrations: empty → head → base on a fresh database of this backend."""

import sqlalchemy as sa


def _tables(database_url: str) -> set[str]:
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_to_head_matches_the_models_and_downgrade_to_base_removes_it(fresh_database_url, flask_cli, db):
    model_tables = set(db.metadata.tables)
    assert {"organizations", "api_keys", "agents", "tasks", "calls", "webhook_deliveries"} <= model_tables
    assert _tables(fresh_database_url) == set()

    flask_cli("db", "upgrade", database_url=fresh_database_url)
    assert _tables(fresh_database_url) == model_tables | {"alembic_version"}
    check = flask_cli("db", "check", database_url=fresh_database_url, check=False)
    assert check.returncode == 0, f"the models differ from the migrated schema:\n{check.stderr[-2000:]}"

    flask_cli("db", "downgrade", "base", database_url=fresh_database_url)
    assert _tables(fresh_database_url) <= {"alembic_version"}
