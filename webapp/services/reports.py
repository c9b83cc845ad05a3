"""Call reports: the provider's analysis when it gave one, else the local analyzer's reading."""

import phonenumbers

from ..extensions import db
from ..models import Call, Organization
from .analysis import analyze_call
from .destinations import country_of


def spoken_number_region(call: Call) -> str:
    """Where a number the callee says without a country code is: the country of the number called,
    else the organization's default phone region."""
    country = country_of(call.to_number)
    if country in phonenumbers.SUPPORTED_REGIONS:
        return country
    return db.session.get(Organization, call.organization_id).default_phone_region


def _local(call: Call) -> dict:
    return analyze_call(
        call.transcript,
        status=call.status,
        failure_reason=call.failure_reason,
        end_reason=call.end_reason,
        duration_seconds=call.duration_seconds,
        events=call.events or (),
        agent_prompt=call.agent.system_prompt if call.agent else "",
        context_data=call.task.context_data if call.task else None,
        phone_region=spoken_number_region(call),
    )


def build_report(call: Call) -> dict:
    report = _local(call)
    analysis = call.analysis
    if not analysis:
        return report
    provider_data = analysis.get("data_collection") or {}
    return {
        **report,
        "summary": analysis.get("summary") or report["summary"],
        "call_successful": (
            analysis["call_successful"] if analysis.get("call_successful") is not None else report["call_successful"]
        ),
        "extracted_data": {**report["extracted_data"], **provider_data},
        "source": "provider",
    }


def report_for(call: Call) -> dict:
    """The stored report, or one generated now and not stored: a read never writes (finalization
    stores the report, and the sweep finalizes any terminal call a worker left behind)."""
    if call.report is not None:
        return call.report
    return build_report(call)
