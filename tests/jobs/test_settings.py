"""Mail and worker settings are read from the environment and validated at start-up."""

from __future__ import annotations

import pytest

from quartier.settings import SettingsError, load_settings

BASE = {"QUARTIER_ENV": "test", "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnop"}


def test_without_smtp_settings_mail_goes_to_the_outbox(tmp_path: object) -> None:
    settings = load_settings({**BASE, "QUARTIER_DATA_DIR": str(tmp_path)})
    assert settings.smtp_host is None
    assert settings.outbox_dir == settings.data_dir / "outbox"
    assert (settings.smtp_port, settings.smtp_security) == (587, "starttls")
    assert (settings.worker_concurrency, settings.job_retention_days) == (4, 7)


def test_smtp_settings_come_from_the_environment() -> None:
    settings = load_settings(
        {
            **BASE,
            "QUARTIER_SMTP_HOST": "mail.example.org",
            "QUARTIER_SMTP_SECURITY": "tls",
            "QUARTIER_SMTP_USERNAME": "quartier",
            "QUARTIER_SMTP_PASSWORD": "pw",
            "QUARTIER_MAIL_FROM": "Beteiligung <beteiligung@example.org>",
            "QUARTIER_WORKER_CONCURRENCY": "16",
        }
    )
    assert settings.smtp_host == "mail.example.org"
    assert settings.smtp_port == 465  # the default port of implicit TLS
    assert settings.smtp_username == "quartier" and settings.smtp_password == "pw"
    assert settings.mail_from == "Beteiligung <beteiligung@example.org>"
    assert settings.worker_concurrency == 16


def test_bad_mail_and_worker_settings_are_all_reported() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                **BASE,
                "QUARTIER_SMTP_SECURITY": "ssl3",
                "QUARTIER_SMTP_PORT": "99999",
                "QUARTIER_MAIL_FROM": "nobody",
                "QUARTIER_WORKER_CONCURRENCY": "0",
                "QUARTIER_JOB_RETENTION_DAYS": "x",
            }
        )
    message = str(error.value)
    for name in (
        "QUARTIER_SMTP_SECURITY",
        "QUARTIER_SMTP_PORT",
        "QUARTIER_MAIL_FROM",
        "QUARTIER_WORKER_CONCURRENCY",
        "QUARTIER_JOB_RETENTION_DAYS",
    ):
        assert name in message
