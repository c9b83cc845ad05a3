from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from .common import OutModel, StrictModel, Text
from .regional import PhoneRegion, TimeZoneName

Role = Literal["owner", "admin", "member", "viewer"]


class ApiKeyCreate(StrictModel):
    name: Text(100) = ""


class ApiKeyOut(OutModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The full key. Shown only once: store it now.")


class OrganizationCreate(StrictModel):
    name: Text(200, min_length=1)


class OrganizationUpdate(StrictModel):
    name: Text(200, min_length=1) | None = None
    max_concurrent_calls: int | None = Field(
        None, ge=1, le=10_000, description="Calls of the organization at once (campaigns and single executes)"
    )
    time_zone: TimeZoneName | None = Field(
        None, description="Dates in reports and the overview, and calling windows for numbers without a zone"
    )
    default_phone_region: PhoneRegion | None = Field(
        None, description="Country of numbers typed in the dashboard without a country code"
    )


class OrganizationOut(OutModel):
    id: str
    name: str
    max_concurrent_calls: int
    time_zone: str = Field(description="IANA time zone name (default UTC)", examples=["Europe/London"])
    default_phone_region: str = Field(description="ISO 3166 country code (default US)", examples=["GB"])
    role: Role
    created_at: datetime


class WebhookSecretOut(StrictModel):
    webhook_secret: str


class UserOut(OutModel):
    id: str
    email: str
    name: str
    role: Role
    joined_at: datetime


class InviteCreate(StrictModel):
    email: EmailStr
    role: Literal["admin", "member", "viewer"] = "member"


class RoleUpdate(StrictModel):
    role: Role


class AllowedCountries(StrictModel):
    allowed_countries: list[Text(2, min_length=2)] = Field(
        min_length=1, max_length=60, description="ISO 3166 country codes calls may go to", examples=[["US", "CA"]]
    )


class LoggedOutOut(StrictModel):
    message: str


class InviteOut(OutModel):
    id: str
    email: str
    role: Role
    expires_at: datetime
    accepted_at: datetime | None
    created_at: datetime


class InviteCreatedOut(InviteOut):
    invite_url: str = Field(description="Send this link to the invitee. Shown only once.")


class SessionOut(StrictModel):
    user: dict
    organization: OrganizationOut
    csrf_token: str
