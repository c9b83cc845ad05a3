"""Accounts: sign up, log in, log out, accept an invite."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user

from ..errors import AppError, NotFound
from ..extensions import limiter
from ..services import orgs

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.overview") if "dashboard.overview" in current_app.view_functions else "/"


def _start_session(user, org_id: str | None = None) -> None:
    session.clear()
    login_user(user)
    if org_id:
        session["org_id"] = org_id


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        user = orgs.find_user(request.form.get("email", ""))
        if user is not None and user.check_password(request.form.get("password", "")):
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")))
        error = "Wrong email or password."
    return render_template("auth/login.html", error=error), 401 if error else 200


@bp.errorhandler(429)
def too_many_login_attempts(exc):
    message = "Too many login attempts from your network. Wait a minute, then try again."
    return render_template("auth/login.html", error=message), 429


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
                _start_session(user, org.id)
                return redirect(_safe_next(None))
    return render_template("auth/signup.html", errors=errors, form=form), 400 if errors else 200


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    try:
        invite = orgs.find_open_invite(token)
    except NotFound:
        return render_template("auth/invite_invalid.html"), 404
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            user = orgs.accept_invite(
                token, name=request.form.get("name", ""), password=request.form.get("password", "")
            )
        except AppError as exc:
            errors = {key: f"{key.capitalize()} {value}." for key, value in exc.details.items()} or {
                "form": exc.message
            }
        else:
            _start_session(user, invite.organization_id)
            flash("Welcome! You have joined the organization.")
            return redirect(_safe_next(None))
    return render_template("auth/accept_invite.html", invite=invite, errors=errors), 400 if errors else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
