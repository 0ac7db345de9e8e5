"""HTML pages of delivery and evaluation (planners, /dashboard/…). They call `measures.delivery`,
the same service as the API.

* `/dashboard/measures/{id}/delivery`: the reports so far and the form to enter a period's
  report (one field per target group, planned resource line and criterion of success), with
  an error summary. Planners enter reports for providers: Quartier has no accounts for
  organisations' staff yet (providers' systems can use API tokens with `delivery:write`).
* `/dashboard/measures/{id}/evaluation`: target vs actual per criterion with the trend,
  efficiency, the evaluation surveys' protected results, and the assessment form with the
  history of assessments.
The public measure page shows the evaluation summary once an assessment is recorded
(`measures/_evaluation.html`, filled by `measures.pages`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core.errors import Conflict, InvalidInput, Problem
from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS, access, principal_of
from quartier.measures import common, delivery, services
from quartier.measures import delivery_schemas as ds
from quartier.measures import schemas as s
from quartier.measures.delivery_models import Decision
from quartier.processes.phases import N_
from quartier.processes.services import Actor
from quartier.surveys.models import Survey

AnyRequest = Request[Any, Any, Any]
PLANNER_PAGE = access(roles=PLANNERS)
NO_STORE = {"Cache-Control": "no-store"}
OUTPUT_ROWS = 3

DECISION_NAMES: dict[str, str] = {
    Decision.CONTINUE: N_("Continue the measure"),
    Decision.ADAPT: N_("Adapt the measure"),
    Decision.END: N_("End the measure"),
}
DECISION_HINTS: dict[str, str] = {
    Decision.CONTINUE: N_("The measure works as planned."),
    Decision.ADAPT: N_("The measure continues with changes."),
    Decision.END: N_("The measure ends."),
}
TREND_NAMES: dict[str, str] = {
    "rising": N_("rising"),
    "falling": N_("falling"),
    "steady": N_("steady"),
}
ATTAINMENT_NAMES: dict[str, str] = {
    "met": N_("Target met"),
    "not_met": N_("Target not met yet"),
    "unknown": N_("Not comparable"),
}


UNIT_NAMES = {"fte": N_("FTE"), "eur": N_("EUR"), "rooms": N_("rooms"), "material": N_("material")}
PERIOD_NAMES = {
    "once": N_("once"),
    "per_year": N_("per year"),
    "per_month": N_("per month"),
    "per_week": N_("per week"),
}


def names() -> dict[str, Any]:
    """What the delivery and evaluation templates translate (also for the public page)."""
    return {
        "unit_names": UNIT_NAMES,
        "period_names": PERIOD_NAMES,
        "decision_names": DECISION_NAMES,
        "trend_names": TREND_NAMES,
        "attainment_names": ATTAINMENT_NAMES,
    }


def _field_id(field: str) -> str:
    return re.sub(r"[\[\].]+", "-", field).strip("-")


# -- the report form -----------------------------------------------------------------------------


class _Read:
    """The form read into the API's body, with one message per field that is not a number or
    a date; `places` maps each list position of the body back to the form field."""

    def __init__(self, form: Any, content: s.MeasureVersion) -> None:
        self.form = form
        self.errors: dict[str, str] = {}
        self.values: dict[str, str] = {
            key: str(value).strip()[:4000] for key, value in form.items() if key != "csrf_token"
        }
        self.places: dict[str, list[int]] = {"outputs": [], "spend": [], "criteria": []}
        self.body = self._body(content)

    def _text(self, name: str) -> str:
        return self.values.get(name, "")

    def _number(self, name: str, *, whole: bool = False) -> float | None:
        raw = self._text(name).replace(" ", "")
        if not raw:
            return None
        try:
            value = float(raw.replace(".", "").replace(",", ".") if "," in raw else raw)
        except ValueError:
            self.errors[name] = _("Enter a number")
            return None
        if value < 0:
            self.errors[name] = _("Enter a number of 0 or more")
        elif whole and not value.is_integer():
            self.errors[name] = _("Enter a whole number")
        return value

    def _date(self, name: str) -> str | None:
        raw = self._text(name)
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            self.errors[name] = _("Enter a date")
            return None

    def _body(self, content: s.MeasureVersion) -> dict[str, Any]:
        outputs = []
        for index in range(OUTPUT_ROWS):
            kind = self._text(f"outputs-{index}-kind")[:200]
            count = self._number(f"outputs-{index}-count", whole=True)
            if kind or count is not None:
                if not kind:
                    self.errors[f"outputs-{index}-kind"] = _("Name the kind of output")
                outputs.append({"kind": kind, "count": int(count or 0)})
                self.places["outputs"].append(index)
        reach = []
        for index, group in enumerate(content.target_groups):
            count = self._number(f"reach-{index}-count", whole=True)
            if count is not None:
                reach.append({"target_group": group, "count": int(count)})
        spend = []
        for index in range(len(content.resources)):
            amount = self._number(f"spend-{index}-amount")
            if amount is not None:
                spend.append({"resource": index, "amount": amount})
                self.places["spend"].append(index)
        criteria = []
        for index in range(len(content.criteria)):
            value = self._text(f"criteria-{index}-value")
            if value:
                try:
                    number = float(value.replace(",", "."))
                except ValueError:
                    self.errors[f"criteria-{index}-value"] = _("Enter a number")
                    continue
                criteria.append({"criterion": index, "value": number})
                self.places["criteria"].append(index)
        participants = self._number("participants", whole=True)
        return {
            "period_start": self._date("period_start"),
            "period_end": self._date("period_end"),
            "outputs": outputs,
            "participants": int(participants or 0),
            "reach": reach,
            "spend": spend,
            "criteria": criteria,
            "note": self._text("note"),
        }

    def field_of(self, field: str) -> str:
        """The form field of an error the service names (`spend[0].resource` → the amount of
        the resource line the form sent first)."""
        match = re.match(r"^(outputs|spend|criteria)\[(\d+)\]", field)
        if match and int(match.group(2)) < len(self.places[match.group(1)]):
            place = self.places[match.group(1)][int(match.group(2))]
            last = {"outputs": "kind", "spend": "amount", "criteria": "value"}[match.group(1)]
            return f"{match.group(1)}-{place}-{last}"
        if field.startswith("reach"):
            return "reach"
        return _field_id(field)


async def _delivery_page(
    db_session: AsyncSession,
    measure_id: UUID,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
) -> Template:
    measure = await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)
    process = await common.process(db_session, measure.process_id, common.STAFF_VIEWER)
    reports = await delivery.list_reports(db_session, measure_id)
    return Template(
        template_name="measures/delivery.html",
        context={
            **names(),
            "process": process,
            "measure": measure,
            "content": measure.content,
            "reports": reports,
            "reporting": measure.status in delivery.REPORTING,
            "values": values or {},
            "errors": errors or {},
            "saved": saved,
            "output_rows": OUTPUT_ROWS,
        },
        status_code=422 if errors else 200,
        headers=NO_STORE,
    )


@get(
    "/dashboard/measures/{measure_id:uuid}/delivery",
    name="measures:delivery",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def delivery_page(db_session: AsyncSession, measure_id: UUID, saved: int = 0) -> Template:
    """The reports of a measure and the form to enter a period's report."""
    return await _delivery_page(db_session, measure_id, saved=bool(saved))


@post(
    "/dashboard/measures/{measure_id:uuid}/delivery",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def enter_report(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Template | Redirect:
    measure = await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)
    read = _Read(await request.form(), measure.content)
    if read.errors:
        return await _delivery_page(db_session, measure_id, values=read.values, errors=read.errors)
    try:
        data = msgspec.convert(read.body, ds.DeliveryReportInput)
        async with db_session.begin_nested():
            await delivery.create_report(
                db_session, measure_id, data, Actor.of(principal_of(request))
            )
    except msgspec.ValidationError as error:
        match = re.search(r"at `\$\.([^`]+)`", str(error))
        field = read.field_of(match.group(1)) if match else "form"
        errors = {field: str(error).split(" - at ")[0]}
        return await _delivery_page(db_session, measure_id, values=read.values, errors=errors)
    except (InvalidInput, Conflict) as problem:
        errors = {read.field_of(e.field): _message(e.message) for e in problem.errors or []}
        return await _delivery_page(
            db_session, measure_id, values=read.values, errors=errors or {"form": problem.detail}
        )
    return Redirect(f"/dashboard/measures/{measure_id}/delivery?saved=1", status_code=303)


# The service's English messages, as the form shows them (translated).
_MESSAGES: dict[str, str] = {
    "must not lie before period_start": N_("The end must not lie before the start"),
    "lies in the future; report periods that are over": N_(
        "The period must be over: the end lies in the future"
    ),
    "the same kind twice": N_("The same kind of output twice"),
    "counts more people than participants": N_(
        "The target groups count more people than the participants"
    ),
}


def _message(message: str) -> str:
    if message.startswith("the period overlaps the report for "):
        return _(
            "The period overlaps the report for %(period)s",
            period=message.removeprefix("the period overlaps the report for "),
        )
    return _(_MESSAGES[message]) if message in _MESSAGES else message


# -- evaluation ----------------------------------------------------------------------------------


async def _evaluation_page(
    db_session: AsyncSession,
    measure_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    measure = await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)
    process = await common.process(db_session, measure.process_id, common.STAFF_VIEWER)
    result = await delivery.evaluation(db_session, measure_id, common.STAFF_VIEWER)
    linked = {x.survey_id for x in result.surveys}
    surveys = (
        await db_session.execute(
            sa.select(Survey.id, Survey.title)
            .where(Survey.process_id == measure.process_id)
            .order_by(Survey.created_at)
        )
    ).all()
    return Template(
        template_name="measures/evaluation.html",
        context={
            **names(),
            "process": process,
            "measure": measure,
            "content": measure.content,
            "evaluation": result,
            "assessable": measure.status in delivery.ASSESSABLE,
            "survey_options": [
                (str(row.id), i18n.pick(row.title)) for row in surveys if row.id not in linked
            ],
            "decision_options": [
                {"value": d.value, "text": _(DECISION_NAMES[d]), "hint": _(DECISION_HINTS[d])}
                for d in Decision
            ],
            "values": values or {},
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
        headers=NO_STORE,
    )


@get(
    "/dashboard/measures/{measure_id:uuid}/evaluation",
    name="measures:evaluation",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def evaluation_page(db_session: AsyncSession, measure_id: UUID) -> Template:
    """Target vs actual, efficiency, evaluation surveys and the assessments."""
    return await _evaluation_page(db_session, measure_id)


@post(
    "/dashboard/measures/{measure_id:uuid}/assessment",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def assess(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Template | Redirect:
    form = await request.form()
    values = {
        "decision": str(form.get("decision") or ""),
        "reasons": str(form.get("reasons") or "").strip()[:4000],
    }
    errors: dict[str, str] = {}
    if values["decision"] not in {d.value for d in Decision}:
        errors["decision"] = _("Choose continue, adapt or end")
    if not values["reasons"]:
        errors["reasons"] = _("Give the reasons (they are recorded)")
    if errors:
        return await _evaluation_page(db_session, measure_id, errors=errors, values=values)
    data = ds.AssessmentInput(decision=Decision(values["decision"]), reasons=values["reasons"])
    try:
        async with db_session.begin_nested():
            await delivery.record_assessment(
                db_session, measure_id, data, Actor.of(principal_of(request))
            )
    except Conflict as problem:
        return await _evaluation_page(
            db_session, measure_id, errors={"form": problem.detail}, values=values
        )
    return Redirect(f"/dashboard/measures/{measure_id}/evaluation#assessments", status_code=303)


@post(
    "/dashboard/measures/{measure_id:uuid}/evaluation-surveys",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def link_survey(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Template | Redirect:
    form = await request.form()
    try:
        survey_id = UUID(str(form.get("survey_id") or ""))
        async with db_session.begin_nested():
            if form.get("action") == "unlink":
                await delivery.unlink_survey(db_session, measure_id, survey_id)
            else:
                await delivery.link_survey(db_session, measure_id, survey_id)
    except ValueError:
        return await _evaluation_page(
            db_session, measure_id, errors={"survey_id": _("Choose a survey")}
        )
    except Problem as problem:
        return await _evaluation_page(db_session, measure_id, errors={"survey_id": problem.detail})
    return Redirect(f"/dashboard/measures/{measure_id}/evaluation#surveys", status_code=303)


PAGES: list[ControllerRouterHandler] = [
    delivery_page,
    enter_report,
    evaluation_page,
    assess,
    link_survey,
]
