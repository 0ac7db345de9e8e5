"""Typed settings, read from the environment and validated once at start-up.

Every setting has a documented default (see README, "Configuration"). A bad value stops the
process with one message per problem instead of failing later in a request.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Environment = Literal["development", "test", "production"]
LogFormat = Literal["text", "json"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class RateLimitSetting:
    requests: int
    window_seconds: int


DEFAULT_RATE_LIMITS = {
    "submission": RateLimitSetting(30, 60),
    "login": RateLimitSetting(30, 60),
    "export": RateLimitSetting(30, 60),
    "default": RateLimitSetting(600, 60),
}
RATE_LIMIT_CLASSES = tuple(DEFAULT_RATE_LIMITS)
_WEAK_SECRETS = {"changeme", "secret", "password", "development", "quartier"}
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """Raised with every invalid setting listed, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True, slots=True)
class Settings:
    env: Environment = "development"
    debug: bool = False
    database_url: str | None = None
    secret_key: str = ""
    data_dir: Path = PROJECT_ROOT / ".quartier"
    host: str = "127.0.0.1"
    port: int = 8000
    log_format: LogFormat = "text"
    log_level: str = "INFO"
    metrics_enabled: bool = False
    db_pool_size: int = 10
    db_max_overflow: int = 10
    max_body_bytes: int = 1_048_576
    import_max_body_bytes: int = 64 * 1_048_576
    session_max_age_seconds: int = 8 * 3600
    secure_cookies: bool = True
    redis_url: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    login_attempts_per_account: int = 5
    login_attempts_per_client: int = 20
    login_window_seconds: int = 900
    base_url: str = "http://127.0.0.1:8000"
    rate_limits: dict[str, RateLimitSetting] = field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS)
    )

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _bool(name: str, raw: str, problems: list[str]) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    problems.append(f"{name}={raw!r} is not a boolean (use true or false)")
    return False


def _int(name: str, raw: str, problems: list[str], *, low: int, high: int, default: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name}={raw!r} is not a whole number")
        return default
    if not low <= value <= high:
        problems.append(f"{name}={value} is out of range ({low} to {high})")
        return default
    return value


def _secret_is_weak(secret: str) -> bool:
    return (
        len(secret) < MIN_SECRET_LENGTH or secret.lower() in _WEAK_SECRETS or len(set(secret)) < 10
    )


def _development_secret(data_dir: Path) -> str:
    """Generate a secret once per local data directory and keep it there (never for production)."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def _rate_limits(raw: str | None, problems: list[str]) -> dict[str, RateLimitSetting]:
    """`submission=30/60,login=10/60`: requests per window seconds, per client and class."""
    limits = dict(DEFAULT_RATE_LIMITS)
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        name, _, spec = item.strip().partition("=")
        count, _, window = spec.partition("/")
        if name not in RATE_LIMIT_CLASSES or not count.isdigit() or not window.isdigit():
            problems.append(
                f"QUARTIER_RATE_LIMITS item {item.strip()!r} must look like submission=30/60 "
                f"(classes: {', '.join(RATE_LIMIT_CLASSES)})"
            )
            continue
        if not (1 <= int(count) <= 1_000_000 and 1 <= int(window) <= 86_400):
            problems.append(f"QUARTIER_RATE_LIMITS item {item.strip()!r} is out of range")
            continue
        limits[name] = RateLimitSetting(int(count), int(window))
    return limits


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise SettingsError listing every bad value."""
    env_vars = os.environ if environ is None else environ
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = env_vars.get(name)
        return None if value is None or value == "" else value

    env_raw = get("QUARTIER_ENV") or "development"
    if env_raw not in ("development", "test", "production"):
        problems.append(f"QUARTIER_ENV={env_raw!r} must be development, test or production")
        env_raw = "development"
    env: Environment = env_raw  # type: ignore[assignment]

    debug = _bool("QUARTIER_DEBUG", get("QUARTIER_DEBUG") or "false", problems)
    data_dir = Path(get("QUARTIER_DATA_DIR") or PROJECT_ROOT / ".quartier").resolve()

    database_url = get("DATABASE_URL")
    if database_url is not None:
        if database_url.startswith("postgres://"):
            database_url = "postgresql://" + database_url.removeprefix("postgres://")
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+asyncpg://" + database_url.removeprefix("postgresql://")
        if not database_url.startswith("postgresql+asyncpg://"):
            problems.append("DATABASE_URL must be a postgresql:// URL (PostgreSQL is required)")

    log_format = get("QUARTIER_LOG_FORMAT") or "text"
    if log_format not in ("text", "json"):
        problems.append(f"QUARTIER_LOG_FORMAT={log_format!r} must be text or json")
        log_format = "text"
    log_level = (get("QUARTIER_LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.append(f"QUARTIER_LOG_LEVEL={log_level!r} must be DEBUG, INFO, WARNING or ERROR")
        log_level = "INFO"

    secret_key = get("SECRET_KEY") or ""
    if env == "production":
        if not secret_key:
            problems.append("SECRET_KEY is required in production (at least 32 random characters)")
        elif _secret_is_weak(secret_key):
            problems.append(
                "SECRET_KEY is too weak for production: use at least 32 random characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if debug:
            problems.append("QUARTIER_DEBUG must be off in production")
        if database_url is None:
            problems.append("DATABASE_URL is required in production")
    elif not secret_key:
        secret_key = _development_secret(data_dir)

    proxies_raw = get("QUARTIER_TRUSTED_PROXIES") or ""
    trusted_proxies = tuple(p.strip() for p in proxies_raw.split(",") if p.strip())
    for proxy in trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(
                f"QUARTIER_TRUSTED_PROXIES entry {proxy!r} is not an address or network"
            )
    redis_url = get("REDIS_URL")
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append("REDIS_URL must start with redis://, rediss:// or unix://")

    port = _int(
        "QUARTIER_PORT", get("QUARTIER_PORT") or "8000", problems, low=1, high=65535, default=8000
    )
    settings = Settings(
        env=env,
        debug=debug,
        database_url=database_url,
        secret_key=secret_key,
        data_dir=data_dir,
        host=get("QUARTIER_HOST") or "127.0.0.1",
        port=port,
        log_format=log_format,  # type: ignore[arg-type]
        log_level=log_level,
        metrics_enabled=_bool("QUARTIER_METRICS", get("QUARTIER_METRICS") or "false", problems),
        db_pool_size=_int(
            "QUARTIER_DB_POOL_SIZE",
            get("QUARTIER_DB_POOL_SIZE") or "10",
            problems,
            low=1,
            high=200,
            default=10,
        ),
        db_max_overflow=_int(
            "QUARTIER_DB_MAX_OVERFLOW",
            get("QUARTIER_DB_MAX_OVERFLOW") or "10",
            problems,
            low=0,
            high=200,
            default=10,
        ),
        max_body_bytes=_int(
            "QUARTIER_MAX_BODY_BYTES",
            get("QUARTIER_MAX_BODY_BYTES") or "1048576",
            problems,
            low=1024,
            high=16 * 1_048_576,
            default=1_048_576,
        ),
        import_max_body_bytes=_int(
            "QUARTIER_IMPORT_MAX_BODY_BYTES",
            get("QUARTIER_IMPORT_MAX_BODY_BYTES") or "67108864",
            problems,
            low=1_048_576,
            high=512 * 1_048_576,
            default=64 * 1_048_576,
        ),
        session_max_age_seconds=_int(
            "QUARTIER_SESSION_MAX_AGE",
            get("QUARTIER_SESSION_MAX_AGE") or "28800",
            problems,
            low=300,
            high=30 * 86400,
            default=28800,
        ),
        secure_cookies=_bool(
            "QUARTIER_SECURE_COOKIES", get("QUARTIER_SECURE_COOKIES") or "true", problems
        ),
        redis_url=redis_url,
        trusted_proxies=trusted_proxies,
        login_attempts_per_account=_int(
            "QUARTIER_LOGIN_ATTEMPTS_PER_ACCOUNT",
            get("QUARTIER_LOGIN_ATTEMPTS_PER_ACCOUNT") or "5",
            problems,
            low=1,
            high=1000,
            default=5,
        ),
        login_attempts_per_client=_int(
            "QUARTIER_LOGIN_ATTEMPTS_PER_CLIENT",
            get("QUARTIER_LOGIN_ATTEMPTS_PER_CLIENT") or "20",
            problems,
            low=1,
            high=10000,
            default=20,
        ),
        login_window_seconds=_int(
            "QUARTIER_LOGIN_WINDOW_SECONDS",
            get("QUARTIER_LOGIN_WINDOW_SECONDS") or "900",
            problems,
            low=10,
            high=86400,
            default=900,
        ),
        base_url=(get("QUARTIER_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        rate_limits=_rate_limits(get("QUARTIER_RATE_LIMITS"), problems),
    )
    if problems:
        raise SettingsError(problems)
    return settings
