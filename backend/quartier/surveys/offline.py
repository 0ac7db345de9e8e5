"""Answering a survey offline: the service worker and what the browser may keep.

A resident who opened a survey keeps answering when the connection drops (issue #14 §2);
everything here only serves frontend/static/js/survey.js, so without JavaScript nothing changes.

* `GET /surveys/offline-worker.js` serves frontend/static/js/survey-worker.js from a path whose
  scope is `/surveys/` (so it controls the resident pages and never a staff page), as
  JavaScript, revalidated on every visit (`Cache-Control: no-cache`), so a new version is
  picked up at once.
* `cached_urls`: the only pages survey.js puts into the survey's cache — the survey's intro and
  its offline page (`GET /surveys/{id}/offline`, every page of questions blank, served by
  surveys/pages.py) — plus the static files they need. None of them carries answers: answers
  stay in the browser's localStorage, and both the cache and the stored answers are cleared
  once the submission has arrived.
* `condition_json`: the survey's conditions (`show_if`) as data for the offline page, which
  shows and skips pages the way `definition.visible_pages` does while it cannot ask the server.
  The submission is checked again by the server, as every submission is.
"""

from __future__ import annotations

from functools import cache
from uuid import UUID

import msgspec
from litestar import Response, get
from litestar.types import ControllerRouterHandler

from quartier.core.security import PUBLIC
from quartier.settings import PROJECT_ROOT
from quartier.surveys import schemas as s

SCOPE = "/surveys/"
WORKER_PATH = "/surveys/offline-worker.js"
WORKER_FILE = PROJECT_ROOT / "frontend" / "static" / "js" / "survey-worker.js"
# What the resident pages load (base.html, surveys/_layout.html): kept for offline use.
STATIC_FILES = (
    "/static/css/quartier.css",
    "/static/css/survey.css",
    "/static/js/quartier.js",
    "/static/js/survey.js",
    "/static/icons/favicon.svg",
)


def cache_name(survey_id: UUID) -> str:
    """The name of the browser cache survey.js fills for one survey (one per survey)."""
    return f"quartier-survey-{survey_id}"


def offline_path(survey_id: UUID, query: str = "") -> str:
    return f"/surveys/{survey_id}/offline{query}"


def cached_urls(survey_id: UUID, query: str = "") -> list[str]:
    """The URLs survey.js caches when a resident opens this survey (in the flow's language)."""
    return [f"/surveys/{survey_id}{query}", offline_path(survey_id, query), *STATIC_FILES]


def condition_json(condition: s.Condition | None) -> str:
    """A `show_if` condition as the JSON the offline page evaluates ('' when there is none)."""
    return msgspec.json.encode(condition).decode() if condition is not None else ""


@cache
def _worker_script() -> bytes:
    return WORKER_FILE.read_bytes()


@get(WORKER_PATH, include_in_schema=False, sync_to_thread=False, **PUBLIC)
def offline_worker() -> Response[bytes]:
    """The service worker of the resident survey pages (see the module's docstring)."""
    return Response(
        _worker_script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": SCOPE},
    )


ROUTES: list[ControllerRouterHandler] = [offline_worker]
