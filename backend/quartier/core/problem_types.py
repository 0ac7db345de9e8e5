"""A short HTML page for each problem `type` URI (`/problems/<slug>`), so that the URI in an
RFC 9457 problem response leads somewhere: what the problem means and what to do.

The known types are those of `core.errors.STATUS_SLUGS`, every `Problem` subclass (domain
packages define their own) and the slugs raised explicitly (`EXTRA_SLUGS`); any other slug is
404.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import PathParameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from quartier.core.errors import PROBLEM_BASE, STATUS_SLUGS, NotFound, Problem
from quartier.core.security import PUBLIC

# Slugs given as `slug=` when raising (not as a class): (status, title).
EXTRA_SLUGS: dict[str, tuple[int, str]] = {
    "validation-error": (400, "Invalid input"),
    "malformed-json": (400, "Malformed JSON"),
    "idempotency-key-reused": (422, "Idempotency-Key reused"),
    "idempotency-in-flight": (409, "Request in flight"),
    "wrong-phase": (409, "Not possible in this phase"),
    "breaking-change": (409, "Change would break stored answers"),
}


def _subclasses(cls: type[Problem]) -> list[type[Problem]]:
    found: list[type[Problem]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def known_types() -> dict[str, tuple[int, str]]:
    """Every problem type the server answers with: slug → (status, title)."""
    types = {slug: (status, title) for status, (slug, title) in STATUS_SLUGS.items()}
    types.update(EXTRA_SLUGS)
    classes: list[type[Problem]] = [Problem, *_subclasses(Problem)]
    for cls in classes:
        types.setdefault(cls.slug, (cls.status_code, cls.title))
    return types


@get(
    PROBLEM_BASE + "{slug:str}",
    include_in_schema=False,
    cache_control=None,
    sync_to_thread=False,
    **PUBLIC,
)
def problem_type(slug: Annotated[str, PathParameter(max_length=80)]) -> Template:
    """What one problem type means."""
    found = known_types().get(slug)
    if found is None:
        raise NotFound(f"There is no problem type {slug!r}.")
    status, title = found
    return Template(
        template_name="problems/type.html",
        context={"slug": slug, "status": status, "title": title, "uri": PROBLEM_BASE + slug},
        headers={"Cache-Control": "public, max-age=86400"},
    )


ROUTES: list[ControllerRouterHandler] = [problem_type]
