"""The production-shaped stack in compose.yaml has the parts the README promises."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_postgres_16_with_a_volume_and_a_health_check() -> None:
    postgres = _compose()["services"]["postgres"]
    assert re.match(r"postgres:16", postgres["image"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "synchronous_commit=on" in postgres["command"]


def test_app_runs_as_two_replicas_with_a_readiness_check() -> None:
    services = _compose()["services"]
    app = services["app"]
    assert app["deploy"]["replicas"] == 2
    assert "/ready" in " ".join(app["healthcheck"]["test"])
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["quartier", "migrate"]


def test_reverse_proxy_in_front_of_the_app() -> None:
    services = _compose()["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    assert "ports" not in services["app"], "the app is reachable only through the proxy"
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy" in caddyfile and "dynamic a app 8000" in caddyfile
    proxy_ip = proxy["networks"]["backend"]["ipv4_address"]
    assert services["app"]["environment"]["QUARTIER_TRUSTED_PROXIES"] == proxy_ip


def test_secrets_come_from_the_environment() -> None:
    compose_text = (ROOT / "compose.yaml").read_text()
    environment = _compose()["services"]["app"]["environment"]
    assert environment["QUARTIER_ENV"] == "production"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    for line in compose_text.splitlines():
        if re.search(r"(PASSWORD|SECRET)[A-Z_]*:\s*\S", line) and "${" not in line:
            raise AssertionError(f"literal secret in compose.yaml: {line.strip()}")


def test_image_runs_unprivileged_without_the_development_cluster() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER quartier" in dockerfile
    assert "--frozen" in dockerfile and "--no-install-package pgserver" in dockerfile
