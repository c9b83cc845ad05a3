from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import MAX_OFFSET, OutModel, StrictModel, Text
from .phone import ValidNumber

DncSource = Literal["api", "dashboard", "import", "call"]


class DncCreate(StrictModel):
    number: ValidNumber
    reason: Text(500) | None = Field(None, examples=["Asked by email not to be called"])

    model_config = {
        **StrictModel.model_config,
        "json_schema_extra": {"examples": [{"number": "+12125550123", "reason": "Asked by email"}]},
    }


class DncListQuery(StrictModel):
    number: Text(20) | None = Field(None, description="Only this number (E.164)")
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class DncOut(OutModel):
    id: str
    number: str
    reason: str | None
    source: DncSource
    call_id: str | None = Field(description="The call in which the callee opted out (source call)")
    created_at: datetime
