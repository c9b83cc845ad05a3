from flask import Blueprint

from ..schemas.campaigns import (
    CampaignCreate,
    CampaignCreatedOut,
    CampaignListQuery,
    CampaignOut,
    CampaignTasksAdd,
    CampaignTasksAddedOut,
    CampaignUpdate,
)
from ..services import campaigns as service
from .endpoint import endpoint
from .envelope import ok, paginated
from .serialize import dump, dump_many

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


def _one(campaign) -> dict:
    return dump(CampaignOut, service.with_counters([campaign])[0])


@bp.get("")
@endpoint("List campaigns with their live counters", query=CampaignListQuery, response=CampaignOut, many=True)
def list_campaigns(principal, query: CampaignListQuery):
    rows, total = service.list_campaigns(
        principal.organization_id, status=query.status, limit=query.limit, offset=query.offset
    )
    items = dump_many(CampaignOut, service.with_counters(rows))
    return paginated(items, total=total, limit=query.limit, offset=query.offset)


@bp.post("")
@endpoint("Create a campaign with up to 10,000 tasks inline (rows are checked one by one)",
          body=CampaignCreate, response=CampaignCreatedOut, status=201, errors=(404,))  # fmt: skip
def create_campaign(principal, body: CampaignCreate):
    campaign, check = service.create_campaign(principal.organization_id, body)
    data = _one(campaign) | {"accepted": len(check.accepted), "rejected": check.rejected}
    return ok(data, 201)


@bp.get("/<campaign_id>")
@endpoint("Get a campaign with its live counters", response=CampaignOut, errors=(404,))
def get_campaign(principal, campaign_id: str):
    return ok(_one(service.get_campaign(principal.organization_id, campaign_id)))


@bp.patch("/<campaign_id>")
@endpoint("Change a campaign's name, window or limits (also while it runs)", body=CampaignUpdate,
          response=CampaignOut, errors=(404, 409))  # fmt: skip
def update_campaign(principal, body: CampaignUpdate, campaign_id: str):
    return ok(_one(service.update_campaign(principal.organization_id, campaign_id, body)))


@bp.post("/<campaign_id>/tasks")
@endpoint("Add up to 10,000 more tasks to a campaign", body=CampaignTasksAdd, response=CampaignTasksAddedOut,
          status=201, errors=(404, 409))  # fmt: skip
def add_tasks(principal, body: CampaignTasksAdd, campaign_id: str):
    campaign, check = service.add_tasks(principal.organization_id, campaign_id, body.tasks)
    counters = service.counters([campaign.id])[campaign.id]
    data = {"campaign_id": campaign.id, "accepted": len(check.accepted), "rejected": check.rejected,
            "counters": counters}  # fmt: skip
    return ok(dump(CampaignTasksAddedOut, data), 201)


def _action(name: str, summary: str):
    function = getattr(service, f"{name}_campaign")

    @endpoint(summary, response=CampaignOut, errors=(404, 409))
    def view(principal, campaign_id: str):
        return ok(_one(function(principal.organization_id, campaign_id)))

    view.__name__ = f"{name}_campaign"
    bp.add_url_rule(f"/<campaign_id>/{name}", view_func=view, methods=["POST"])


_action("start", "Start a draft campaign (dialling begins at start_at, inside the calling window)")
_action("pause", "Pause a running campaign (calls in progress finish)")
_action("resume", "Resume a paused campaign")
_action("cancel", "Cancel a campaign: pending tasks fail with campaign_cancelled; calls in progress finish")
