"""API key management (session auth, admins only for writes)."""

from flask import Blueprint

from ..schemas.common import PageQuery
from ..schemas.org import ApiKeyCreate, ApiKeyCreatedOut, ApiKeyOut
from ..services import keys as service
from .endpoint import endpoint
from .envelope import ok, paginated
from .serialize import dump, dump_many

bp = Blueprint("api_keys", __name__, url_prefix="/api-keys")


def _created(api_key, plaintext: str) -> dict:
    return {**dump(ApiKeyOut, api_key), "key": plaintext}


@bp.get("")
@endpoint("List API keys", auth="session", admin=True, query=PageQuery, response=ApiKeyOut, many=True)
def list_keys(principal, query: PageQuery):
    rows, total = service.list_keys(principal.organization_id, limit=query.limit, offset=query.offset)
    return paginated(dump_many(ApiKeyOut, rows), total=total, limit=query.limit, offset=query.offset)


@bp.post("")
@endpoint("Create an API key (the key is shown once)", auth="session", admin=True,
          body=ApiKeyCreate, response=ApiKeyCreatedOut, status=201)  # fmt: skip
def create_key(principal, body: ApiKeyCreate):
    api_key, plaintext = service.create_key(principal.organization_id, body.name, principal.user_id)
    return ok(_created(api_key, plaintext), 201)


@bp.delete("/<key_id>")
@endpoint("Revoke an API key", auth="session", admin=True, response=ApiKeyOut, errors=(404,))
def revoke_key(principal, key_id: str):
    return ok(dump(ApiKeyOut, service.revoke_key(principal.organization_id, key_id)))


@bp.post("/<key_id>/regenerate")
@endpoint("Regenerate an API key's secret (shown once)", auth="session", admin=True,
          response=ApiKeyCreatedOut, errors=(404,))  # fmt: skip
def regenerate_key(principal, key_id: str):
    api_key, plaintext = service.regenerate_key(principal.organization_id, key_id)
    return ok(_created(api_key, plaintext))
