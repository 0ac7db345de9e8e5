"""The survey builder: planners write, preview, publish and close surveys in the browser.

    GET/POST /workspace/processes/{id}/surveys/new          a new draft (texts residents read first)
    GET/POST /workspace/processes/{id}/surveys/import       a new draft from an XLSForm upload
    GET      /workspace/surveys/{id}                        the survey: pages, questions, actions
    GET/POST /workspace/surveys/{id}/texts                  title, intro, purpose, … thank-you text
    POST     /workspace/surveys/{id}/pages                  add a page
    GET/POST /workspace/surveys/{id}/pages/{key}            a page's title and condition
    GET/POST /workspace/surveys/{id}/questions/new          add a question (`page`, `type`)
    GET/POST /workspace/surveys/{id}/questions/{key}        change a question
    POST     /workspace/surveys/{id}/questions/{key}/delete remove a question
    POST     /workspace/surveys/{id}/questions/{key}/move   one place up or down (`direction`)
    GET      /workspace/surveys/{id}/preview                every page as residents see it
    POST     /workspace/surveys/{id}/publish | /close       the lifecycle
    POST     /workspace/surveys/{id}/letters                invitation letters (PDF)
    POST     /workspace/surveys/{id}/open-data              results as open data, or withdrawn

Every change builds the whole definition and saves it through `services.update_survey`: the
same definition checks as the API (UpdateSurvey) decide, and their messages are shown at the
fields they name. Works without JavaScript; conditions are written as XLSForm `relevant`
expressions (``${children} = 'yes'``), read by `surveys.xlsform`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import services as areas
from quartier.core import i18n
from quartier.core.errors import FieldError, Problem
from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS, access
from quartier.processes.models import PlanningProcess
from quartier.settings import Settings
from quartier.surveys import definition as d
from quartier.surveys import letters, services, xlsform
from quartier.surveys import schemas as s
from quartier.surveys.models import Survey, SurveyStatus
from quartier.surveys.pages import FlowState, _area_choices, _question_view

AnyRequest = Request[Any, Any, Any]
PLANNER = access(roles=PLANNERS)
BASE = "/workspace/surveys/{survey_id:uuid}"
LANGUAGES = (("de", "_de"), ("en", "_en"), ("de-x-simple", "_simple"))
OPTIONS_MAX_LINES = 50
SEPARATOR = "|"


def _language_names() -> dict[str, str]:
    return {"de": _("German"), "en": _("English"), "de-x-simple": _("Easy-read German")}


def _type_names() -> dict[str, str]:
    return {
        "single_choice": _("Single choice"),
        "multiple_choice": _("Multiple choice"),
        "rating": _("Rating scale"),
        "number": _("Number"),
        "short_text": _("Short text"),
        "long_text": _("Long text"),
        "ranking": _("Ranking"),
        "social_area": _("Social area"),
        "age_band": _("Age band"),
    }


# -- form helpers --------------------------------------------------------------------------------


def _field(form: FormMultiDict, name: str, limit: int = s.TEXT_MAX) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _text_from(form: FormMultiDict, prefix: str) -> dict[str, str] | None:
    """`prefix_de`, `prefix_en`, `prefix_simple` as a text (None when all are empty)."""
    found = {lang: _field(form, prefix + suffix) for lang, suffix in LANGUAGES}
    found = {lang: value for lang, value in found.items() if value}
    return found or None


def _text_values(prefix: str, text: Mapping[str, Any] | None) -> dict[str, str]:
    return {prefix + suffix: str((text or {}).get(lang) or "") for lang, suffix in LANGUAGES}


def _int(form: FormMultiDict, name: str, errors: dict[str, str]) -> int | None:
    raw = _field(form, name, 20)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors[name] = _("Enter a whole number.")
        return None


def _float(form: FormMultiDict, name: str, errors: dict[str, str]) -> float | None:
    raw = _field(form, name, 30).replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        errors[name] = _("Enter a number.")
        return None


def options_text(question: Mapping[str, Any]) -> str:
    """A question's options as the lines of the options field:
    ``key | Deutsch | English | Einfach | needs (or population bands)``."""
    lines = []
    for option in question.get("options") or []:
        label = option.get("label") or {}
        extra = option.get("population_bands", option.get("need_categories")) or []
        cells = [option["key"], label.get("de", ""), label.get("en", "") or "",
                 label.get("de-x-simple", "") or "", " ".join(extra)]  # fmt: skip
        lines.append(f" {SEPARATOR} ".join(cells).rstrip(f" {SEPARATOR}"))
    return "\n".join(lines)


def _options(raw: str, extra: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    options = []
    for number, line in enumerate(raw.splitlines()[:OPTIONS_MAX_LINES], start=1):
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(SEPARATOR)] + [""] * 5
        key, de, en, simple, more = cells[:5]
        if not key or not de:
            errors["options"] = _("Line %(line)s: give a key and a German label.", line=number)
            continue
        label = {
            "de": de,
            **({"en": en} if en else {}),
            **({"de-x-simple": simple} if simple else {}),
        }
        options.append({"key": key, "label": label, extra: more.split()})
    return options


def _question_from(
    form: FormMultiDict, kind: str, types: Mapping[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    """The question the form describes (as builtins; msgspec and the definition checks
    validate it with the rest of the survey)."""
    question: dict[str, Any] = {
        "type": kind,
        "key": _field(form, "key", 64),
        "text": _text_from(form, "text"),
        "required": kind == "social_area" or form.get("required") == "yes",
    }
    hint = _text_from(form, "hint")
    if hint:
        question["hint"] = hint
    condition = _field(form, "show_if", 2000)
    if condition:
        try:
            question["show_if"] = xlsform.parse_relevant(condition, types)
        except ValueError as error:
            errors["show_if"] = _("The condition cannot be read: %(reason)s", reason=str(error))
    if kind in ("single_choice", "multiple_choice", "ranking", "age_band"):
        extra = "population_bands" if kind == "age_band" else "need_categories"
        question["options"] = _options(_field(form, "options", 20_000), extra, errors)
    if kind == "single_choice":
        _population_sexes(form, question["options"], errors)
    if kind in ("single_choice", "multiple_choice"):
        other = _text_from(form, "other")
        if other:
            question["other"] = {"label": other}
    if kind == "multiple_choice":
        for name in ("min_selections", "max_selections"):
            value = _int(form, name, errors)
            if value is not None:
                question[name] = value
    if kind == "ranking":
        for name in ("min_ranked", "max_ranked"):
            value = _int(form, name, errors)
            if value is not None:
                question[name] = value
    if kind == "rating":
        for name, default in (("scale_min", 1), ("scale_max", 5)):
            value = _int(form, name, errors)
            question[name] = default if value is None else value
        question["min_label"] = _text_from(form, "min_label")
        question["max_label"] = _text_from(form, "max_label")
        question["need_values"] = [
            int(v) for v in _field(form, "need_values").split() if v.isdigit()
        ]
        question["need_categories"] = _field(form, "need_categories").split()
    if kind == "number":
        question["minimum"] = _float(form, "minimum", errors)
        question["maximum"] = _float(form, "maximum", errors)
        question["integer"] = form.get("integer") == "yes"
        unit = _text_from(form, "unit")
        if unit:
            question["unit"] = unit
    if kind in ("short_text", "long_text"):
        value = _int(form, "max_length", errors)
        if value is not None:
            question["max_length"] = value
    if kind == "social_area":
        question["level"] = _field(form, "level", 40)
        question["point_lookup"] = form.get("point_lookup") == "yes"
    return question


FORM_LANGUAGES = frozenset(lang for lang, _suffix in LANGUAGES)
QUESTION_TEXTS = ("text", "hint", "min_label", "max_label", "unit")


def with_hidden_languages(
    text: Mapping[str, Any] | None, previous: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """`text` as the form gave it, plus the languages of `previous` the builder does not show
    (Turkish, Arabic: written through the API). A text the form left empty stays removed."""
    if not text:
        return None
    hidden = {
        lang: value
        for lang, value in (previous or {}).items()
        if lang not in FORM_LANGUAGES and value
    }
    return {**text, **hidden}


def keep_what_the_form_does_not_show(
    question: dict[str, Any], previous: Mapping[str, Any]
) -> dict[str, Any]:
    """A question read from the builder's form, completed from the stored `previous`: its
    texts' other languages (also of options by key and of the "other" option) and the "other"
    option's length and need categories, which the form does not carry."""
    for name in QUESTION_TEXTS:
        if question.get(name):
            question[name] = with_hidden_languages(question[name], previous.get(name))
    before = {option["key"]: option for option in previous.get("options") or []}
    for option in question.get("options") or []:
        if option["key"] in before:
            option["label"] = with_hidden_languages(option["label"], before[option["key"]]["label"])
    other, other_before = question.get("other"), previous.get("other")
    if other and other_before:
        other["label"] = with_hidden_languages(other["label"], other_before.get("label"))
        for name in ("max_length", "need_categories"):
            if name in other_before:
                other[name] = other_before[name]
    return question


SEX_FIELDS = (("female", "sex_female"), ("male", "sex_male"))


def _population_sexes(
    form: FormMultiDict, options: list[dict[str, Any]], errors: dict[str, str]
) -> None:
    """Map the options named in the fields `sex_female` / `sex_male` (option keys, optional)
    to the population's sexes, for the representativeness of the results."""
    by_key = {option["key"]: option for option in options}
    for sex, name in SEX_FIELDS:
        key = _field(form, name, 64)
        if not key:
            continue
        if key not in by_key:
            errors[name] = _("Give the key of one of the options above.")
        elif "population_sex" in by_key[key]:
            errors[name] = _("An option counts for one sex only.")
        else:
            by_key[key]["population_sex"] = sex


def _question_values(question: Mapping[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    """The form fields of a stored question."""
    values: dict[str, Any] = {
        "key": question.get("key", ""),
        "required": "yes" if question.get("required") else "",
        "options": options_text(question),
        "show_if": "",
    }
    values |= _text_values("text", question.get("text"))
    values |= _text_values("hint", question.get("hint"))
    values |= _text_values("other", (question.get("other") or {}).get("label"))
    values |= _text_values("min_label", question.get("min_label"))
    values |= _text_values("max_label", question.get("max_label"))
    values |= _text_values("unit", question.get("unit"))
    if question.get("show_if"):
        condition = msgspec.convert(question["show_if"], s.Condition)
        values["show_if"] = xlsform.condition_to_relevant(condition)
    for name in ("min_selections", "max_selections", "min_ranked", "max_ranked", "scale_min",
                 "scale_max", "max_length", "level"):  # fmt: skip
        if question.get(name) is not None:
            values[name] = str(question[name])
    for name in ("minimum", "maximum"):
        if question.get(name) is not None:
            values[name] = f"{float(question[name]):g}"
    values["integer"] = "yes" if question.get("integer", True) else ""
    values["point_lookup"] = "yes" if question.get("point_lookup") else ""
    values["need_values"] = " ".join(str(v) for v in question.get("need_values") or [])
    values["need_categories"] = " ".join(question.get("need_categories") or [])
    for sex, name in SEX_FIELDS:
        values[name] = next(
            (o["key"] for o in question.get("options") or [] if o.get("population_sex") == sex),
            "",
        )
    return values


# -- saving through the service ------------------------------------------------------------------

_PATH = re.compile(r"^definition\.pages\[(\d+)\](?:\.questions\[(\d+)\])?\.?(.*)$")
_MSGSPEC_PATH = re.compile(r"- at `\$\.(?P<path>[^`]+)`")
_LANGUAGE_SUFFIX = {lang: suffix for lang, suffix in LANGUAGES}


def _form_field(rest: str) -> str:
    """The form field for the rest of a definition path (`text.de` → `text_de`)."""
    head, _dot, tail = rest.partition(".")
    name = head.split("[", 1)[0]
    if name in ("options", "other", "need_values", "need_categories", "show_if"):
        return "options" if name == "other" and not tail.startswith("label") else name
    if name in ("text", "hint", "min_label", "max_label", "unit", "other"):
        language = tail.rsplit(".", 1)[-1] if tail else "de"
        return name + _LANGUAGE_SUFFIX.get(language, "_de")
    return name or "key"


def field_errors(
    problems: list[FieldError], page: int | None = None, index: int | None = None
) -> dict[str, str]:
    """Errors of the definition checks as {form field: message}: those of the question at
    (page, index) at its fields, the rest under `definition` (shown in the summary)."""
    errors: dict[str, str] = {}
    for problem in problems:
        match = _PATH.match(problem.field)
        if match and index is not None and (int(match[1]), int(match[2] or -1)) == (page, index):
            errors.setdefault(_form_field(match[3]), problem.message)
        else:
            where = problem.field.removeprefix("definition.")
            errors.setdefault("definition", f"{where}: {problem.message}")
    return errors


async def _save(
    session: AsyncSession,
    survey: Survey,
    document: dict[str, Any],
    settings: Mapping[str, int] | None = None,
) -> list[FieldError]:
    """Replace the definition (and change `settings` such as the disclosure thresholds) through
    UpdateSurvey's service; the errors it gives."""
    try:
        update = msgspec.convert({"definition": document, **(settings or {})}, s.SurveyUpdate)
    except msgspec.ValidationError as error:
        message = str(error)
        found = _MSGSPEC_PATH.search(message)
        path = found["path"] if found else "definition"
        path = re.sub(r"\.\$", "", path)
        return [FieldError(field=path, source="body", message=message.split(" - at ")[0])]
    try:
        async with session.begin_nested():
            await services.update_survey(session, survey.id, update)
    except Problem as problem:
        await session.refresh(survey)  # the savepoint's rollback expired it
        return problem.errors or [
            FieldError(field="definition", source="body", message=problem.detail)
        ]
    return []


async def _survey_and_document(
    session: AsyncSession, survey_id: UUID
) -> tuple[Survey, dict[str, Any]]:
    survey = await services.get_survey(session, survey_id)
    return survey, d.encode_definition(d.definition_of(survey))


def _located(document: Mapping[str, Any], key: str) -> tuple[int, int] | None:
    for p, page in enumerate(document["pages"]):
        for q, question in enumerate(page["questions"]):
            if question["key"] == key:
                return p, q
    return None


def _types(document: Mapping[str, Any]) -> dict[str, str]:
    return {q["key"]: q["type"] for page in document["pages"] for q in page["questions"]}


def _see_survey(survey_id: UUID, note: str | None = None) -> Redirect:
    return Redirect(
        f"/workspace/surveys/{survey_id}" + (f"?done={note}" if note else ""), status_code=303
    )


# -- the survey ----------------------------------------------------------------------------------

NOTES = ("saved", "published", "closed", "imported", "created")


def _note(done: str | None) -> str | None:
    return {
        "saved": _("Your change is saved."),
        "published": _("The survey is published: residents can answer it now."),
        "closed": _("The survey is closed: residents can no longer answer."),
        "imported": _("The XLSForm was imported as a new draft."),
        "created": _("The draft survey was created. Add pages and questions."),
    }.get(done or "")


def _condition_text(condition: Any) -> str:
    if not condition:
        return ""
    return xlsform.condition_to_relevant(msgspec.convert(condition, s.Condition))


async def _builder(
    session: AsyncSession,
    survey: Survey,
    document: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Template:
    process_title = await session.scalar(
        select(PlanningProcess.title).where(PlanningProcess.id == survey.process_id)
    )
    return Template(
        template_name="workspace/surveys/builder.html",
        context={
            "survey": survey,
            "title": i18n.pick(survey.title),
            "process_title": process_title or "",
            "document": document,
            "languages": _language_names(),
            "type_names": _type_names(),
            "condition_text": _condition_text,
            "errors": errors or {},
            "values": values or {},
            "note": _note(done),
            "editable": survey.status != SurveyStatus.CLOSED,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@get(BASE, name="builder:survey", include_in_schema=False, **PLANNER)
async def builder_page(
    db_session: AsyncSession, survey_id: UUID, done: str | None = None
) -> Template:
    """The survey with its pages and questions, texts in every language side by side, and the
    actions its status allows."""
    survey, document = await _survey_and_document(db_session, survey_id)
    return await _builder(db_session, survey, document, done=done if done in NOTES else None)


@post(BASE + "/pages", include_in_schema=False, status_code=200, **PLANNER)
async def add_page(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Response[Any]:
    """Add a page at the end: its key, its title, and the condition under which it is shown."""
    form = await request.form()
    survey, document = await _survey_and_document(db_session, survey_id)
    errors: dict[str, str] = {}
    page: dict[str, Any] = {"key": _field(form, "page_key", 64), "questions": []}
    title = _text_from(form, "page_title")
    if title:
        page["title"] = title
    condition = _field(form, "page_show_if", 2000)
    if condition:
        try:
            page["show_if"] = xlsform.parse_relevant(condition, _types(document))
        except ValueError as error:
            errors["page_show_if"] = _(
                "The condition cannot be read: %(reason)s", reason=str(error)
            )
    if not errors:
        # A page needs a question: the new page starts with a short text the planner changes.
        page["questions"].append(
            {"type": "short_text", "key": f"{page['key'] or 'page'}_note", "text": {"de": "…"}}
        )
        document["pages"].append(page)
        problems = await _save(db_session, survey, document)
        if not problems:
            return _see_survey(survey_id, "saved")
        errors = {
            ("page_key" if ".key" in p.field else "definition"): p.message
            if ".key" in p.field
            else f"{p.field.removeprefix('definition.')}: {p.message}"
            for p in problems
        }
        document["pages"].pop()
    values = {"page_key": page["key"], "page_show_if": condition} | _text_values(
        "page_title", title
    )
    return await _builder(db_session, survey, document, errors=errors, values=values, status=400)


_PAGE_PATH = re.compile(r"^definition\.pages\[(\d+)\]\.(title|show_if)(?:\.(.+))?$")


def _page_form(
    survey: Survey,
    page: Mapping[str, Any],
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    return _survey_form(
        "workspace/surveys/page.html", survey, values, errors, status, {"page": page}
    )


def _survey_form(
    template_name: str,
    survey: Survey,
    values: dict[str, str],
    errors: dict[str, str] | None,
    status: int,
    extra: Mapping[str, Any] | None = None,
) -> Template:
    """A form page of the builder about `survey`: its values and errors, never cached."""
    return Template(
        template_name=template_name,
        context={
            "survey": survey,
            "title": i18n.pick(survey.title),
            "values": values,
            "errors": errors or {},
            "languages": _language_names(),
            "published": survey.status == SurveyStatus.PUBLISHED,
            **(extra or {}),
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _page_errors(problems: list[FieldError], index: int) -> dict[str, str]:
    """Errors of the definition checks on the page at `index` at its fields (`title.en` →
    `page_title_en`, `show_if` → `page_show_if`), the rest under `definition`."""
    errors: dict[str, str] = {}
    for problem in problems:
        match = _PAGE_PATH.match(problem.field)
        if match and int(match[1]) == index and match[2] == "title":
            language = (match[3] or "de").split(".", 1)[0]
            errors.setdefault("page_title" + _LANGUAGE_SUFFIX.get(language, "_de"), problem.message)
        elif match and int(match[1]) == index:
            errors.setdefault("page_show_if", problem.message)
        else:
            where = problem.field.removeprefix("definition.")
            errors.setdefault("definition", f"{where}: {problem.message}")
    return errors


@get(BASE + "/pages/{key:str}", include_in_schema=False, **PLANNER)
async def page_form(db_session: AsyncSession, survey_id: UUID, key: str) -> Response[Any]:
    """A page's title (per language) and the condition under which it is shown."""
    survey, document = await _survey_and_document(db_session, survey_id)
    page = next((page for page in document["pages"] if page["key"] == key), None)
    if page is None or survey.status == SurveyStatus.CLOSED:
        return _see_survey(survey_id)
    values = {"page_show_if": _condition_text(page.get("show_if"))}
    values |= _text_values("page_title", page.get("title"))
    return _page_form(survey, page, values=values)


@post(BASE + "/pages/{key:str}", include_in_schema=False, status_code=200, **PLANNER)
async def page_submit(
    request: AnyRequest, db_session: AsyncSession, survey_id: UUID, key: str
) -> Response[Any]:
    """Save a page's title and condition through UpdateSurvey's service (the condition is read
    like the builder's others; on a published survey a changed condition is refused, with the
    reason)."""
    form = await request.form()
    survey, document = await _survey_and_document(db_session, survey_id)
    index = next((i for i, page in enumerate(document["pages"]) if page["key"] == key), None)
    if index is None:
        return _see_survey(survey_id)
    page = document["pages"][index]
    errors: dict[str, str] = {}
    title = with_hidden_languages(_text_from(form, "page_title"), page.get("title"))
    if title is not None and "de" not in title:
        errors["page_title_de"] = _("Enter the German text.")
    condition = _field(form, "page_show_if", 2000)
    show_if = None
    if condition:
        try:
            show_if = xlsform.parse_relevant(condition, _types(document))
        except ValueError as error:
            errors["page_show_if"] = _(
                "The condition cannot be read: %(reason)s", reason=str(error)
            )
    if not errors:
        for name, value in (("title", title), ("show_if", show_if)):
            if value is None:
                page.pop(name, None)
            else:
                page[name] = value
        problems = await _save(db_session, survey, document)
        if not problems:
            return Redirect(
                f"/workspace/surveys/{survey_id}?done=saved#page-{key}", status_code=303
            )
        errors = _page_errors(problems, index)
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    return _page_form(survey, page, values=values, errors=errors, status=400)


# -- the texts residents read before and after the questions -------------------------------------

SURVEY_TEXTS = ("title", "intro", "purpose", "organiser", "privacy_note", "thank_you")
REQUIRED_TEXTS = frozenset({"title", "purpose", "organiser", "privacy_note"})
_TOP_NAMES = "|".join((*SURVEY_TEXTS, "estimated_minutes"))
_TOP_PATH = re.compile(rf"^definition\.({_TOP_NAMES})(?:\.(.+))?$")


def _texts_page(
    survey: Survey,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    return _survey_form("workspace/surveys/texts.html", survey, values, errors, status)


def _top_level_errors(problems: list[FieldError]) -> dict[str, str]:
    """Errors of the definition checks on the survey's own texts at their fields
    (`definition.title.en` → `title_en`), the rest under `definition`."""
    errors: dict[str, str] = {}
    for problem in problems:
        match = _TOP_PATH.match(problem.field)
        if problem.field in DISCLOSURE_SETTINGS:
            errors.setdefault(problem.field, problem.message)
        elif match and match[1] == "estimated_minutes":
            errors.setdefault("estimated_minutes", problem.message)
        elif match:
            language = (match[2] or "de").split(".", 1)[0]
            errors.setdefault(match[1] + _LANGUAGE_SUFFIX.get(language, "_de"), problem.message)
        else:
            where = problem.field.removeprefix("definition.")
            errors.setdefault("definition", f"{where}: {problem.message}")
    return errors


# The disclosure thresholds (stats.cellkey) on the texts page, bounded as the API bounds them;
# a form without the fields leaves them as they are.
DISCLOSURE_SETTINGS = {
    "k_threshold": (3, 100),
    "min_respondents": (3, 10_000),
}


def _disclosure_settings(form: FormMultiDict, errors: dict[str, str]) -> dict[str, int]:
    settings: dict[str, int] = {}
    for name, (low, high) in DISCLOSURE_SETTINGS.items():
        if name not in form:
            continue
        value = _int(form, name, errors)
        if value is None or not low <= value <= high:
            message = _("Enter a whole number from %(low)s to %(high)s.")
            errors.setdefault(name, message % {"low": low, "high": high})
        else:
            settings[name] = value
    return settings


@get(BASE + "/texts", include_in_schema=False, **PLANNER)
async def texts_form(db_session: AsyncSession, survey_id: UUID) -> Response[Any]:
    """The survey's title, introduction, purpose, organiser, privacy note, thank-you text and
    minutes, in German, English and easy-read German side by side."""
    survey, document = await _survey_and_document(db_session, survey_id)
    if survey.status == SurveyStatus.CLOSED:
        return _see_survey(survey_id)
    values = {
        "estimated_minutes": str(document.get("estimated_minutes") or ""),
        "k_threshold": str(survey.k_threshold),
        "min_respondents": str(survey.min_respondents),
    }
    for name in SURVEY_TEXTS:
        values |= _text_values(name, document.get(name))
    return _texts_page(survey, values=values)


@post(BASE + "/texts", include_in_schema=False, status_code=200, **PLANNER)
async def texts_submit(
    request: AnyRequest, db_session: AsyncSession, survey_id: UUID
) -> Response[Any]:
    """Save the texts through UpdateSurvey's service (a published survey takes new texts;
    Turkish and Arabic texts written through the API stay)."""
    form = await request.form()
    survey, document = await _survey_and_document(db_session, survey_id)
    errors: dict[str, str] = {}
    for name in SURVEY_TEXTS:
        text = with_hidden_languages(_text_from(form, name), document.get(name))
        if name in REQUIRED_TEXTS and (text is None or "de" not in text):
            errors[f"{name}_de"] = _("Enter the German text.")
        elif text is None:
            document.pop(name, None)
        else:
            document[name] = text
    minutes = _int(form, "estimated_minutes", errors)
    if minutes is None or not 1 <= minutes <= 180:
        errors.setdefault("estimated_minutes", _("Enter the minutes it takes, from 1 to 180."))
    else:
        document["estimated_minutes"] = minutes
    settings = _disclosure_settings(form, errors)
    if not errors:
        problems = await _save(db_session, survey, document, settings)
        if not problems:
            return _see_survey(survey_id, "saved")
        errors = _top_level_errors(problems)
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    return _texts_page(survey, values=values, errors=errors, status=400)


# -- questions -----------------------------------------------------------------------------------


async def _question_page(
    session: AsyncSession,
    survey: Survey,
    document: dict[str, Any],
    *,
    kind: str,
    page_key: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    editing: str | None = None,
) -> Template:
    levels = (await areas.list_levels(session)).items
    return Template(
        template_name="workspace/surveys/question.html",
        context={
            "survey": survey,
            "title": i18n.pick(survey.title),
            "kind": kind,
            "type_name": _type_names().get(kind, kind),
            "page_key": page_key,
            "pages": [
                (p["key"], (p.get("title") or {}).get("de") or p["key"]) for p in document["pages"]
            ],
            "values": values,
            "errors": errors or {},
            "editing": editing,
            "languages": _language_names(),
            "level_options": [(level.key, level.name) for level in levels],
            "published": survey.status == SurveyStatus.PUBLISHED,
        },
        status_code=400 if errors else 200,
        headers={"Cache-Control": "no-store"},
    )


@get(BASE + "/questions/new", include_in_schema=False, **PLANNER)
async def new_question(
    db_session: AsyncSession, survey_id: UUID, page: str = "", type: str = "single_choice"
) -> Template:
    """The form for a new question of one type on one page."""
    survey, document = await _survey_and_document(db_session, survey_id)
    kind = type if type in s.QUESTION_TYPES else "single_choice"
    page_key = (
        page if any(p["key"] == page for p in document["pages"]) else document["pages"][-1]["key"]
    )
    return await _question_page(
        db_session, survey, document, kind=kind, page_key=page_key, values={"integer": "yes"}
    )


@post(BASE + "/questions/new", include_in_schema=False, status_code=200, **PLANNER)
async def create_question(
    request: AnyRequest, db_session: AsyncSession, survey_id: UUID
) -> Response[Any]:
    form = await request.form()
    survey, document = await _survey_and_document(db_session, survey_id)
    kind = _field(form, "type", 40)
    kind = kind if kind in s.QUESTION_TYPES else "single_choice"
    page_key = _field(form, "page", 64)
    p = next((i for i, page in enumerate(document["pages"]) if page["key"] == page_key), None)
    errors: dict[str, str] = {}
    question = _question_from(form, kind, _types(document), errors)
    if p is None:
        errors["page"] = _("Choose a page.")
    if not errors and p is not None:
        document["pages"][p]["questions"].append(question)
        index = len(document["pages"][p]["questions"]) - 1
        problems = await _save(db_session, survey, document)
        if not problems:
            return _see_survey(survey_id, "saved")
        errors = field_errors(problems, p, index)
        document["pages"][p]["questions"].pop()
    return await _question_page(
        db_session, survey, document, kind=kind, page_key=page_key,
        values={k: str(v) for k, v in form.items()}, errors=errors,
    )  # fmt: skip


@get(BASE + "/questions/{key:str}", include_in_schema=False, **PLANNER)
async def edit_question(db_session: AsyncSession, survey_id: UUID, key: str) -> Response[Any]:
    survey, document = await _survey_and_document(db_session, survey_id)
    place = _located(document, key)
    if place is None:
        return _see_survey(survey_id)
    question = document["pages"][place[0]]["questions"][place[1]]
    page_key = document["pages"][place[0]]["key"]
    values = _question_values(question, _types(document))
    return await _question_page(
        db_session, survey, document, kind=question["type"], page_key=page_key, values=values,
        editing=key,
    )  # fmt: skip


@post(BASE + "/questions/{key:str}", include_in_schema=False, status_code=200, **PLANNER)
async def update_question(
    request: AnyRequest, db_session: AsyncSession, survey_id: UUID, key: str
) -> Response[Any]:
    form = await request.form()
    survey, document = await _survey_and_document(db_session, survey_id)
    place = _located(document, key)
    if place is None:
        return _see_survey(survey_id)
    p, q = place
    kind = document["pages"][p]["questions"][q]["type"]
    errors: dict[str, str] = {}
    question = _question_from(form, kind, _types(document), errors)
    if not errors:
        previous = document["pages"][p]["questions"][q]
        document["pages"][p]["questions"][q] = keep_what_the_form_does_not_show(question, previous)
        problems = await _save(db_session, survey, document)
        if not problems:
            return _see_survey(survey_id, "saved")
        errors = field_errors(problems, p, q)
        document["pages"][p]["questions"][q] = previous
    return await _question_page(
        db_session, survey, document, kind=kind, page_key=document["pages"][p]["key"],
        values={k: str(v) for k, v in form.items()}, errors=errors, editing=key,
    )  # fmt: skip


@post(BASE + "/questions/{key:str}/delete", include_in_schema=False, status_code=200, **PLANNER)
async def delete_question(db_session: AsyncSession, survey_id: UUID, key: str) -> Response[Any]:
    """Remove a question (and its page when it was the page's last)."""
    survey, document = await _survey_and_document(db_session, survey_id)
    place = _located(document, key)
    if place is None:
        return _see_survey(survey_id)
    p, q = place
    del document["pages"][p]["questions"][q]
    if not document["pages"][p]["questions"]:
        del document["pages"][p]
    problems = await _save(db_session, survey, document)
    if not problems:
        return _see_survey(survey_id, "saved")
    survey, document = await _survey_and_document(db_session, survey_id)
    return await _builder(db_session, survey, document, errors=field_errors(problems), status=409)


def moved(document: dict[str, Any], key: str, direction: str) -> bool:
    """Move question `key` one place up or down: within its page, or across the page boundary
    to the end of the page before / the start of the page after (a page left empty goes).
    False when it is already first or last, or not found."""
    place = _located(document, key)
    if place is None or direction not in ("up", "down"):
        return False
    p, q = place
    pages = document["pages"]
    questions = pages[p]["questions"]
    step = -1 if direction == "up" else 1
    if 0 <= q + step < len(questions):
        questions[q], questions[q + step] = questions[q + step], questions[q]
        return True
    if not 0 <= p + step < len(pages):
        return False
    question = questions.pop(q)
    target = pages[p + step]["questions"]
    if direction == "up":
        target.append(question)
    else:
        target.insert(0, question)
    if not questions:
        del pages[p]
    return True


def page_moved(document: dict[str, Any], key: str, direction: str) -> bool:
    """Move page `key` one place up or down with its questions. False when it is already first
    or last, or not found."""
    pages = document["pages"]
    index = next((i for i, page in enumerate(pages) if page["key"] == key), None)
    if index is None or direction not in ("up", "down"):
        return False
    other = index + (-1 if direction == "up" else 1)
    if not 0 <= other < len(pages):
        return False
    pages[index], pages[other] = pages[other], pages[index]
    return True


@post(BASE + "/pages/{key:str}/move", include_in_schema=False, status_code=200, **PLANNER)
async def move_page(
    request: Request[Any, Any, Any], db_session: AsyncSession, survey_id: UUID, key: str
) -> Response[Any]:
    """Reorder pages without JavaScript, one place per click; the definition checks decide (a
    condition must still refer to an earlier question)."""
    form = await request.form()
    survey, document = await _survey_and_document(db_session, survey_id)
    if not page_moved(document, key, str(form.get("direction", ""))):
        return _see_survey(survey_id)
    problems = await _save(db_session, survey, document)
    if not problems:
        return Redirect(f"/workspace/surveys/{survey_id}?done=saved#page-{key}", status_code=303)
    survey, document = await _survey_and_document(db_session, survey_id)
    return await _builder(db_session, survey, document, errors=field_errors(problems), status=409)


@post(BASE + "/pages/{key:str}/delete", include_in_schema=False, status_code=200, **PLANNER)
async def delete_page(db_session: AsyncSession, survey_id: UUID, key: str) -> Response[Any]:
    """Remove a page with its questions; the definition checks decide (a survey keeps one page,
    later conditions must not refer to its questions, a published survey keeps its questions)."""
    survey, document = await _survey_and_document(db_session, survey_id)
    pages = document["pages"]
    kept = [page for page in pages if page["key"] != key]
    if len(kept) == len(pages):
        return _see_survey(survey_id)
    document["pages"] = kept
    problems = await _save(db_session, survey, document)
    if not problems:
        return _see_survey(survey_id, "saved")
    survey, document = await _survey_and_document(db_session, survey_id)
    return await _builder(db_session, survey, document, errors=field_errors(problems), status=409)


@post(BASE + "/questions/{key:str}/move", include_in_schema=False, status_code=200, **PLANNER)
async def move_question(
    request: Request[Any, Any, Any], db_session: AsyncSession, survey_id: UUID, key: str
) -> Response[Any]:
    """Reorder without JavaScript: one place up or down per click. The definition checks decide
    as for every change (a condition must still refer to an earlier question)."""
    form = await request.form()
    survey, document = await _survey_and_document(db_session, survey_id)
    if not moved(document, key, str(form.get("direction", ""))):
        return _see_survey(survey_id)
    problems = await _save(db_session, survey, document)
    if not problems:
        return Redirect(
            f"/workspace/surveys/{survey_id}?done=saved#question-{key}", status_code=303
        )
    survey, document = await _survey_and_document(db_session, survey_id)
    return await _builder(db_session, survey, document, errors=field_errors(problems), status=409)


# -- preview, lifecycle, letters -----------------------------------------------------------------


@get(BASE + "/preview", include_in_schema=False, **PLANNER)
async def preview(db_session: AsyncSession, survey_id: UUID, lang: str | None = None) -> Template:
    """Every page as residents see it (the resident templates and question views), with the
    condition under which a page or question is shown."""
    survey = await services.get_survey(db_session, survey_id)
    language = lang if lang in i18n.LANGUAGES else i18n.current_language()
    compiled = d.compiled(survey)
    localized = compiled.in_language(language)
    choices = await _area_choices(db_session, survey)
    state = FlowState()
    pages = []
    for page, source in zip(localized.pages, compiled.definition.pages, strict=True):
        views = []
        for question, original in zip(page.questions, source.questions, strict=True):
            view = _question_view(question, state, {}, choices)
            view["condition"] = _condition_text(msgspec.to_builtins(original.show_if))
            views.append(view)
        pages.append(
            {
                "title": page.title,
                "condition": _condition_text(msgspec.to_builtins(source.show_if)),
                "questions": views,
            }
        )
    return Template(
        template_name="workspace/surveys/preview.html",
        context={
            "survey": survey,
            "definition": localized,
            "pages": pages,
            "language": language,
            "languages": _language_names(),
        },
        headers={"Cache-Control": "no-store"},
    )


@post(BASE + "/publish", include_in_schema=False, status_code=200, **PLANNER)
async def publish(db_session: AsyncSession, survey_id: UUID) -> Response[Any]:
    """Publish (PublishSurvey's service: the active phase must open surveys)."""
    try:
        async with db_session.begin_nested():
            await services.publish_survey(db_session, survey_id)
    except Problem as problem:
        survey, document = await _survey_and_document(db_session, survey_id)
        return await _builder(
            db_session, survey, document, errors={"publish": problem.detail}, status=409
        )
    return _see_survey(survey_id, "published")


@post(BASE + "/close", include_in_schema=False, status_code=200, **PLANNER)
async def close(db_session: AsyncSession, survey_id: UUID) -> Response[Any]:
    try:
        async with db_session.begin_nested():
            await services.close_survey(db_session, survey_id)
    except Problem as problem:
        survey, document = await _survey_and_document(db_session, survey_id)
        return await _builder(
            db_session, survey, document, errors={"close": problem.detail}, status=409
        )
    return _see_survey(survey_id, "closed")


@post(BASE + "/open-data", include_in_schema=False, status_code=200, **PLANNER)
async def open_data(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Redirect:
    """SetSurveyResultsPublication's service: `public` = `yes` publishes, anything else
    withdraws."""
    form = await request.form()
    await services.set_results_public(db_session, survey_id, form.get("public") == "yes")
    return _see_survey(survey_id, "saved")


@post(BASE + "/letters", include_in_schema=False, status_code=200, **PLANNER)
async def print_letters(
    request: AnyRequest, db_session: AsyncSession, survey_id: UUID
) -> Response[Any]:
    """Invitation letters as a PDF download (PrintInvitationLetters' service)."""
    form = await request.form()
    errors: dict[str, str] = {}
    count = _int(form, "count", errors)
    if count is None or not 1 <= count <= letters.MAX_LETTERS:
        errors["count"] = _("Enter a number of letters from 1 to %(max)s.", max=letters.MAX_LETTERS)
    if not errors and count is not None:
        settings: Settings = request.app.state["settings"]
        try:
            async with db_session.begin_nested():
                pdf = await letters.print_invitation_letters(db_session, settings, survey_id, count)
        except Problem as problem:
            errors["count"] = problem.detail
        else:
            return Response(
                pdf,
                media_type=letters.PDF_MEDIA_TYPE,
                headers={
                    "Content-Disposition": f'attachment; filename="letters-{survey_id}.pdf"',
                    "Cache-Control": "no-store",
                },
            )
    survey, document = await _survey_and_document(db_session, survey_id)
    values = {"count": _field(form, "count", 10)}
    return await _builder(db_session, survey, document, errors=errors, values=values, status=400)


# -- new surveys ---------------------------------------------------------------------------------

PROCESS_BASE = "/workspace/processes/{process_id:uuid}/surveys"


async def _new_page(
    session: AsyncSession, process_id: UUID, *, values: dict[str, str], errors: dict[str, str]
) -> Template:
    process_title = await session.scalar(
        select(PlanningProcess.title).where(PlanningProcess.id == process_id)
    )
    levels = (await areas.list_levels(session)).items
    return Template(
        template_name="workspace/surveys/new.html",
        context={
            "process_id": process_id,
            "process_title": process_title or "",
            "values": values,
            "errors": errors,
            "languages": _language_names(),
            "level_options": [(level.key, level.name) for level in levels],
        },
        status_code=400 if errors else 200,
        headers={"Cache-Control": "no-store"},
    )


@get(PROCESS_BASE + "/new", include_in_schema=False, **PLANNER)
async def new_survey(db_session: AsyncSession, process_id: UUID) -> Template:
    """A new draft: the texts residents read before they start, and the level of the social
    areas they choose from."""
    return await _new_page(db_session, process_id, values={"estimated_minutes": "10"}, errors={})


@post(PROCESS_BASE + "/new", include_in_schema=False, status_code=200, **PLANNER)
async def create_survey(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Response[Any]:
    form = await request.form()
    errors: dict[str, str] = {}
    definition: dict[str, Any] = {
        name: _text_from(form, name) for name in ("title", "purpose", "organiser", "privacy_note")
    }
    intro = _text_from(form, "intro")
    if intro:
        definition["intro"] = intro
    definition["estimated_minutes"] = _int(form, "estimated_minutes", errors) or 0
    definition["pages"] = [
        {
            "key": "where",
            "title": {"de": "Wo Sie wohnen", "en": "Where you live"},
            "questions": [
                {
                    "type": "social_area",
                    "key": "area",
                    "text": {
                        "de": "In welchem Gebiet wohnen Sie?",
                        "en": "Which area do you live in?",
                    },
                    "required": True,
                    "level": _field(form, "level", 40),
                }
            ],
        }
    ]
    for name in ("title", "purpose", "organiser", "privacy_note"):
        if definition[name] is None or "de" not in definition[name]:
            errors[f"{name}_de"] = _("Enter the German text.")
    if not 1 <= definition["estimated_minutes"] <= 180:
        errors["estimated_minutes"] = _("Enter the minutes it takes, from 1 to 180.")
    access_mode = "invitation" if form.get("access_mode") == "invitation" else "open"
    if not errors:
        try:
            data = msgspec.convert(
                {"definition": definition, "access_mode": access_mode}, s.SurveyCreate
            )
            async with db_session.begin_nested():
                survey = await services.create_survey(db_session, process_id, data)
        except msgspec.ValidationError as error:
            errors["definition"] = str(error)
        except Problem as problem:
            found = field_errors(problem.errors or [], 0, 0)
            errors = {("level" if k == "level" else k): v for k, v in found.items()} or {
                "definition": problem.detail
            }
        else:
            return Redirect(f"/workspace/surveys/{survey.id}?done=created", status_code=303)
    values = {k: str(v) for k, v in form.items()}
    return await _new_page(db_session, process_id, values=values, errors=errors)


@get(PROCESS_BASE + "/import", include_in_schema=False, **PLANNER)
async def import_form(db_session: AsyncSession, process_id: UUID) -> Template:
    """Upload an XLSForm (ODK / Kobo) to make a new draft."""
    return await _import_page(db_session, process_id, errors={})


async def _import_page(session: AsyncSession, process_id: UUID, errors: dict[str, str]) -> Template:
    process_title = await session.scalar(
        select(PlanningProcess.title).where(PlanningProcess.id == process_id)
    )
    return Template(
        template_name="workspace/surveys/import.html",
        context={"process_id": process_id, "process_title": process_title or "", "errors": errors},
        status_code=400 if errors else 200,
        headers={"Cache-Control": "no-store"},
    )


@post(PROCESS_BASE + "/import", include_in_schema=False, status_code=200, **PLANNER)
async def import_upload(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Response[Any]:
    form = await request.form()
    upload = form.get("xlsform")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data:
        return await _import_page(
            db_session, process_id, {"xlsform": _("Choose an XLSForm file (.xlsx).")}
        )
    if len(data) > xlsform.MAX_XLSFORM_BYTES:
        return await _import_page(
            db_session, process_id, {"xlsform": _("The file is larger than 5 MB.")}
        )
    try:
        async with db_session.begin_nested():
            survey = await xlsform.import_xlsform(db_session, process_id, data)
    except Problem as problem:
        found = problem.errors or [
            FieldError(field="xlsform", source="body", message=problem.detail)
        ]
        errors = {"xlsform": found[0].message}
        for number, error in enumerate(found[1:], start=2):
            errors[f"xlsform-{number}"] = error.message
        return await _import_page(db_session, process_id, errors)
    return Redirect(f"/workspace/surveys/{survey.id}?done=imported", status_code=303)


PAGES: list[ControllerRouterHandler] = [
    builder_page,
    add_page,
    page_form,
    page_submit,
    texts_form,
    texts_submit,
    new_question,
    create_question,
    edit_question,
    update_question,
    delete_question,
    move_question,
    move_page,
    delete_page,
    open_data,
    preview,
    publish,
    close,
    print_letters,
    new_survey,
    create_survey,
    import_form,
    import_upload,
]
