from flask import Blueprint

from ..schemas.dnc import DncCreate, DncListQuery, DncOut
from ..services import dnc as service
from .endpoint import endpoint
from .envelope import ok, paginated
from .serialize import dump, dump_many

bp = Blueprint("dnc", __name__, url_prefix="/dnc")


@bp.get("")
@endpoint("List the do-not-call list", query=DncListQuery, response=DncOut, many=True)
def list_entries(principal, query: DncListQuery):
    rows, total = service.list_entries(
        principal.organization_id, number=query.number, limit=query.limit, offset=query.offset
    )
    return paginated(dump_many(DncOut, rows), total=total, limit=query.limit, offset=query.offset)


@bp.post("")
@endpoint("Add a number to the do-not-call list (its pending tasks are skipped)", body=DncCreate,
          response=DncOut, status=201, errors=(409,))  # fmt: skip
def add_entry(principal, body: DncCreate):
    entry = service.add(principal.organization_id, body.number, reason=body.reason, source="api")
    return ok(dump(DncOut, entry), 201)


@bp.delete("/<entry>")
@endpoint("Remove a number (by entry id or E.164 number) from the do-not-call list", errors=(404,))
def remove_entry(principal, entry: str):
    service.remove(principal.organization_id, entry)
    return ok({"id": entry, "deleted": True})
