"""Jinja set-up for the server-rendered pages: globals, filters and translations.

Templates translate with ``{{ _("Text") }}`` (English msgids; catalogues in
frontend/locales), read the negotiated language from ``lang``, and pick the right text of a
multilingual value with ``texts|pick``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from quartier.core import i18n
from quartier.core.csrf import csrf_token_for
from quartier.core.security import principal_of

TEMPLATES = Path(__file__).resolve().parents[3] / "frontend" / "templates"


def _format_number(value: int | float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    if i18n.current_language().startswith("de"):
        text = text.replace(",", "\u2009").replace(".", ",")  # thin space, decimal comma
    return text


def configure_template_engine(engine: Any) -> None:
    """Called once by Litestar with the Jinja engine; registers globals and filters."""
    environment = engine.engine
    environment.autoescape = True
    environment.trim_blocks = True
    environment.lstrip_blocks = True
    environment.add_extension("jinja2.ext.i18n")
    # `{% trans %}` blocks collapse their whitespace, as extraction does (babel.cfg: trimmed).
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(
        gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
    )
    environment.globals["current_language"] = i18n.current_language
    environment.globals["ui_languages"] = i18n.ui_languages
    environment.globals["switch_languages"] = i18n.switch_languages
    environment.globals["text_direction"] = i18n.text_direction
    environment.globals["ENDONYMS"] = i18n.ENDONYMS
    # `principal_of(request)`: the signed-in caller or None (the header shows staff links).
    environment.globals["principal_of"] = principal_of
    # `csrf_token(request)`: the token every form posts back as the `csrf_token` field.
    environment.globals["csrf_token"] = lambda request: csrf_token_for(request.scope)
    environment.filters["pick"] = i18n.pick
    environment.filters["number"] = _format_number


@functools.cache
def standalone_engine() -> Any:
    """The pages' Jinja engine, set up as the app sets up its own, for rendering outside a
    request (the worker's jobs). Templates see `request` as None there."""
    from litestar.plugins.jinja import JinjaTemplateEngine

    engine = JinjaTemplateEngine(directory=TEMPLATES)
    configure_template_engine(engine)
    return engine
