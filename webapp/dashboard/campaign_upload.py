"""New campaign from a CSV file: upload, map the columns, preview the first rows with each row's
errors (nothing is stored yet), then create. The CSV travels in the form between the steps."""

import csv
import io

from flask import request

from ..errors import AppError
from ..schemas.campaigns import DAYS, CampaignCreate
from ..schemas.phone import normalise_typed
from ..services import agents as agent_service
from ..services import campaigns as service
from ..services.campaign_rows import check_rows
from .access import org_id, phone_region
from .forms import validate

MAX_CSV_BYTES = 4 * 1024 * 1024
PREVIEW_ROWS = 20
NUMBER_GUESSES = ("to_number", "phone", "phone_number", "number", "mobile", "tel")
NAME_GUESSES = ("name", "full_name", "customer_name", "contact")


def read_csv_text() -> tuple[str, str | None]:
    """The CSV from the upload (first step) or the hidden field (later steps); an error or None."""
    upload = request.files.get("file")
    if upload and upload.filename:
        raw = upload.read(MAX_CSV_BYTES + 1)
        if len(raw) > MAX_CSV_BYTES:
            return "", "The file is larger than 4 MB; split it into several campaigns or add pages through the API."
        try:
            return raw.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return "", "The file is not UTF-8 text."
    return request.form.get("csv_text", ""), None


def parse(text: str) -> tuple[list[str], list[dict]]:
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [column.strip() for column in (reader.fieldnames or []) if column and column.strip()]
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    return header, [row for row in rows if any(row.values())]


def _guess(header: list[str], guesses: tuple[str, ...]) -> str:
    lowered = {column.casefold(): column for column in header}
    return next((lowered[guess] for guess in guesses if guess in lowered), "")


def mapping_from_form(header: list[str]) -> dict[str, str]:
    mapping = {
        "to_number": request.form.get("map_to_number") or _guess(header, NUMBER_GUESSES),
        "name": request.form.get("map_name", None),
        "priority": request.form.get("map_priority", None),
    }
    if mapping["name"] is None:
        mapping["name"] = _guess(header, NAME_GUESSES)
    if mapping["priority"] is None:
        mapping["priority"] = _guess(header, ("priority",))
    return {key: value if value in header else "" for key, value in mapping.items()}


def rows_for(records: list[dict], mapping: dict[str, str]) -> list[dict]:
    """CSV records → campaign rows: mapped columns (numbers as typed normalised to E.164 with the
    organization's default country), and every column but the number and priority into context_data
    (a prompt may well greet the callee by the name column)."""
    used = {mapping["to_number"], mapping["priority"]} - {""}  # the name stays in the context too
    rows = []
    for record in records:
        typed = record.get(mapping["to_number"], "") if mapping["to_number"] else ""
        row: dict = {"to_number": normalise_typed(typed, phone_region())}
        if mapping["name"] and record.get(mapping["name"]):
            row["name"] = record[mapping["name"]]
        if mapping["priority"] and record.get(mapping["priority"]):
            value = record[mapping["priority"]]
            row["priority"] = int(value) if value.lstrip("-").isdigit() else value
        row["context_data"] = {key: value for key, value in record.items() if key not in used and value != ""}
        rows.append(row)
    return rows


def settings_from_form() -> dict:
    """The campaign's settings as the API takes them (validated by CampaignCreate)."""
    form = request.form
    payload: dict = {
        "name": form.get("name", "").strip(),
        "agent_id": form.get("agent_id", ""),
        "max_concurrent_calls": form.get("max_concurrent_calls", "10").strip() or "10",
        "max_attempts": form.get("max_attempts", "1").strip() or "1",
        "retry_on": form.getlist("retry_on"),
        "backoff_minutes": form.get("backoff_minutes", "60").strip() or "60",
    }
    days = [day for day in form.getlist("days") if day in DAYS]
    if form.get("window_start") or form.get("window_end") or days:
        payload["calling_window"] = {"days": days, "start": form.get("window_start", "").strip(),
                                     "end": form.get("window_end", "").strip()}  # fmt: skip
    for name in ("start_at", "end_at"):
        if form.get(name, "").strip():
            payload[name] = form[name].strip()
    return payload


def preview(payload: dict, rows: list[dict]) -> tuple[dict, list[dict]]:
    """Settings errors, and each of the first rows with its problems (nothing is stored)."""
    data, errors = validate(CampaignCreate, {**payload, "tasks": []})
    shown = []
    if data is not None:
        try:
            agent = agent_service.get_agent(org_id(), data.agent_id)
        except AppError:
            errors["agent_id"] = "Choose one of your agents."
        else:
            check = check_rows(org_id(), agent, rows, existing_numbers=set())
            problems = {item["index"]: item["details"] for item in check.rejected}
            shown = [{"index": i, "row": row, "problems": problems.get(i, {})} for i, row in enumerate(rows)]
    return errors, shown


def create(payload: dict, rows: list[dict]):
    data, errors = validate(CampaignCreate, {**payload, "tasks": rows})
    if errors:
        return None, None, errors
    try:
        campaign, check = service.create_campaign(org_id(), data)
    except AppError as exc:
        return None, None, exc.details or {"form": exc.message}
    return campaign, check, {}
