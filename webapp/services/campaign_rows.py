"""Per-row validation of campaign uploads: each row stands alone, a bad row is reported with its
reasons and never sinks the others."""

from dataclasses import dataclass, field

from pydantic import ValidationError

from ..schemas.campaigns import CampaignTaskRow
from ..schemas.phone import costly_type_refusal, validate_format
from ..telephony.dynamic_variables import missing_for_call
from . import dnc
from .destinations import country_refusal


@dataclass
class RowCheck:
    accepted: list[tuple[int, dict]] = field(default_factory=list)  # (index, clean row)
    rejected: list[dict] = field(default_factory=list)

    def reject(self, index: int, to_number, reasons: dict[str, str]) -> None:
        self.rejected.append(
            {"index": index, "to_number": to_number, "reasons": list(reasons), "details": dict(reasons)}
        )


def missing_row_variables(agent, context_data: dict) -> list[str]:
    """The {{variables}} the agent's prompts use that this row's context_data doesn't provide and
    the agent has no default for (the same rule as a task's: telephony.dynamic_variables)."""
    return sorted(missing_for_call(agent, context_data))


def destination_refusal(number: str) -> str | None:
    """Numbers that cost the caller (premium-rate, shared-cost, personal, ...) are not called."""
    return costly_type_refusal(number)


def check_rows(org_id: str, agent, rows: list, *, existing_numbers: set[str], offset: int = 0) -> RowCheck:
    result = RowCheck()
    parsed: list[tuple[int, CampaignTaskRow | None, dict[str, str], object]] = []
    for index, raw in enumerate(rows, start=offset):
        reasons: dict[str, str] = {}
        to_number = raw.get("to_number") if isinstance(raw, dict) else None
        row = None
        if not isinstance(raw, dict):
            reasons["invalid_row"] = "must be an object"
        else:
            try:
                row = CampaignTaskRow.model_validate(raw)
            except ValidationError as exc:
                reasons["invalid_row"] = "; ".join(
                    f"{'.'.join(map(str, err['loc'])) or 'row'}: {err['msg'].removeprefix('Value error, ')}"
                    for err in exc.errors(include_url=False)
                )
        if row is not None:
            try:
                row.to_number = validate_format(row.to_number)
            except ValueError as exc:
                reasons["invalid_number"] = f"to_number {exc}"
            else:
                refusal = destination_refusal(row.to_number) or country_refusal(org_id, row.to_number)
                if refusal:
                    reasons["not_allowed"] = refusal
            missing = missing_row_variables(agent, row.context_data)
            if missing:
                reasons["missing_variables"] = "context_data lacks " + ", ".join(missing)
        parsed.append((index, row, reasons, to_number))
    numbers = [row.to_number for _, row, reasons, _ in parsed if row is not None and "invalid_number" not in reasons]
    listed = dnc.listed_numbers(org_id, numbers)
    seen = set(existing_numbers)
    for index, row, reasons, to_number in parsed:
        if row is not None and "invalid_number" not in reasons:
            if row.to_number in listed:
                reasons["do_not_call"] = "the number is on the do-not-call list"
            if row.to_number in seen:
                reasons["duplicate_number"] = "the number is already in this campaign"
            elif not reasons:
                seen.add(row.to_number)
        if reasons:
            result.reject(index, to_number, reasons)
        else:
            result.accepted.append((index, row.model_dump(mode="python")))
    return result
