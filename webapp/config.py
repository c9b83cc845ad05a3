"""Configuration classes, read from the environment (see README's configuration table)."""

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _env_seconds_list(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    value = os.environ.get(name)
    return tuple(float(part) for part in value.split(",")) if value else default


def database_url_from_env(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_path / 'voiceagents.db'}"
    # Accept the usual spellings and always drive PostgreSQL through psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept under instance/, so web and worker processes share it across restarts."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    """Development defaults: SQLite and an embedded Redis under instance/."""

    ENV_NAME = "development"

    def __init__(self, instance_path: Path = DEFAULT_INSTANCE):
        self.INSTANCE_PATH = str(instance_path)
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or self._missing_secret(instance_path)
        self.SQLALCHEMY_DATABASE_URI = database_url_from_env(instance_path)
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = os.environ.get("REDIS_URL") or None  # None: embedded Redis
        # Prefix of every Redis key and channel we use, so deployments (or test runs) can share a server.
        self.REDIS_NAMESPACE = os.environ.get("REDIS_NAMESPACE", "va")
        self.RATE_LIMIT = os.environ.get("RATE_LIMIT", "1000 per minute")
        self.LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
        self.LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT") or self.LOGIN_RATE_LIMIT
        self.TELEPHONY_PROVIDER = os.environ.get("TELEPHONY_PROVIDER", "simulated")
        self.SIMULATOR_TIME_SCALE = float(os.environ.get("SIMULATOR_TIME_SCALE", "1.0"))
        self.RECORDINGS_DIR = os.environ.get("RECORDINGS_DIR") or str(instance_path / "recordings")
        self.PUBLIC_BASE_URL = (os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/") or None
        self.WEBHOOK_ALLOW_LOOPBACK = _env_bool("WEBHOOK_ALLOW_LOOPBACK")
        self.ELEVENLABS_API_KEY = os.environ.get("ELEVENLABS_API_KEY")
        self.ELEVENLABS_API_BASE_URL = os.environ.get("ELEVENLABS_API_BASE_URL")
        self.ELEVENLABS_AGENT_PHONE_NUMBER_ID = os.environ.get("ELEVENLABS_AGENT_PHONE_NUMBER_ID")
        self.ELEVENLABS_WEBHOOK_SECRET = os.environ.get("ELEVENLABS_WEBHOOK_SECRET")
        self.TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID")
        self.TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN")
        self.TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER")
        self.TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL")
        self.PROVIDER_TIMEOUT_SECONDS = _env_float("PROVIDER_TIMEOUT_SECONDS", 10.0)  # each ElevenLabs/Twilio request
        self.AGENT_SYNC_RETRY_SECONDS = _env_float(
            "AGENT_SYNC_RETRY_SECONDS", 60.0
        )  # wait before retrying a failed sync
        # Call engine timing (seconds)
        self.SYNC_INTERVAL_SECONDS = _env_float("SYNC_INTERVAL_SECONDS", 0.5)
        self.DISPATCH_INTERVAL_SECONDS = _env_float("DISPATCH_INTERVAL_SECONDS", 1.0)
        self.SWEEP_INTERVAL_SECONDS = _env_float("SWEEP_INTERVAL_SECONDS", 15.0)
        self.CALL_STALE_SECONDS = _env_float("CALL_STALE_SECONDS", 300.0)
        self.CALL_PLACE_TIMEOUT_SECONDS = _env_float("CALL_PLACE_TIMEOUT_SECONDS", 60.0)
        # Work not done this long after it was due (lost job, killed worker) is dispatched again.
        self.REDISPATCH_AFTER_SECONDS = _env_float("REDISPATCH_AFTER_SECONDS", 60.0)
        self.RECORDING_WAIT_SECONDS = _env_float("RECORDING_WAIT_SECONDS", 120.0)  # terminal webhook waits
        self.RECORDING_GIVE_UP_SECONDS = _env_float("RECORDING_GIVE_UP_SECONDS", 3600.0)
        self.WEBHOOK_TIMEOUT_SECONDS = _env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
        self.WEBHOOK_RETRY_DELAYS = _env_seconds_list("WEBHOOK_RETRY_DELAYS", (10, 30, 120, 600, 1800))
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_CHECK_DEFAULT = False  # checked in create_app's before_request instead
        self.WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
        self.WTF_CSRF_SSL_STRICT = False  # SameSite cookies already cover cross-site posts

    def _missing_secret(self, instance_path: Path) -> str:
        return _dev_secret_key(instance_path)


class ProductionConfig(Config):
    """Production: refuses to start without a real SECRET_KEY."""

    ENV_NAME = "production"

    def __init__(self, instance_path: Path = DEFAULT_INSTANCE):
        super().__init__(instance_path)
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)

    def _missing_secret(self, instance_path: Path) -> str:
        raise RuntimeError("SECRET_KEY must be set in production (APP_ENV=production)")


def config_from_env(instance_path: Path = DEFAULT_INSTANCE) -> Config:
    env_name = os.environ.get("APP_ENV", "development")
    return ProductionConfig(instance_path) if env_name == "production" else Config(instance_path)
