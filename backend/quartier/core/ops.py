"""Operations endpoints: liveness, readiness, metrics, the API reference page, start-up checks."""

from __future__ import annotations

import gc
import html
import json
import logging
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.openapi.plugins import OpenAPIRenderPlugin
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.core.errors import problem_response
from quartier.core.openapi import (
    close_request_schemas,
    declared_cacheable,
    declared_content,
    finalize_contract,
    nesting_levels,
    request_structs,
    restore_nested_constraints,
)
from quartier.db import engine_of
from quartier.migrations import current_revision, head_revision
from quartier.settings import Settings

log = logging.getLogger(__name__)


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    database: str
    migration: str | None


@get("/health", include_in_schema=False, cache_control=None, sync_to_thread=False)
def health() -> Health:
    """The process is alive (no dependency is checked)."""
    return Health(status="ok")


@get("/ready", include_in_schema=False)
async def ready(request: Request[Any, Any, Any]) -> Response[Any]:
    """Ready to serve: the database answers and the schema is at the newest migration."""
    engine = engine_of(request)
    head = request.app.state.get("migration_head")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        revision = await current_revision(engine)
    except Exception:
        return problem_response(
            503, detail="The database is not reachable.", headers={"Retry-After": "5"}
        )
    if revision != head:
        return problem_response(
            503,
            detail=f"Migrations are not current ({revision} != {head}).",
            headers={"Retry-After": "30"},
        )
    return Response(Readiness(status="ready", database="ok", migration=revision))


@get(
    "/api/v1/openapi.json",
    include_in_schema=False,
    sync_to_thread=False,
    media_type="application/vnd.oai.openapi+json",
)
def openapi_document(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The published contract (also committed as openapi/openapi.json)."""
    return Response(contract_bytes(request.app), media_type="application/vnd.oai.openapi+json")


def contract_bytes(app: Litestar) -> bytes:
    """The OpenAPI document exactly as committed: sorted keys, two-space indent, final newline."""
    cached = app.state.get("openapi_bytes")
    if cached is None:
        document = app.openapi_schema.to_schema()
        structs = request_structs(app)
        restore_nested_constraints(document, structs)
        close_request_schemas(document)
        finalize_contract(
            document, declared_content(app), declared_cacheable(app), nesting_levels(structs)
        )
        cached = (
            json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        ).encode()
        app.state["openapi_bytes"] = cached
    return cached


ROUTES = [health, ready]


def metrics_controller() -> Any:
    from litestar.plugins.prometheus import PrometheusController

    class Metrics(PrometheusController):
        path = "/metrics"
        include_in_schema = False

    return Metrics


def metrics_middleware() -> Any:
    from litestar.plugins.prometheus import PrometheusConfig

    return PrometheusConfig(
        app_name="quartier", prefix="quartier", group_path=True, exclude=["/metrics", "/static"]
    ).middleware


async def on_startup(app: Litestar) -> None:
    settings: Settings = app.state["settings"]
    app.state["migration_head"] = head_revision()
    engine: AsyncEngine = app.state["db_config"].get_engine()
    async with engine.connect() as connection:
        synchronous_commit = (await connection.execute(text("SHOW synchronous_commit"))).scalar()
    if settings.is_production and synchronous_commit == "off":
        raise RuntimeError(
            "refusing to start in production: the database has synchronous_commit=off, so "
            "acknowledged submissions could be lost"
        )
    revision = await current_revision(engine)
    if revision != app.state["migration_head"]:
        log.warning(
            "database schema at %s, code expects %s: run `quartier migrate`",
            revision,
            app.state["migration_head"],
        )
    if settings.env != "test":
        # A server process lives long; the test suite builds hundreds of apps and would spend
        # a second on each building an OpenAPI document it rarely asks for.
        settle_heap(app)


def settle_heap(app: Litestar) -> None:
    """Build what is built once (the OpenAPI document), then move every object that exists
    now — the app, its routes, schemas, metadata, ~200,000 objects — out of the garbage
    collector's sight (`gc.freeze`). They live as long as the process; without this every
    full collection walks them, and under load such a collection stopped the process for
    100 ms and more, the long tail of the benchmark's latencies."""
    app.openapi_schema  # noqa: B018 - built here, not in the first request that asks for it
    gc.collect()
    gc.freeze()


async def on_shutdown(app: Litestar) -> None:
    """Hand the frozen objects back to the collector (a process that builds apps one after
    another, such as the test suite, would otherwise keep every old app's cycles)."""
    gc.unfreeze()


class ReferencePage(OpenAPIRenderPlugin):
    """A self-contained API reference (no third-party scripts, so it passes our CSP)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        esc = html.escape
        by_tag: dict[str, list[str]] = {}
        for path, item in openapi_schema.get("paths", {}).items():
            for method, op in item.items():
                if method not in {"get", "post", "put", "patch", "delete"}:
                    continue
                params = "".join(
                    f"<li><code>{esc(p['name'])}</code> ({esc(p['in'])}"
                    f"{', required' if p.get('required') else ''}): "
                    f"{esc(p.get('description', ''))}</li>"
                    for p in op.get("parameters", [])
                )
                responses = ", ".join(esc(code) for code in op.get("responses", {}))
                block = (
                    f'<section class="op" id="{esc(op.get("operationId", ""))}">'
                    f'<h3><span class="method">{method.upper()}</span> <code>{esc(path)}</code>'
                    f"</h3><p><strong>{esc(op.get('operationId', ''))}</strong> — "
                    f"{esc(op.get('summary', ''))}</p><p>{esc(op.get('description', ''))}</p>"
                    + (f"<h4>Parameters</h4><ul>{params}</ul>" if params else "")
                    + f"<p>Responses: {responses}</p></section>"
                )
                for tag in op.get("tags", ["Other"]):
                    by_tag.setdefault(tag, []).append(block)
        sections = "".join(
            f"<h2>{esc(tag)}</h2>{''.join(blocks)}" for tag, blocks in sorted(by_tag.items())
        )
        info = openapi_schema.get("info", {})
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(info.get('title', 'API'))} reference</title>"
            '<link rel="stylesheet" href="/static/css/quartier.css"></head><body>'
            '<main id="main" class="container reference">'
            f"<h1>{esc(info.get('title', 'API'))} {esc(info.get('version', ''))}</h1>"
            f"<p>{esc(info.get('description', ''))}</p>"
            '<p>Machine-readable contract: <a href="/api/v1/openapi.json">openapi.json</a></p>'
            f"{sections}</main></body></html>"
        )
        return page.encode()


def reference_page_plugin() -> OpenAPIRenderPlugin:
    return ReferencePage(path="/")
