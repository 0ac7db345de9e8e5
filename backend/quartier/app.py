"""create_app(): the one place where the application is assembled."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Server, Tag
from litestar.plugins.jinja import JinjaTemplateEngine as Jinja
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, ControllerRouterHandler, Receive, Scope, Send

from quartier import __version__
from quartier.core import i18n, ops, problem_types, web
from quartier.core.conditional import ConditionalCompressionMiddleware
from quartier.core.csrf import csrf_middleware_factory
from quartier.core.errors import EXCEPTION_HANDLERS
from quartier.core.i18n import language_middleware
from quartier.core.logging import configure_logging
from quartier.core.middleware import (
    allowed_methods_by_options_handler,
    media_type_middleware,
    nul_guard_middleware,
    security_headers_hook,
)
from quartier.core.openapi import document_operations
from quartier.core.ratelimit import RateLimiter, rate_limit_middleware_factory
from quartier.core.strict import strict_json_body
from quartier.core.templating import configure_template_engine
from quartier.core.transactions import commit_before_response
from quartier.db import create_engine
from quartier.settings import PROJECT_ROOT, Settings, load_settings

log = logging.getLogger(__name__)

FRONTEND = PROJECT_ROOT / "frontend"
API_PREFIX = "/api/v1"

OPENAPI_TAGS = [
    Tag(name="Social areas", description="Sozialräume: hierarchy, boundaries, population."),
    Tag(
        name="Planning processes",
        description="Planungsprozesse through the seven phases of the planning cycle.",
    ),
    Tag(name="Organisations", description="Welfare organisations, administration, council bodies."),
    Tag(name="Participation", description="Which participation modules are open in which phase."),
    Tag(
        name="Surveys",
        description="Befragungen: definitions and their lifecycle, responses, receipts, "
        "per-question results.",
    ),
    Tag(
        name="Need categories",
        description="Bedarfskategorien: the controlled list survey options are tagged with.",
    ),
    Tag(name="Goals", description="Ziele set on the assessed needs, versioned, with evidence."),
    Tag(
        name="Measures",
        description="Maßnahmen: drafts in versions, their lifecycle from draft to evaluation, "
        "and the chain from needs to measures.",
    ),
    Tag(
        name="Measure feedback",
        description="Rückmeldungen: consultations on a measure version, structured feedback, "
        "disclosure-controlled summaries.",
    ),
    Tag(
        name="Ideas",
        description="Ideen: residents' ideas per social area, supports, comments, reports, "
        "the private follow link, official answers, lists and a GeoJSON feed.",
    ),
    Tag(
        name="Idea moderation",
        description="The moderation queue, publishing, hiding with a public reason, merging "
        "duplicates, comment moderation and the moderation log.",
    ),
    Tag(
        name="Inventory",
        description="Angebotsbestand: the services of organisations, inventory rounds and "
        "supply beside need per social area.",
    ),
    Tag(
        name="Social reports",
        description="Sozialberichte: per cycle of a process, assembled from what is recorded "
        "with the planners' editorial sections; public once released; as JSON and PDF.",
    ),
    Tag(name="Accounts", description="Staff sign-in, accounts and API tokens."),
    Tag(
        name="Webhooks",
        description="Signed event deliveries to other municipal systems (Standard Webhooks).",
    ),
    Tag(
        name="Open data",
        description="The DCAT-AP.de catalogue (JSON-LD) of the published datasets and the "
        "public downloads it lists; public reads answer conditional requests (ETag, 304).",
    ),
    Tag(
        name="Exports",
        description="Disclosure-controlled aggregated data as files: JSON, CSV, CSV for German "
        "Excel, XLSX and GeoJSON, each with its metadata.",
    ),
]


def _api_routes() -> list[ControllerRouterHandler]:
    from quartier.accounts.controllers import API_ROUTES as accounts
    from quartier.areas.controllers import API_ROUTES as areas
    from quartier.ideas.controllers import API_ROUTES as ideas
    from quartier.indicators.controllers import API_ROUTES as indicators
    from quartier.inventory.controllers import API_ROUTES as inventory
    from quartier.measures.controllers import API_ROUTES as measures
    from quartier.opendata.controllers import API_ROUTES as opendata
    from quartier.processes.controllers import API_ROUTES as processes
    from quartier.reports.controllers import API_ROUTES as reports
    from quartier.surveys.controllers import API_ROUTES as surveys
    from quartier.surveys.export_controllers import EXPORT_ROUTES as survey_exports
    from quartier.surveys.file_controllers import FILE_ROUTES as survey_files
    from quartier.webhooks.controllers import API_ROUTES as webhooks

    return [
        *areas,
        *processes,
        *surveys,
        *survey_exports,
        *accounts,
        *webhooks,
        *indicators,
        *survey_files,
        *measures,
        *ideas,
        *inventory,
        *reports,
        *opendata,
    ]


def _register_sections() -> None:
    """Participation modules contribute sections to the pages of processes."""
    from quartier.ideas.sections import SECTIONS as ideas
    from quartier.measures.sections import SECTIONS as measures
    from quartier.processes.participation import contribute_sections, provide_sections
    from quartier.reports.sections import SECTIONS as reports
    from quartier.surveys.sections import SECTIONS as surveys

    for module, provider in [*surveys, *ideas, *measures]:
        provide_sections(module, provider)
    for key, provider in reports:
        contribute_sections(key, provider)


def _page_routes() -> list[ControllerRouterHandler]:
    from quartier.accounts.pages import PAGES as accounts
    from quartier.areas.pages import PAGES as areas
    from quartier.ideas.pages import PAGES as ideas
    from quartier.indicators.pages import PAGES as indicators
    from quartier.inventory.pages import PAGES as inventory
    from quartier.jobs.pages import PAGES as outbox
    from quartier.measures.pages import PAGES as measures
    from quartier.measures.report_pages import PAGES as measure_reports
    from quartier.processes.pages import PAGES as processes
    from quartier.reports.pages import PAGES as reports
    from quartier.surveys.builder_pages import PAGES as survey_builder
    from quartier.surveys.category_pages import PAGES as need_categories
    from quartier.surveys.pages import PAGES as surveys
    from quartier.surveys.staff_entry_pages import PAGES as survey_entry
    from quartier.webhooks.pages import PAGES as webhooks

    return [
        *processes,
        *areas,
        *accounts,
        *surveys,
        *webhooks,
        *outbox,
        *indicators,
        *survey_builder,
        *need_categories,
        *survey_entry,
        *measures,
        *measure_reports,
        *ideas,
        *inventory,
        *reports,
    ]


# Probes answer without the request machinery: no rate limit, language, credentials or CSRF
# token (a probe that happens to send a session cookie must not make /health query the
# database). Security headers still come from the `before_send` hook.
_PROBES = frozenset({"/health", "/ready"})


def _middleware(settings: Settings, limiter: RateLimiter) -> list[Any]:
    from quartier.accounts.auth import authentication_middleware_factory

    layers = [
        rate_limit_middleware_factory(limiter),
        language_middleware,
        media_type_middleware(API_PREFIX),
        nul_guard_middleware(settings.max_body_bytes),
        authentication_middleware_factory(settings),
        rate_limit_middleware_factory(limiter, stage="token"),
        csrf_middleware_factory(settings),
    ]

    def factory(app: ASGIApp) -> ASGIApp:
        wrapped = app
        for layer in reversed(layers):
            wrapped = layer(wrapped)

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP and scope["path"] in _PROBES:
                await app(scope, receive, send)
            else:
                await wrapped(scope, receive, send)

        return middleware

    return [factory]


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> Litestar:
    """Assemble the application. `database_url` overrides the settings (used by the launcher,
    which may have just started the private cluster)."""
    settings = settings or load_settings()
    configure_logging(settings)
    i18n.configure_languages(settings.languages)
    url = database_url or settings.database_url
    if url is None:
        raise RuntimeError("no database: set DATABASE_URL or start through `quartier serve`")

    db_config = SQLAlchemyAsyncConfig(
        engine_instance=create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            # Fail fast while the database is unreachable (503) instead of hanging.
            connect_timeout=5,
        ),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        set_default_exception_handler=False,
    )
    # Our own commit handler, bound to the session key this config was given (see
    # core.transactions: a failed commit must never be answered 2xx).
    db_config.before_send_handler = commit_before_response(db_config.session_scope_key)

    api = Router(path=API_PREFIX, route_handlers=_api_routes())
    static = create_static_files_router(
        path="/static",
        directories=[FRONTEND / "static"],
        include_in_schema=False,
        send_as_attachment=False,
    )
    _register_sections()
    route_handlers: Sequence[ControllerRouterHandler] = [
        api,
        static,
        *ops.ROUTES,
        *web.ROUTES,
        *problem_types.ROUTES,
        ops.openapi_document,
        *_page_routes(),
    ]
    plugins: list[Any] = [SQLAlchemyPlugin(config=db_config)]
    limiter = RateLimiter(settings)
    allow_by_handler: dict[int, str] = {}  # filled once the routes exist, see below
    middleware = _middleware(settings, limiter)
    if settings.metrics_enabled:
        route_handlers = [*route_handlers, ops.metrics_controller()]
        middleware.insert(0, ops.metrics_middleware())

    app = Litestar(
        route_handlers=route_handlers,
        plugins=plugins,
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        # Conditional requests (ETag, 304) are answered directly inside the compression, on
        # the identity body (core.conditional).
        compression_config=CompressionConfig(
            backend="gzip",
            minimum_size=500,
            gzip_compress_level=6,
            middleware_class=ConditionalCompressionMiddleware,
        ),
        template_config=TemplateConfig(
            directory=Path(FRONTEND / "templates"),
            engine=Jinja,
            engine_callback=configure_template_engine,
        ),
        openapi_config=OpenAPIConfig(
            title="Quartier API",
            version=__version__,
            description=(
                "Participation in municipal social planning: social areas, planning processes "
                "through the seven phases of the planning cycle, organisations, and the "
                "participation of residents. Errors are RFC 9457 problem details "
                "(`application/problem+json`). Collections are cursor-paginated."
            ),
            path=API_PREFIX + "/docs",
            servers=[Server(url="/", description="This server")],
            tags=OPENAPI_TAGS,
            use_handler_docstrings=False,
            create_examples=False,
            components=Components(
                security_schemes={
                    "bearerToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="An API token created by an administrator (`quartier "
                        "create-token`); scopes restrict what it may do.",
                    ),
                    "session": SecurityScheme(
                        type="apiKey",
                        security_scheme_in="cookie",
                        name="__Host-quartier_session",
                        description="Staff session cookie set by `POST /api/v1/auth/login`; unsafe "
                        "methods also need the `X-CSRF-Token` header.",
                    ),
                }
            ),
            render_plugins=[ops.reference_page_plugin()],
        ),
        state=State({"settings": settings, "db_config": db_config, "rate_limiter": limiter}),
        on_startup=[ops.on_startup],
        on_shutdown=[limiter.close, ops.on_shutdown],
        before_send=[security_headers_hook(settings, allow_by_handler)],
        before_request=strict_json_body,
        debug=settings.debug,
    )
    allow_by_handler.update(allowed_methods_by_options_handler(app.routes))
    document_operations(app)
    return app
