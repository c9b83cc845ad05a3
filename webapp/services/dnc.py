"""The organization's do-not-call list: checked when a task is created and again just before
dialling; a callee who opts out during a call is added with the call as the source."""

import logging

import sqlalchemy as sa

from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import DncEntry, Task, utcnow
from . import resource_counts
from .scoping import owned, page

log = logging.getLogger(__name__)

LOOKUP_CHUNK = 500


def list_entries(org_id: str, *, number: str | None, limit: int, offset: int):
    statement = owned(DncEntry, org_id)
    if number:
        statement = statement.where(DncEntry.number == number)
    return page(statement, order_by=(DncEntry.created_at.desc(), DncEntry.id), limit=limit, offset=offset)


def listed_numbers(org_id: str, numbers) -> set[str]:
    """Which of these numbers are on the organization's list."""
    numbers = list(dict.fromkeys(numbers))
    found: set[str] = set()
    for start in range(0, len(numbers), LOOKUP_CHUNK):
        chunk = numbers[start : start + LOOKUP_CHUNK]
        found.update(
            db.session.execute(
                sa.select(DncEntry.number).where(DncEntry.organization_id == org_id, DncEntry.number.in_(chunk))
            ).scalars()
        )
    return found


def is_listed(org_id: str, number: str) -> bool:
    return bool(listed_numbers(org_id, [number]))


def add(org_id: str, number: str, *, reason: str | None, source: str, call_id: str | None = None) -> DncEntry:
    """Add the number (409 if it is already listed) and skip its pending tasks."""
    if is_listed(org_id, number):
        raise Conflict("This number is already on the do-not-call list", {"number": number})
    entry = DncEntry(organization_id=org_id, number=number, reason=reason, source=source, call_id=call_id)
    db.session.add(entry)
    skip_pending_tasks(org_id, number)
    db.session.commit()
    return entry


def add_from_call(call) -> bool:
    """The callee opted out during this call: list the number (once) and skip its other pending
    tasks in the organization. Returns whether the number was newly listed."""
    org_id, number, call_id = call.organization_id, call.to_number, call.id
    newly = not is_listed(org_id, number)
    if newly:
        db.session.add(
            DncEntry(organization_id=org_id, number=number, reason="opted out during the call", source="call",
                     call_id=call_id)
        )  # fmt: skip
    skip_pending_tasks(org_id, number)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # listed concurrently by another call of the same number
        db.session.rollback()
        skip_pending_tasks(org_id, number)
        db.session.commit()
        newly = False
    return newly


def skip_pending_tasks(org_id: str, number: str) -> int:
    now = utcnow()
    skipped = db.session.execute(
        sa.update(Task)
        .where(Task.organization_id == org_id, Task.to_number == number, Task.status == "pending")
        .values(status="skipped", status_reason="do_not_call", dispatch_after=None, finished_at=now, updated_at=now)
    ).rowcount
    resource_counts.moved(org_id, "tasks", "pending", "skipped", skipped)
    return skipped


def remove(org_id: str, entry_or_number: str) -> None:
    """Remove by entry id or by number."""
    if "\x00" in entry_or_number:  # no entry holds NUL, and PostgreSQL refuses to compare text with one
        raise NotFound("Do-not-call entry")
    entry = db.session.execute(
        owned(DncEntry, org_id).where(
            sa.or_(DncEntry.id == entry_or_number[:36], DncEntry.number == entry_or_number[:20])
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFound("Do-not-call entry")
    db.session.delete(entry)
    db.session.commit()
