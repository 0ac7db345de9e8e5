"""JSON API of this domain."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

API_ROUTES: list[ControllerRouterHandler] = []
