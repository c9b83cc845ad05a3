"""Settings for integrations: API keys (shown once) and the webhook signing secret. Admins only."""

from ..services import keys, orgs
from .access import admin_required, membership, org_id
from .blueprint import bp
from .forms import text
from .settings import section


@bp.post("/settings/api-keys")
@admin_required
def settings_create_key():
    name = text("name")[:100]
    api_key, plaintext = keys.create_key(org_id(), name, membership().user_id)
    return section("_api_keys.html", notice="API key created.", new_key=plaintext, new_key_id=api_key.id)


@bp.post("/settings/api-keys/<key_id>/revoke")
@admin_required
def settings_revoke_key(key_id: str):
    api_key = keys.revoke_key(org_id(), key_id)
    return section("_api_keys.html", notice=f"API key {api_key.prefix}… revoked.")


@bp.post("/settings/api-keys/<key_id>/regenerate")
@admin_required
def settings_regenerate_key(key_id: str):
    api_key, plaintext = keys.regenerate_key(org_id(), key_id)
    return section("_api_keys.html", notice="API key regenerated: the old secret no longer works.",
                   new_key=plaintext, new_key_id=api_key.id)  # fmt: skip


@bp.get("/settings/webhook-secret")
@admin_required
def settings_reveal_secret():
    return section("_webhook_secret.html", webhook_secret=membership().organization.webhook_secret)


@bp.post("/settings/webhook-secret/rotate")
@admin_required
def settings_rotate_secret():
    secret = orgs.rotate_webhook_secret(org_id())
    return section("_webhook_secret.html", notice="Webhook secret rotated: verify signatures with the new one.",
                   webhook_secret=secret)  # fmt: skip
