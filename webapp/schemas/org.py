from datetime import datetime
from typing import Annotated, Literal

import phonenumbers
from pydantic import EmailStr, Field, WithJsonSchema, field_validator

from .common import OutModel, StrictModel, Text, integral
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

    _check_ints = field_validator("max_concurrent_calls", mode="before")(integral)


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
    email: EmailStr = Field(description="Addresses at special-use domains (.test, .invalid, .local, .localhost, "
                                        ".onion, .arpa) are refused: no one can receive mail there")  # fmt: skip
    role: Literal["admin", "member", "viewer"] = "member"


class RoleUpdate(StrictModel):
    role: Role


COUNTRY_CODES = sorted(phonenumbers.SUPPORTED_REGIONS)
COUNTRY_SPELLINGS = frozenset(COUNTRY_CODES) | {code.lower() for code in COUNTRY_CODES}
# A pattern, not an enum: code generators name enum members case-insensitively ("AC" and "ac" clash)
CountryCode = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^({'|'.join(sorted(COUNTRY_SPELLINGS))})$",
            "description": "ISO 3166 alpha-2 of a country phone numbers exist for (upper or lower case)",
        }
    ),
]


class AllowedCountries(StrictModel):
    allowed_countries: list[CountryCode] = Field(
        min_length=1,
        max_length=60,
        description="ISO 3166 country codes (of countries phone numbers exist for) calls may go to",
        examples=[["US", "CA"]],
    )

    @field_validator("allowed_countries")
    @classmethod
    def known_codes(cls, value: list[str]) -> list[str]:
        unknown = [code[:10] for code in value if code not in COUNTRY_SPELLINGS]
        if unknown:
            raise ValueError(f"not ISO 3166 country codes: {', '.join(unknown)}")
        return value


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
