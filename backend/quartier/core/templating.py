"""Jinja set-up for the server-rendered pages: globals, filters and translations."""

from __future__ import annotations

from typing import Any


def configure_template_engine(engine: Any) -> None:
    """Called once by Litestar with the Jinja engine; registers globals and filters."""
    environment = engine.engine
    environment.autoescape = True
    environment.trim_blocks = True
    environment.lstrip_blocks = True
