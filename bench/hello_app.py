"""The baseline for `GET /health`: a bare Litestar app answering the same JSON."""

from __future__ import annotations

import msgspec
from litestar import Litestar, get


class Health(msgspec.Struct):
    status: str


@get("/health", sync_to_thread=False)
def health() -> Health:
    return Health(status="ok")


app = Litestar([health])
