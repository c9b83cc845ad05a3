"""Configuration: every environment variable the application reads, typed and checked once at start-up.

`Settings` (pydantic-settings) declares each variable with its type and default; a bad value stops
the process with a message naming the variable. In production (APP_ENV=production) SECRET_KEY,
DATABASE_URL, REDIS_URL and the chosen telephony provider's credentials are required up front.
docs/configuration.md documents every variable (a test keeps the two in step).
"""

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .database import engine_options

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"

# What each telephony provider needs in production, beyond TELEPHONY_PROVIDER itself.
PROVIDER_CREDENTIALS = {
    "simulated": (),
    "elevenlabs": ("ELEVENLABS_API_KEY", "ELEVENLABS_AGENT_PHONE_NUMBER_ID"),
    "twilio": (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "ELEVENLABS_API_KEY",
        "PUBLIC_BASE_URL",
    ),
}
Seconds = Annotated[float, Field(ge=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]


class ConfigError(RuntimeError):
    """A missing or malformed environment variable; the message names each one."""


class Settings(BaseSettings):
    """The environment, typed. Field names are the variable names (case-sensitive)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", env_ignore_empty=True)

    APP_ENV: Literal["development", "production"] = "development"
    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    REDIS_NAMESPACE: str = Field("va", min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    INSTANCE_PATH: Path | None = None
    RATE_LIMIT: str = "1000 per minute"
    API_KEY_CACHE_SECONDS: Seconds = 60.0  # 0: every request reads its key from the database
    WEB_THREADS: int = Field(256, ge=1)  # threads per web process (./run.sh passes it to gunicorn)
    DATABASE_POOL_SIZE: int | None = Field(None, ge=1)  # None: WEB_THREADS, at most 32
    DATABASE_PING_IDLE_SECONDS: Seconds = 10.0
    LOGIN_RATE_LIMIT: str = "10 per minute"
    LOGIN_ACCOUNT_RATE_LIMIT: str | None = None  # None: the same as LOGIN_RATE_LIMIT
    TRUSTED_PROXY_HOPS: int = Field(0, ge=0, le=5)  # proxies in front whose X-Forwarded-For/-Proto count
    TELEPHONY_PROVIDER: str = "simulated"
    SIMULATOR_TIME_SCALE: PositiveSeconds = 1.0
    RECORDINGS_DIR: Path | None = None
    PUBLIC_BASE_URL: str | None = None
    MEDIA_PUBLIC_URL: str | None = None  # None: PUBLIC_BASE_URL's wss:// form + /media/twilio
    WEBHOOK_ALLOW_LOOPBACK: bool = False
    ELEVENLABS_API_KEY: str | None = None
    ELEVENLABS_API_BASE_URL: str | None = None
    ELEVENLABS_AGENT_PHONE_NUMBER_ID: str | None = None
    ELEVENLABS_WEBHOOK_SECRET: str | None = None
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: str | None = None
    TWILIO_FROM_NUMBER: str | None = None
    TWILIO_API_BASE_URL: str | None = None
    TWILIO_REGION: str | None = None  # a number outside US1: e.g. ie1 (with TWILIO_EDGE=dublin)
    TWILIO_EDGE: str | None = None
    PROVIDER_TIMEOUT_SECONDS: PositiveSeconds = 10.0
    AGENT_SYNC_RETRY_SECONDS: Seconds = 60.0
    SYNC_INTERVAL_SECONDS: PositiveSeconds = 0.5
    DISPATCH_INTERVAL_SECONDS: PositiveSeconds = 1.0
    SWEEP_INTERVAL_SECONDS: PositiveSeconds = 15.0
    CALL_STALE_SECONDS: PositiveSeconds = 300.0
    CALL_PLACE_TIMEOUT_SECONDS: PositiveSeconds = 60.0
    REDISPATCH_AFTER_SECONDS: PositiveSeconds = 60.0  # due work not done by then is dispatched again
    RECORDING_WAIT_SECONDS: Seconds = 120.0  # how long a terminal webhook waits for the recording
    RECORDING_GIVE_UP_SECONDS: PositiveSeconds = 3600.0
    WEBHOOK_TIMEOUT_SECONDS: PositiveSeconds = 10.0
    WEBHOOK_RETRY_DELAYS: Annotated[tuple[Seconds, ...], NoDecode] = (10, 30, 120, 600, 1800)
    MAX_CONTENT_LENGTH: int = Field(1024 * 1024, gt=0)
    SESSION_COOKIE_SECURE: bool | None = None  # None: on in production, off in development

    @field_validator("TELEPHONY_PROVIDER")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value not in PROVIDER_CREDENTIALS:
            raise ValueError(f"must be one of {', '.join(PROVIDER_CREDENTIALS)}")
        return value

    @field_validator("RATE_LIMIT", "LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT")
    @classmethod
    def _rate_limit(cls, value: str | None) -> str | None:
        from limits import parse_many

        if value is None:
            return value
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must read like '1000 per minute' or '10/second'") from None
        return value

    @field_validator("WEBHOOK_RETRY_DELAYS", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("PUBLIC_BASE_URL")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http://)")
        return value.rstrip("/")

    @field_validator("MEDIA_PUBLIC_URL")
    @classmethod
    def _media_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("wss://", "ws://")):
            raise ValueError("must start with wss:// (or ws://)")
        return value

    @model_validator(mode="after")
    def _production_requirements(self) -> "Settings":
        if self.APP_ENV != "production":
            return self
        required = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", *PROVIDER_CREDENTIALS[self.TELEPHONY_PROVIDER])
        missing = [name for name in required if not getattr(self, name)]
        if missing:
            raise ValueError(
                f"APP_ENV=production needs {', '.join(missing)} (TELEPHONY_PROVIDER={self.TELEPHONY_PROVIDER})"
            )
        return self


def load_settings(**overrides) -> Settings:
    """The environment as Settings, or ConfigError naming every bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if name else message)
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None


def database_url(url: str | None, instance_path: Path) -> str:
    if not url:
        return f"sqlite:///{instance_path / 'voiceagents.db'}"
    # Accept the usual spellings and always drive PostgreSQL through psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url_from_env(instance_path: Path) -> str:
    """The SQLAlchemy URL DATABASE_URL names (SQLite under instance_path when unset)."""
    return database_url(load_settings().DATABASE_URL, instance_path)


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept under instance/, so web and worker processes share it across restarts."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    """Flask's configuration, built from Settings: every variable under its own name, plus what
    Flask and its extensions derive from them."""

    def __init__(self, instance_path: Path = DEFAULT_INSTANCE, settings: Settings | None = None):
        settings = settings or load_settings()
        self.ENV_NAME = settings.APP_ENV
        for name, value in settings.model_dump().items():
            setattr(self, name, value)
        production = settings.APP_ENV == "production"
        self.INSTANCE_PATH = str(instance_path)
        self.SECRET_KEY = settings.SECRET_KEY or _dev_secret_key(instance_path)
        self.SQLALCHEMY_DATABASE_URI = database_url(settings.DATABASE_URL, instance_path)
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(
            self.SQLALCHEMY_DATABASE_URI, web_threads=settings.WEB_THREADS, pool_size=settings.DATABASE_POOL_SIZE
        )
        self.REDIS_URL = settings.REDIS_URL  # None: the embedded Redis server
        self.RECORDINGS_DIR = str(settings.RECORDINGS_DIR or instance_path / "recordings")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = (
            production if settings.SESSION_COOKIE_SECURE is None else settings.SESSION_COOKIE_SECURE
        )
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_CHECK_DEFAULT = False  # checked in create_app's before_request instead
        self.WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
        self.WTF_CSRF_SSL_STRICT = False  # SameSite cookies already cover cross-site posts


def config_from_env(instance_path: Path = DEFAULT_INSTANCE) -> Config:
    """The configuration for this process; ConfigError (naming the variables) when it is not valid."""
    return Config(instance_path)
