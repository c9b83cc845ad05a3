"""Accounts: sign up, log in, log out, accept an invite."""

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import AppError, NotFound
from ..identity import end_session, start_session
from ..services import accounts, orgs
from ..services.password_guard import TooManyAttempts

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a same-site relative path (/tasks?page=2), else home.
    Checked as given and once percent-decoded: no scheme, no host, no //, no backslash, no control
    or space characters (browsers drop tabs and newlines, so "/\t/evil.example" means //evil.example)."""
    home = url_for("dashboard.overview") if "dashboard.overview" in current_app.view_functions else "/"
    if not target or len(target) > 2000:
        return home
    for form in (target, unquote(target)):
        if not form.startswith("/") or form.startswith("//") or "\\" in form:
            return home
        if any(unicodedata.category(c)[0] in "CZ" for c in form):
            return home
        parts = urlsplit(form)
        if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
            return home
    return target


def _client_address() -> str | None:
    return request.remote_addr  # the socket's peer: no header the client sends changes it


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status = None, 200
    if request.method == "POST":
        try:
            user = accounts.log_in(request.form.get("email", ""), request.form.get("password", ""),
                                   address=_client_address())  # fmt: skip
        except TooManyAttempts as exc:
            error, status = exc.message, 429
        except AppError as exc:
            error, status = exc.message, exc.status
        else:
            start_session(user)
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error), status


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        required = {"organization": "Organization name", "email": "Email", "password": "Password"}
        errors = {key: f"{label} is required." for key, label in required.items() if not form.get(key, "").strip()}
        if not errors:
            try:
                org, user = orgs.sign_up(
                    org_name=form["organization"], email=form["email"], password=form["password"],
                    name=form.get("name", ""),
                )  # fmt: skip
            except AppError as exc:
                errors = {key: f"{key.capitalize()} {value}." for key, value in exc.details.items()} or {
                    "form": exc.message
                }
            else:
                start_session(user, org.id)
                return redirect(safe_next(None))
    return render_template("auth/signup.html", errors=errors, form=form), 400 if errors else 200


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    try:
        invite = orgs.find_open_invite(token)
    except NotFound:
        return render_template("auth/invite_invalid.html"), 404
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        org_id = invite.organization_id
        try:
            user = orgs.accept_invite(token, name=request.form.get("name", ""),
                                      password=request.form.get("password", ""), address=_client_address())  # fmt: skip
        except AppError as exc:
            status = exc.status
            errors = {key: f"{key.capitalize()} {value}." for key, value in exc.details.items()} or {
                "form": exc.message
            }
        else:
            start_session(user, org_id)
            flash("Welcome! You have joined the organization.")
            return redirect(safe_next(None))
    return render_template("auth/accept_invite.html", invite=invite, errors=errors), status


@bp.post("/logout")
@login_required
def logout():
    """Log out: this session and every copy of its cookie stop working."""
    accounts.revoke_sessions(current_user.id)
    end_session()
    return redirect(url_for("auth.login"))
