"""Error pages for dashboard requests: a full page, or a short message for htmx to show in place."""

from flask import render_template
from flask_wtf.csrf import CSRFError
from werkzeug import exceptions as http

from ..errors import AppError
from .blueprint import bp
from .views import is_htmx

TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Not possible right now", 503: "Unavailable"}


def error_page(status: int, message: str):
    """The error page; for htmx, a message in the layout's notice area instead of the request's target."""
    title = TITLES.get(status, "Something went wrong")
    if is_htmx():
        headers = {"HX-Retarget": "#notices", "HX-Reswap": "innerHTML"}
        return render_template("errors/_message.html", title=title, message=message), status, headers
    return render_template("errors/error.html", status=status, title=title, message=message), status


@bp.errorhandler(AppError)
def app_error(exc: AppError):
    return error_page(exc.status, exc.message)


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    return error_page(400, "Your form expired or came from another site. Reload the page and try again.")


@bp.errorhandler(http.Forbidden)
def forbidden(exc: http.Forbidden):
    return error_page(403, exc.description or "You are not allowed to do this.")


@bp.errorhandler(http.NotFound)
def not_found(exc: http.NotFound):
    return error_page(404, "There is nothing at this address in your organization.")


@bp.errorhandler(http.HTTPException)
def http_error(exc: http.HTTPException):
    return error_page(exc.code or 500, exc.description or exc.name)
