"""API keys: only a hash is stored; the plaintext is returned once, at creation or regeneration."""

from ..extensions import db
from ..models import ApiKey, utcnow
from .scoping import get_owned, owned, page


def list_keys(org_id: str, *, limit: int = 100, offset: int = 0):
    return page(owned(ApiKey, org_id), order_by=(ApiKey.created_at.desc(),), limit=limit, offset=offset)


def create_key(org_id: str, name: str = "", created_by_id: str | None = None) -> tuple[ApiKey, str]:
    plaintext = ApiKey.generate_plaintext()
    api_key = ApiKey(organization_id=org_id, name=name, created_by_id=created_by_id)
    api_key.assign_secret(plaintext)
    db.session.add(api_key)
    db.session.commit()
    return api_key, plaintext


def revoke_key(org_id: str, key_id: str) -> ApiKey:
    api_key = get_owned(ApiKey, key_id, org_id, "API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        db.session.commit()
    return api_key


def regenerate_key(org_id: str, key_id: str) -> tuple[ApiKey, str]:
    """New secret for the same key record; the old secret stops working at once."""
    api_key = get_owned(ApiKey, key_id, org_id, "API key")
    plaintext = ApiKey.generate_plaintext()
    api_key.assign_secret(plaintext)
    api_key.revoked_at = None
    db.session.commit()
    return api_key, plaintext
