"""Rendering helpers shared by the dashboard views (htmx contact-app style: one URL, page or fragment)."""

from flask import abort, flash, redirect, render_template, request

from ..ids import is_canonical_id


def is_htmx() -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def page_or_partial(page_template: str, partial_template: str, status: int = 200, **context):
    return render_template(partial_template if is_htmx() else page_template, **context), status


def notice_oob(message: str, kind: str = "success") -> str:
    """A message htmx swaps into the layout's notice area, beside whatever fragment it came with."""
    return render_template("dashboard/_notice_oob.html", message=message, kind=kind)


def done(message: str, location: str, partial: str | None = None, **context):
    """After a write: the updated fragment for htmx, else a flash message and a redirect (POST/redirect/GET)."""
    if is_htmx() and partial is not None:
        return render_template(partial, **context) + notice_oob(message)
    flash(message, "success")
    return redirect(location)


def id_or_blank(value: str) -> str:
    """An id filter from the query string: a canonical id, else no filter (never a cut id)."""
    return value if is_canonical_id(value) else ""


MAX_PAGE = 1_000_000  # far past any list; offsets stay well inside SQL integers


def page_number() -> int:
    """?page=N; anything that is not a page number is page 1, a number past MAX_PAGE is a 400."""
    value = request.values.get("page", "1").strip()
    if not value.isascii() or not value.isdigit():
        return 1
    if len(value) > 7 or int(value) > MAX_PAGE:
        abort(400, description=f"There is no page {value[:30]}: pages go up to {MAX_PAGE}.")
    return max(int(value), 1)
