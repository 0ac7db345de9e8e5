"""Settings are validated at start-up; production refuses unsafe configurations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.app import create_app
from quartier.settings import Settings, SettingsError, load_settings

STRONG = "Zr8v-Qm2x_Lw9pTk4nHc7yBf3dJs6gAe"


def _production(**overrides: str) -> dict[str, str]:
    env = {
        "QUARTIER_ENV": "production",
        "SECRET_KEY": STRONG,
        "DATABASE_URL": "postgresql://quartier@db/quartier",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != "<unset>"}


def test_production_requires_a_secret_key() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is required"):
        load_settings(_production(SECRET_KEY="<unset>"))


@pytest.mark.parametrize(
    "weak", ["changeme", "short-secret", "a" * 40, "abcabcabcabcabcabcabcabcabcabcabc"]
)
def test_production_refuses_a_weak_secret_key(weak: str) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is too weak"):
        load_settings(_production(SECRET_KEY=weak))


def test_production_refuses_debug_mode() -> None:
    with pytest.raises(SettingsError, match="QUARTIER_DEBUG must be off"):
        load_settings(_production(QUARTIER_DEBUG="true"))


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "QUARTIER_ENV": "staging",
                "QUARTIER_PORT": "99999",
                "QUARTIER_DEBUG": "maybe",
                "DATABASE_URL": "mysql://x/y",
            }
        )
    message = str(caught.value)
    for name in ("QUARTIER_ENV", "QUARTIER_PORT", "QUARTIER_DEBUG", "DATABASE_URL"):
        assert name in message


def test_production_settings_accept_a_strong_configuration() -> None:
    settings = load_settings(_production())
    assert settings.is_production
    assert settings.database_url == "postgresql+asyncpg://quartier@db/quartier"


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    first = load_settings({"QUARTIER_DATA_DIR": str(tmp_path)})
    second = load_settings({"QUARTIER_DATA_DIR": str(tmp_path)})
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


async def test_production_refuses_a_database_without_synchronous_commit(
    settings: Settings, database_url: str, engine: AsyncEngine
) -> None:
    database = urlsplit(database_url).path.lstrip("/")
    async with engine.connect() as connection:
        await connection.execute(text(f'ALTER DATABASE "{database}" SET synchronous_commit = off'))
        await connection.commit()
    app = create_app(replace(settings, env="production"), database_url=database_url)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - lifespan wraps it in a group
        async with AsyncTestClient(app):
            pass
    assert "synchronous_commit=off" in repr(caught.value)


async def test_production_responses_carry_hsts(settings: Settings, database_url: str) -> None:
    app = create_app(replace(settings, env="production"), database_url=database_url)
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        response = await client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_languages_are_enabled_by_setting_and_german_stays_on() -> None:
    assert load_settings({}).languages == ("de", "en", "de-x-simple", "tr", "ar")
    assert load_settings({"QUARTIER_LANGUAGES": "en, AR"}).languages == ("de", "en", "ar")
    with pytest.raises(SettingsError, match="QUARTIER_LANGUAGES: unknown language"):
        load_settings({"QUARTIER_LANGUAGES": "en,fr"})


def test_the_idempotency_retention_is_a_bounded_setting() -> None:
    """Issue #8 §4: how long a submission's Idempotency-Key replays it (and is kept)."""
    assert load_settings({}).retention_idempotency_hours == 24
    given = load_settings({"QUARTIER_RETENTION_IDEMPOTENCY_HOURS": "6"})
    assert given.retention_idempotency_hours == 6
    assert given.idempotency_retention.total_seconds() == 6 * 3600
    for bad in ("0", "721", "a day"):
        with pytest.raises(SettingsError, match="QUARTIER_RETENTION_IDEMPOTENCY_HOURS"):
            load_settings({"QUARTIER_RETENTION_IDEMPOTENCY_HOURS": bad})
