"""A real HTTP receiver for webhook deliveries, started by the tests; the surveys fixtures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.jobs.worker import Worker
from quartier.settings import Settings
from tests.surveys.conftest import (  # noqa: F401 - fixtures
    areas,
    make_process,
    planner,
    process_id,
    surveys,
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on a fixed port that records every POST and answers `status`; it can be
    stopped (the port then refuses connections) and started again."""

    port: int
    status: int = 204
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/quartier"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def down_receiver() -> Iterator[Receiver]:
    """A receiver that is down until the test starts it."""
    stopped = Receiver(free_port())
    try:
        yield stopped
    finally:
        stopped.stop()


@pytest.fixture
def worker(engine: AsyncEngine, settings: Settings) -> Worker:
    import quartier.webhooks.delivery  # noqa: F401 - registers the job

    return Worker(engine, settings, poll_seconds=0.05, grace_seconds=1.0)
