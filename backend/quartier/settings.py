"""Typed settings, read from the environment and validated once at start-up.

Every setting has a documented default (see README, "Configuration"). A bad value stops the
process with one message per problem instead of failing later in a request.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

Environment = Literal["development", "test", "production"]
LogFormat = Literal["text", "json"]
SmtpSecurity = Literal["starttls", "tls", "none"]

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
    # per token with the scope submissions:relay (core.ratelimit)
    "relay": RateLimitSetting(600, 60),
}
RATE_LIMIT_CLASSES = tuple(DEFAULT_RATE_LIMITS)
# Languages Quartier knows (core.i18n): German, English, easy-read German, Turkish, Arabic.
KNOWN_LANGUAGES: tuple[str, ...] = ("de", "en", "de-x-simple", "tr", "ar")
# Open data (quartier.opendata): DCAT-AP.de licence keys (http://dcat-ap.de/def/licenses/<key>).
DEFAULT_OPEN_DATA_LICENCE = "dl-by-de/2.0"
DEFAULT_AREA_DATA_LICENCE = "cc-by/4.0"
DEFAULT_AREA_DATA_ATTRIBUTION = (
    "Geoportal Berlin (Senatsverwaltung für Stadtentwicklung), Amt für Statistik "
    "Berlin-Brandenburg; aufbereitet von open-data-product / open-lifeworlds „Berlin LOR“ "
    "(CC BY 4.0)"
)
_LICENCE_KEY = re.compile(r"[a-z0-9][a-z0-9.-]{0,40}(/[0-9][0-9.]{0,10})?")
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
    languages: tuple[str, ...] = KNOWN_LANGUAGES
    # Retention by purpose (docs/PRIVACY.md): days after a survey closes.
    retention_free_text_days: int = 180
    retention_pseudonym_days: int = 0
    retention_invitation_code_days: int = 30
    # Days after an idea last changed (submission, edit, status, answer).
    retention_notify_email_days: int = 365
    # Hours a submission's Idempotency-Key record replays it (core.idempotency).
    retention_idempotency_hours: int = 24
    rate_limits: dict[str, RateLimitSetting] = field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS)
    )
    # Outgoing mail (quartier.jobs.mail): with no SMTP host, mails go to the local outbox.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: SmtpSecurity = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "Quartier <noreply@localhost>"
    # The job worker (quartier.jobs.worker).
    worker_concurrency: int = 4
    job_retention_days: int = 7
    # Open data (quartier.opendata): the publisher, and the licences of what it publishes.
    municipality_name: str = "Musterstadt"
    open_data_licence: str = DEFAULT_OPEN_DATA_LICENCE
    open_data_attribution: str | None = None  # None: the municipality's name
    area_data_licence: str = DEFAULT_AREA_DATA_LICENCE
    area_data_attribution: str = DEFAULT_AREA_DATA_ATTRIBUTION

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def idempotency_retention(self) -> datetime.timedelta:
        """How long an Idempotency-Key record replays its submission before it is purged."""
        return datetime.timedelta(hours=self.retention_idempotency_hours)


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

    languages_raw = get("QUARTIER_LANGUAGES")
    languages: tuple[str, ...] = KNOWN_LANGUAGES
    if languages_raw is not None:
        chosen = [code.strip().lower() for code in languages_raw.split(",") if code.strip()]
        unknown = [code for code in chosen if code not in KNOWN_LANGUAGES]
        if unknown:
            problems.append(
                f"QUARTIER_LANGUAGES: unknown language(s) {', '.join(unknown)}; "
                f"choose from {', '.join(KNOWN_LANGUAGES)}"
            )
        languages = tuple(code for code in KNOWN_LANGUAGES if code == "de" or code in chosen)

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
        languages=languages,
        retention_free_text_days=_int(
            "QUARTIER_RETENTION_FREE_TEXT_DAYS",
            get("QUARTIER_RETENTION_FREE_TEXT_DAYS") or "180",
            problems,
            low=0,
            high=3650,
            default=180,
        ),
        retention_pseudonym_days=_int(
            "QUARTIER_RETENTION_PSEUDONYM_DAYS",
            get("QUARTIER_RETENTION_PSEUDONYM_DAYS") or "0",
            problems,
            low=0,
            high=3650,
            default=0,
        ),
        retention_invitation_code_days=_int(
            "QUARTIER_RETENTION_INVITATION_CODE_DAYS",
            get("QUARTIER_RETENTION_INVITATION_CODE_DAYS") or "30",
            problems,
            low=0,
            high=3650,
            default=30,
        ),
        retention_notify_email_days=_int(
            "QUARTIER_RETENTION_NOTIFY_EMAIL_DAYS",
            get("QUARTIER_RETENTION_NOTIFY_EMAIL_DAYS") or "365",
            problems,
            low=0,
            high=3650,
            default=365,
        ),
        retention_idempotency_hours=_int(
            "QUARTIER_RETENTION_IDEMPOTENCY_HOURS",
            get("QUARTIER_RETENTION_IDEMPOTENCY_HOURS") or "24",
            problems,
            low=1,
            high=720,
            default=24,
        ),
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
    settings = replace(settings, **_mail_and_worker(get, problems), **_open_data(get, problems))
    if problems:
        raise SettingsError(problems)
    return settings


def _mail_and_worker(get: Callable[[str], str | None], problems: list[str]) -> dict[str, Any]:
    """QUARTIER_SMTP_* (outgoing mail) and QUARTIER_WORKER_* / QUARTIER_JOB_* settings."""
    security = get("QUARTIER_SMTP_SECURITY") or "starttls"
    if security not in ("starttls", "tls", "none"):
        problems.append(f"QUARTIER_SMTP_SECURITY={security!r} must be starttls, tls or none")
        security = "starttls"
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    mail_from = get("QUARTIER_MAIL_FROM") or "Quartier <noreply@localhost>"
    if "@" not in mail_from or any(c in mail_from for c in "\r\n"):
        problems.append(
            "QUARTIER_MAIL_FROM must be an address such as Quartier <noreply@example.org>"
        )
    return {
        "smtp_host": get("QUARTIER_SMTP_HOST"),
        "smtp_port": _int(
            "QUARTIER_SMTP_PORT",
            get("QUARTIER_SMTP_PORT") or str(default_port),
            problems,
            low=1,
            high=65535,
            default=default_port,
        ),
        "smtp_security": security,
        "smtp_username": get("QUARTIER_SMTP_USERNAME"),
        "smtp_password": get("QUARTIER_SMTP_PASSWORD"),
        "mail_from": mail_from,
        "worker_concurrency": _int(
            "QUARTIER_WORKER_CONCURRENCY",
            get("QUARTIER_WORKER_CONCURRENCY") or "4",
            problems,
            low=1,
            high=100,
            default=4,
        ),
        "job_retention_days": _int(
            "QUARTIER_JOB_RETENTION_DAYS",
            get("QUARTIER_JOB_RETENTION_DAYS") or "7",
            problems,
            low=1,
            high=3650,
            default=7,
        ),
    }


def _open_data(get: Callable[[str], str | None], problems: list[str]) -> dict[str, Any]:
    """QUARTIER_MUNICIPALITY_NAME and the licences of the open-data catalogue."""
    found: dict[str, Any] = {}
    for name, key, default in (
        ("QUARTIER_MUNICIPALITY_NAME", "municipality_name", "Musterstadt"),
        ("QUARTIER_OPEN_DATA_ATTRIBUTION", "open_data_attribution", None),
        ("QUARTIER_AREA_DATA_ATTRIBUTION", "area_data_attribution", DEFAULT_AREA_DATA_ATTRIBUTION),
    ):
        value = get(name)
        if value is not None and (
            not value.strip() or len(value) > 500 or any(ord(c) < 0x20 for c in value)
        ):
            problems.append(f"{name} must be 1 to 500 characters on one line")
            value = None
        found[key] = value.strip() if value is not None else default
    for name, key, default in (
        ("QUARTIER_OPEN_DATA_LICENCE", "open_data_licence", DEFAULT_OPEN_DATA_LICENCE),
        ("QUARTIER_AREA_DATA_LICENCE", "area_data_licence", DEFAULT_AREA_DATA_LICENCE),
    ):
        value = get(name) or default
        if not _LICENCE_KEY.fullmatch(value):
            problems.append(
                f"{name}={value!r} must be a key of the DCAT-AP.de licence vocabulary, "
                "e.g. dl-by-de/2.0, dl-zero-de/2.0, cc-by/4.0 or cc-zero"
            )
            value = default
        found[key] = value
    return found
