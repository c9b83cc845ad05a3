"""Campaigns: list with progress, create from a CSV (map, preview, create), a campaign's page with
live counters, outcomes and its tasks, and start/pause/resume/cancel."""

from flask import redirect, render_template, request, url_for

from ..errors import AppError
from ..schemas.campaigns import DAYS
from ..services import campaigns as service
from ..services import tasks as task_service
from . import campaign_upload as upload
from .access import org_id
from .blueprint import bp
from .tasks import org_agents
from .views import done, page_number, page_or_partial

PAGE_SIZE = 25
OUTCOMES = ("no_answer", "busy", "voicemail", "dropped")
ACTIONS = {"start": "started", "pause": "paused", "resume": "resumed", "cancel": "cancelled"}


@bp.get("/campaigns")
def campaigns_index():
    page = page_number()
    rows, total = service.list_campaigns(org_id(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    service.with_counters(rows)
    running = any(row.status == "running" for row in rows)
    return page_or_partial("dashboard/campaigns/index.html", "dashboard/campaigns/_list.html", campaigns=rows,
                           total=total, page=page, page_size=PAGE_SIZE, running=running)  # fmt: skip


def _form_context(**extra) -> dict:
    return {"agents": org_agents(), "days": DAYS, "outcomes": OUTCOMES, "values": request.form, "errors": {},
            "header": [], "mapping": {}, "preview": [], "csv_text": "", "total_rows": 0, **extra}  # fmt: skip


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_new():
    if request.method == "GET":
        return render_template("dashboard/campaigns/new.html", **_form_context(values={}))
    text, error = upload.read_csv_text()
    if error:
        return render_template("dashboard/campaigns/new.html", **_form_context(errors={"file": error})), 400
    header, records = upload.parse(text) if text else ([], [])
    mapping = upload.mapping_from_form(header)
    rows = upload.rows_for(records, mapping)
    payload = upload.settings_from_form()
    context = {"header": header, "mapping": mapping, "csv_text": text, "total_rows": len(rows)}
    if not records:
        return render_template("dashboard/campaigns/new.html",
                               **_form_context(errors={"file": "Choose a CSV file with a header line and rows."},
                                               **context)), 400  # fmt: skip
    if not mapping["to_number"]:
        context["errors"] = {"map_to_number": "Choose the column with the phone numbers."}
        return render_template("dashboard/campaigns/new.html", **_form_context(**context)), 400
    if request.form.get("step") != "create":
        errors, shown = upload.preview(payload, rows[: upload.PREVIEW_ROWS])
        page = render_template("dashboard/campaigns/new.html", **_form_context(errors=errors, preview=shown, **context))
        return page, (400 if errors else 200)
    campaign, check, errors = upload.create(payload, rows)
    if errors:
        return render_template("dashboard/campaigns/new.html", **_form_context(errors=errors, **context)), 400
    message = f"Campaign “{campaign.name}” created with {len(check.accepted)} tasks"
    message += f"; {len(check.rejected)} rows refused." if check.rejected else "."
    return done(message, url_for("dashboard.campaign_detail", campaign_id=campaign.id))


def _detail_context(campaign_id: str) -> dict:
    campaign = service.with_counters([service.get_campaign(org_id(), campaign_id)])[0]
    page = page_number()
    tasks, total = task_service.list_tasks(org_id(), campaign_id=campaign.id, limit=PAGE_SIZE,
                                           offset=(page - 1) * PAGE_SIZE)  # fmt: skip
    counters = campaign.counters
    finished = counters["completed"] + counters["failed"] + counters["skipped"]
    percent = round(100 * finished / counters["total"]) if counters["total"] else 0
    return {"campaign": campaign, "counters": counters, "percent": percent, "tasks": tasks, "total": total,
            "page": page, "page_size": PAGE_SIZE, "outcomes": service.outcomes(campaign.id),
            "live": campaign.status == "running" or counters["in_progress"] > 0}  # fmt: skip


@bp.get("/campaigns/<campaign_id>")
def campaign_detail(campaign_id: str):
    return page_or_partial("dashboard/campaigns/detail.html", "dashboard/campaigns/_body.html",
                           **_detail_context(campaign_id))  # fmt: skip


@bp.post("/campaigns/<campaign_id>/<action>")
def campaign_action(campaign_id: str, action: str):
    if action not in ACTIONS:
        return redirect(url_for("dashboard.campaign_detail", campaign_id=campaign_id))
    try:
        campaign = getattr(service, f"{action}_campaign")(org_id(), campaign_id)
        message, kind = f"Campaign {ACTIONS[action]}.", "success"
    except AppError as exc:
        campaign, message, kind = None, exc.message, "error"
    location = url_for("dashboard.campaign_detail", campaign_id=campaign_id)
    if campaign is None:
        from flask import flash

        flash(message, kind)
        return redirect(location)
    return done(message, location, "dashboard/campaigns/_body.html", **_detail_context(campaign_id))
