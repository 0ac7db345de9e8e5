"""HTML pages of this domain."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

PAGES: list[ControllerRouterHandler] = []
