"""The counters as stored, and the same numbers counted from the rows with plain SQL."""

import sqlalchemy as sa

ROW_COUNTS = {
    "calls": "SELECT organization_id, status, COUNT(*) FROM calls GROUP BY organization_id, status",
    "tasks": "SELECT organization_id, status, COUNT(*) FROM tasks GROUP BY organization_id, status",
    "campaigns": "SELECT organization_id, status, COUNT(*) FROM campaigns GROUP BY organization_id, status",
    "agents": "SELECT organization_id, CASE WHEN deleted_at IS NOT NULL THEN 'deleted' WHEN enabled THEN 'enabled' "
    "ELSE 'disabled' END AS s, COUNT(*) FROM agents GROUP BY organization_id, s",
}


def stored_counters(db, org_ids) -> dict:
    db.session.rollback()  # a fresh snapshot
    rows = db.session.execute(sa.text("SELECT organization_id, resource, status, n FROM resource_counts")).all()
    return {(org, resource, status): n for org, resource, status, n in rows if org in org_ids and n != 0}


def counted_rows(db, org_ids) -> dict:
    db.session.rollback()
    counts = {}
    for resource, sql in ROW_COUNTS.items():
        for org, status, n in db.session.execute(sa.text(sql)).all():
            if org in org_ids:
                counts[(org, resource, status)] = n
    return counts


def assert_counters_exact(db, *org_ids) -> dict:
    org_ids = set(org_ids)
    actual = counted_rows(db, org_ids)
    stored = stored_counters(db, org_ids)
    differences = {key: (stored.get(key), actual.get(key)) for key in stored.keys() | actual.keys()
                   if stored.get(key) != actual.get(key)}  # fmt: skip
    assert not differences, f"(counter, rows) where they differ: {differences}"
    return actual
