"""Who is using the dashboard: login required everywhere, admin rights checked on the server."""

from functools import wraps

from flask import abort, g, make_response, redirect, request, url_for
from flask_login import current_user

from ..identity import current_membership
from ..models import Membership
from .blueprint import bp
from .views import is_htmx

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SELF_SERVICE = ("dashboard.settings_change_password", "dashboard.settings_logout_everywhere")
# Pages that exist only to create something: a viewer is told at once, not after filling them in.
CREATE_PAGES = ("dashboard.agent_new", "dashboard.task_new", "dashboard.task_import", "dashboard.campaign_new")
READ_ONLY = "You have read-only access (viewer): ask an owner or admin for the member role."


@bp.before_request
def require_membership():
    if not current_user.is_authenticated:
        login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            response = make_response("", 401)
            response.headers["HX-Redirect"] = login_url
            return response
        return redirect(login_url)
    membership = current_membership()
    if membership is None:
        abort(403, description="Your account does not belong to an organization any more.")
    g.membership = membership
    writes = request.method not in SAFE_METHODS or request.endpoint in CREATE_PAGES
    if writes and not membership.can_operate and request.endpoint not in SELF_SERVICE:
        abort(403, description=READ_ONLY)
    return None


@bp.after_request
def vary_on_htmx(response):
    """Pages and fragments share URLs, so caches must keep them apart."""
    response.vary.add("HX-Request")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_context_processor
def layout_context() -> dict:
    """The membership for the layout's navigation, on every page (auth and docs pages too)."""
    return {"membership": g.get("membership") or current_membership()}


def membership() -> Membership:
    return g.membership


def org_id() -> str:
    return g.membership.organization_id


def phone_region() -> str:
    """The country of numbers typed without a country code (the organization's setting)."""
    return g.membership.organization.default_phone_region


def admin_required(view):
    """Owners and admins only: anyone else gets the 403 page, however the request was made."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not g.membership.is_admin:
            abort(403, description="Only organization owners and admins can do this.")
        return view(*args, **kwargs)

    return wrapper
