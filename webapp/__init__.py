"""Application factory: wiring only (no migrations, no network, no prompts)."""

import logging
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import DEFAULT_INSTANCE, Config, load_settings
from .database import watch_pool
from .extensions import csrf, db, login_manager, migrate, sock


def create_app(config: Config | dict | None = None, instance_path: Path | None = None) -> Flask:
    settings = load_settings()  # ConfigError, naming each bad variable, stops start-up here
    instance = Path(instance_path or settings.INSTANCE_PATH or DEFAULT_INSTANCE)
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=False)
    base = Config(instance, settings)
    app.config.from_object(base)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    instance.mkdir(parents=True, exist_ok=True)

    _configure_logging(app)
    if app.config["TRUSTED_PROXY_HOPS"]:
        # The client's address (login throttle, logs) and scheme as the trusted proxies saw them;
        # without them, forwarding headers are ignored: any client can write them.
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:
            record.request_id = "-"
        return True


def _configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(_RequestIdFilter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)
    logging.getLogger("webapp").handlers[:] = [handler]
    logging.getLogger("webapp").setLevel(logging.INFO)


def _init_extensions(app: Flask) -> None:
    from .queues import init_redis
    from .services import count_tracking
    from .session_cookie import SessionCookies

    app.session_interface = SessionCookies()
    db.init_app(app)
    count_tracking.install()  # resource_counts follow every change, in its transaction
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
        watch_pool(db.engine, app.config["DATABASE_PING_IDLE_SECONDS"])
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    sock.init_app(app)
    init_redis(app)

    from . import identity
    from .api import rate_limit

    identity.init_app(app)  # the user loader (revocable sessions) and the API key cache
    rate_limit.init_app(app)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp
    from .api.envelope import REQUEST_ID_HEADER, assign_request_id
    from .api.errors import register_error_handlers
    from .auth import bp as auth_bp
    from .dashboard import bp as dashboard_bp
    from .docs import bp as docs_bp
    from .health import bp as health_bp
    from .media import bp as media_bp
    from .provider_hooks import bp as provider_hooks_bp
    from .sockets import bp as sockets_bp

    app.before_request(assign_request_id)

    @app.after_request
    def add_request_id(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    register_error_handlers(app)
    app.before_request(_protect_forms_from_csrf)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(auth_bp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(sockets_bp)
    app.register_blueprint(dashboard_bp, url_prefix="/")
    app.register_blueprint(provider_hooks_bp, url_prefix="/webhooks")
    app.register_blueprint(media_bp)


def _protect_forms_from_csrf() -> None:
    """CSRF on every session-authenticated write. The API checks it itself, only for session
    requests (API keys are not ambient credentials, so they need none). Provider webhooks carry
    signatures instead."""
    from .api.errors import is_api_request

    if (
        request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
        and not is_api_request()
        and request.blueprint not in ("provider_hooks", "media")
    ):
        csrf.protect()


def _register_cli(app: Flask) -> None:
    from .cli import register_commands

    register_commands(app)
