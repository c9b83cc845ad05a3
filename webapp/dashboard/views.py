"""Rendering helpers shared by the dashboard views (htmx contact-app style: one URL, page or fragment)."""

from flask import flash, redirect, render_template, request


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


def page_number() -> int:
    try:
        return max(int(request.values.get("page", "1")), 1)
    except ValueError:
        return 1
