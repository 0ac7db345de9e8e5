"""Running the real app as a separate process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(
    env: Mapping[str, str], port: int, *, workers: int = 1, quiet: bool = True
) -> subprocess.Popen[bytes]:
    """Start `quartier.app:create_app` under uvicorn (as `quartier serve` does)."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "quartier.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    output = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(
        command, env={**os.environ, **env}, cwd=ROOT, stdout=output, stderr=output
    )


def wait_until(url: str, *, timeout: float = 60.0, status: int = 200) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == status:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer {status} within {timeout} s")
