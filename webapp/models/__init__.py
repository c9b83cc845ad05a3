"""All models, importable from one place (Alembic's autogenerate sees them through here)."""

from .agent import Agent
from .base import utcnow
from .call import ACTIVE_CALL_STATUSES, TERMINAL_CALL_STATUSES, Call, TranscriptTurn
from .campaign import CAMPAIGN_STATUSES, RETRYABLE_OUTCOMES, Campaign, DncEntry
from .counts import ResourceCount
from .org import ADMIN_ROLES, ROLES, ApiKey, Invite, Membership, Organization, User, hash_token
from .task import TASK_STATUSES, WEBHOOK_EVENTS, Task
from .webhook import WebhookAttempt, WebhookDelivery

__all__ = [
    "ACTIVE_CALL_STATUSES",
    "ADMIN_ROLES",
    "ROLES",
    "TASK_STATUSES",
    "TERMINAL_CALL_STATUSES",
    "WEBHOOK_EVENTS",
    "Agent",
    "ApiKey",
    "CAMPAIGN_STATUSES",
    "RETRYABLE_OUTCOMES",
    "Call",
    "Campaign",
    "DncEntry",
    "Invite",
    "Membership",
    "Organization",
    "ResourceCount",
    "Task",
    "TranscriptTurn",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "hash_token",
    "utcnow",
]
