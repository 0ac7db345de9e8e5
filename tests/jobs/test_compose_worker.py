"""compose.yaml runs a worker for the job queue beside the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    return services


def test_a_worker_runs_the_job_queue_beside_the_app() -> None:
    services = _services()
    worker = services["worker"]
    assert worker["command"] == ["quartier", "worker"]
    assert worker["image"] == services["app"]["image"]
    assert worker["environment"]["DATABASE_URL"] == services["app"]["environment"]["DATABASE_URL"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "QUARTIER_SMTP_HOST" in worker["environment"]


def test_make_run_starts_a_worker_with_the_app() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "quartier serve --demo --with-worker" in run
