"""Your own account, for every role: change your password, log out of all devices."""

from flask import redirect, request, url_for
from flask_login import current_user

from ..errors import AppError
from ..identity import end_session, start_session
from ..services import accounts
from ..services.password_guard import TooManyAttempts
from .access import org_id
from .blueprint import bp
from .settings import section


@bp.post("/settings/password")
def settings_change_password():
    """A new password ends every other session; this one goes on under the new version."""
    try:
        user = accounts.change_password(
            current_user._get_current_object(), request.form.get("current_password", ""),
            request.form.get("new_password", ""), address=request.remote_addr,
        )  # fmt: skip
    except TooManyAttempts as exc:
        return section("_account.html", 429, account_errors={"current_password": exc.message})
    except AppError as exc:
        if "current_password" in exc.details:
            errors = {"current_password": "This is not your current password."}
        else:
            errors = {"new_password": f"The new password {exc.details.get('password', exc.message)}."}
        return section("_account.html", exc.status, account_errors=errors)
    start_session(user, org_id())
    return section("_account.html", notice="Password changed. Your other sessions have ended.")


@bp.post("/settings/logout-everywhere")
def settings_logout_everywhere():
    accounts.revoke_sessions(current_user.id)
    end_session()
    return redirect(url_for("auth.login"))
