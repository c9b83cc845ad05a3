"""Import many tasks from a CSV file: valid rows are created, every refused row is reported with why.

Columns: name, to_number, and agent (an agent's name or id; rows without one use the agent chosen in
the form); optional priority, scheduled_at (ISO-8601 with a time zone), starting_message; every
other column becomes a context_data value."""

import csv
import io
from dataclasses import dataclass, field

from flask import Response, request

from ..errors import AppError
from ..schemas.phone import normalise_typed
from ..schemas.tasks import TaskCreate
from ..services import tasks as service
from .access import org_id, phone_region
from .blueprint import bp
from .forms import validate
from .tasks import org_agents
from .views import page_or_partial

REQUIRED_COLUMNS = ("name", "to_number")
AGENT_COLUMN = "agent"
OPTIONAL_COLUMNS = ("priority", "scheduled_at", "starting_message")
MAX_ROWS = 1000
EXAMPLE_PEOPLE = (
    ("Call Jane", "+14155550123", "0", "", "Jane Roe", "A-1001"),
    ("Call Sam", "+1 415 555 0124", "5", "2030-01-01T09:00:00Z", "Sam Lee", "A-1002"),
)


def example_csv(agents: list) -> str:
    """An example that imports as it is into this organization: its own agents, by name."""
    names = [agent.name for agent in agents if agent.enabled] or [agent.name for agent in agents] or ["Your agent"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "to_number", "agent", "priority", "scheduled_at", "customer_name", "order_id"])
    for index, (name, number, priority, scheduled_at, customer, order) in enumerate(EXAMPLE_PEOPLE):
        writer.writerow([name, number, names[index % len(names)], priority, scheduled_at, customer, order])
    return buffer.getvalue()


@dataclass
class RefusedRow:
    line: int
    name: str
    to_number: str
    reasons: list[str]


@dataclass
class ImportReport:
    created: int = 0
    refused: list[RefusedRow] = field(default_factory=list)
    error: str | None = None


class AgentDirectory:
    """Finds an agent by id, or by name when exactly one agent has it."""

    def __init__(self, agents: list):
        self.by_id = {agent.id: agent for agent in agents}
        self.by_name: dict[str, list] = {}
        for agent in agents:
            self.by_name.setdefault(agent.name.strip().casefold(), []).append(agent)

    def find(self, reference: str):
        if reference in self.by_id:
            return self.by_id[reference], None
        named = self.by_name.get(reference.strip().casefold(), [])
        if len(named) == 1:
            return named[0], None
        if named:
            return None, f"agent: {len(named)} agents are named “{reference}”; use the agent's id instead"
        return None, f"agent: no agent named or with id “{reference}” in your organization"


def _reader(raw: bytes) -> csv.DictReader:
    text = raw.decode("utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.DictReader(io.StringIO(text), dialect=dialect)


def _payload(row: dict, agent_id: str) -> dict:
    payload = {"name": row["name"], "to_number": normalise_typed(row["to_number"], phone_region()),
               "agent_id": agent_id}  # fmt: skip
    payload.update({column: row[column] for column in OPTIONAL_COLUMNS if row.get(column)})
    reserved = (*REQUIRED_COLUMNS, AGENT_COLUMN, *OPTIONAL_COLUMNS)
    payload["context_data"] = {key: value for key, value in row.items() if key not in reserved and value}
    return payload


def _import_row(row: dict, agents: AgentDirectory, default_agent: str) -> list[str]:
    """Creates the task; returns the reasons it was refused (empty when created)."""
    reference = row.get(AGENT_COLUMN) or default_agent
    if not reference:
        return ["agent: this row names no agent; fill in its agent column or choose an agent for the import"]
    agent, problem = agents.find(reference)
    payload = _payload(row, agent.id if agent else "")
    data, errors = validate(TaskCreate, payload)
    reasons = [problem] if problem else []
    reasons += [f"{key}: {message}" for key, message in errors.items() if not (problem and key == "agent_id")]
    if reasons:
        return reasons
    try:
        service.create_task(org_id(), data)
    except AppError as exc:
        return [exc.message, *(f"{key}: {value}" for key, value in exc.details.items())]
    return []


def import_csv(raw: bytes, default_agent: str = "") -> ImportReport:
    report = ImportReport()
    try:
        reader = _reader(raw)
        columns = [(name or "").strip().casefold() for name in reader.fieldnames or []]
    except (UnicodeDecodeError, csv.Error):
        return ImportReport(error="This file is not a UTF-8 CSV file. Save it as “CSV UTF-8” and try again.")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if AGENT_COLUMN not in columns and not default_agent:
        missing.append(f"{AGENT_COLUMN} (or choose the agent for every row in the form)")
    if missing:
        return ImportReport(error=f"The first line must name the columns; missing: {', '.join(missing)}.")
    reader.fieldnames = columns
    try:
        _import_rows(reader, AgentDirectory(org_agents()), default_agent, report)
    except csv.Error as exc:
        report.error = f"Line {reader.line_num} could not be read ({exc}); the rows before it were imported."
    return report


def _import_rows(reader: csv.DictReader, agents: AgentDirectory, default_agent: str, report: ImportReport) -> None:
    for index, row in enumerate(reader):
        if index >= MAX_ROWS:
            report.error = f"Only the first {MAX_ROWS} rows were read; import the rest in another file."
            return
        cells = {key: (value or "").strip() for key, value in row.items() if key}
        if not any(cells.values()):
            continue
        reasons = _import_row(cells, agents, default_agent)
        if reasons:
            report.refused.append(
                RefusedRow(reader.line_num, cells.get("name", ""), cells.get("to_number", ""), reasons)
            )
        else:
            report.created += 1


@bp.route("/tasks/import", methods=["GET", "POST"])
def task_import():
    report, agents = None, org_agents()
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            report = ImportReport(error="Choose a CSV file to import.")
        else:
            report = import_csv(upload.read(), request.form.get("agent_id", "").strip()[:36])
    return page_or_partial("dashboard/tasks/import.html", "dashboard/tasks/_import_report.html", report=report,
                           columns=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS, example=example_csv(agents),
                           agent_options=[(agent.id, agent.name) for agent in agents if agent.enabled])  # fmt: skip


@bp.get("/tasks/import/example.csv")
def task_import_example():
    return Response(example_csv(org_agents()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=tasks-example.csv"})  # fmt: skip
