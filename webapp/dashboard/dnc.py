"""Settings → Do not call: the organization's list, add one number, import a CSV, remove; and the
organization's concurrent-call cap. Everyone can look; owners and admins change them."""

import csv
import io

from flask import request, url_for

from ..errors import AppError
from ..schemas.dnc import DncCreate
from ..schemas.org import OrganizationUpdate
from ..schemas.phone import normalise_typed, validate_e164
from ..services import dnc as service
from ..services import orgs
from .access import admin_required, membership, org_id, phone_region
from .blueprint import bp
from .forms import text, validate
from .views import done, page_number, page_or_partial

PAGE_SIZE = 50
MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _context(**extra) -> dict:
    page = page_number()
    entries, total = service.list_entries(org_id(), number=None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return {"entries": entries, "total": total, "page": page, "page_size": PAGE_SIZE, "errors": {},
            "values": {}, "org": membership().organization, "report": None, **extra}  # fmt: skip


def _render(status: int = 200, **extra):
    context = _context(**extra)
    return page_or_partial("dashboard/settings/dnc.html", "dashboard/settings/_dnc_body.html", status, **context)


@bp.get("/settings/dnc")
def settings_dnc():
    return _render()


@bp.post("/settings/dnc")
@admin_required
def settings_dnc_add():
    values = {"number": normalise_typed(text("number"), phone_region()), "reason": text("reason") or None}
    data, errors = validate(DncCreate, values)
    if not errors:
        try:
            service.add(org_id(), data.number, reason=data.reason, source="dashboard")
        except AppError as exc:
            errors = {"number": exc.message}
    if errors:
        return _render(400, errors=errors, values=values)
    return done(f"{data.number} added to the do-not-call list.", url_for("dashboard.settings_dnc"),
                "dashboard/settings/_dnc_body.html", **_context())  # fmt: skip


@bp.post("/settings/dnc/import")
@admin_required
def settings_dnc_import():
    """A CSV with a number column (number, phone or to_number; else the first) and optional reason."""
    upload = request.files.get("file")
    raw = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
    if not raw or len(raw) > MAX_IMPORT_BYTES:
        return _render(400, errors={"file": "Choose a CSV file of at most 2 MB."})
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace")))
    columns = {name.strip().casefold(): name for name in reader.fieldnames or []}
    number_column = next((columns[c] for c in ("number", "phone", "to_number") if c in columns),
                         (reader.fieldnames or [None])[0])  # fmt: skip
    added, refused = 0, []
    for line, row in enumerate(reader, start=2):
        raw_number = (row.get(number_column) or "").strip()
        try:
            number = validate_e164(normalise_typed(raw_number, phone_region()))
            service.add(org_id(), number, reason=(row.get(columns.get("reason", "")) or None), source="import")
            added += 1
        except (ValueError, AppError) as exc:
            refused.append((line, raw_number, getattr(exc, "message", str(exc))))
    return _render(report={"added": added, "refused": refused})


@bp.post("/settings/dnc/<entry_id>/delete")
@admin_required
def settings_dnc_remove(entry_id: str):
    service.remove(org_id(), entry_id)
    return done("Number removed from the do-not-call list.", url_for("dashboard.settings_dnc"),
                "dashboard/settings/_dnc_body.html", **_context())  # fmt: skip


@bp.post("/settings/calling")
@admin_required
def settings_calling():
    data, errors = validate(OrganizationUpdate, {"max_concurrent_calls": text("max_concurrent_calls") or None})
    if errors or data.max_concurrent_calls is None:
        return _render(400, errors=errors or {"max_concurrent_calls": "This field is required."})
    orgs.set_max_concurrent_calls(org_id(), data.max_concurrent_calls)
    return done("Concurrent-call limit saved.", url_for("dashboard.settings_dnc"),
                "dashboard/settings/_dnc_body.html", **_context())  # fmt: skip
