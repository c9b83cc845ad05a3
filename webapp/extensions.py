"""Flask extensions, created unbound here and bound to the app in create_app."""

from flask import current_app
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sock import Sock
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def _rate_limit_key() -> str:
    """Who a request counts against: create_app puts the function in app.extensions."""
    return current_app.extensions["rate_limit_key"]()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
sock = Sock()
limiter = Limiter(key_func=_rate_limit_key, headers_enabled=True)
