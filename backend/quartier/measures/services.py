"""Draft measures (Maßnahmen): content in versions, the lifecycle, and the difference between
two versions.

Versions: every save writes a new `measure_versions` row; the measure points at its current
one. Content can change only while the measure is a draft or revised after a consultation; a
consultation runs on one version and its feedback stays attached to that version.

Lifecycle — each step an explicit function here, recorded in `measure_transitions` (who, when,
why, in which phase), allowed only from the listed states and in the listed phase of the
process:

    draft ─start_consultation→ in_consultation ─revise→ revised ─adopt→ adopted
    revised ─start_consultation→ in_consultation          (a further round)
    adopted ─resource→ resourced ─start_delivery→ in_delivery ─evaluate→ evaluated
    any state but evaluated and withdrawn ─withdraw→ withdrawn   (any phase)

start_consultation, revise and adopt belong to `measure_planning`, resource to
`resource_provision`, start_delivery to `service_delivery`, evaluate to `evaluation`.
"""

from __future__ import annotations

import difflib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import translations as shared_translations
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound
from quartier.core.pagination import Page, keyset_page
from quartier.ideas.models import Idea, IdeaState, OfficialStatus
from quartier.measures import common
from quartier.measures import schemas as s
from quartier.measures.models import (
    Consultation,
    Goal,
    Measure,
    MeasureStatus,
    MeasureTransition,
    MeasureVersion,
)
from quartier.processes.phases import PhaseKey
from quartier.processes.services import Actor, resolve_area_codes
from quartier.webhooks import emit

EDITABLE = frozenset({MeasureStatus.DRAFT, MeasureStatus.REVISED})
FINAL = frozenset({MeasureStatus.EVALUATED, MeasureStatus.WITHDRAWN})


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    sources: frozenset[MeasureStatus]
    target: MeasureStatus
    phases: frozenset[PhaseKey] | None  # None: any phase


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "start_consultation",
            frozenset({MeasureStatus.DRAFT, MeasureStatus.REVISED}),
            MeasureStatus.IN_CONSULTATION,
            frozenset({PhaseKey.MEASURE_PLANNING}),
        ),
        Step(
            "revise",
            frozenset({MeasureStatus.IN_CONSULTATION}),
            MeasureStatus.REVISED,
            frozenset({PhaseKey.MEASURE_PLANNING}),
        ),
        Step(
            "adopt",
            frozenset({MeasureStatus.REVISED}),
            MeasureStatus.ADOPTED,
            frozenset({PhaseKey.MEASURE_PLANNING}),
        ),
        Step(
            "resource",
            frozenset({MeasureStatus.ADOPTED}),
            MeasureStatus.RESOURCED,
            frozenset({PhaseKey.RESOURCE_PROVISION}),
        ),
        Step(
            "start_delivery",
            frozenset({MeasureStatus.RESOURCED}),
            MeasureStatus.IN_DELIVERY,
            frozenset({PhaseKey.SERVICE_DELIVERY}),
        ),
        Step(
            "evaluate",
            frozenset({MeasureStatus.IN_DELIVERY}),
            MeasureStatus.EVALUATED,
            frozenset({PhaseKey.EVALUATION}),
        ),
        Step("withdraw", frozenset(MeasureStatus) - FINAL, MeasureStatus.WITHDRAWN, None),
    )
}


def allowed_steps(status: MeasureStatus, phase: str) -> list[str]:
    """The lifecycle steps possible now (for pages)."""
    return [
        step.name
        for step in STEPS.values()
        if status in step.sources and (step.phases is None or PhaseKey(phase) in step.phases)
    ]


# -- loading ------------------------------------------------------------------------------------


async def load_measure(session: AsyncSession, measure_id: UUID, *, lock: bool = False) -> Measure:
    statement = sa.select(Measure).where(Measure.id == measure_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    measure = await session.scalar(statement)
    if measure is None:
        raise NotFound(f"No measure {measure_id}.")
    return measure


async def visible_measure(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer
) -> Measure:
    measure = await load_measure(session, measure_id)
    await common.process(session, measure.process_id, viewer)
    if measure.status == MeasureStatus.DRAFT and not viewer.privileged:
        raise NotFound(f"No measure {measure_id}.")
    return measure


async def load_version(session: AsyncSession, measure_id: UUID, version: int) -> MeasureVersion:
    row = await session.scalar(
        sa.select(MeasureVersion).where(
            MeasureVersion.measure_id == measure_id, MeasureVersion.version == version
        )
    )
    if row is None:
        raise NotFound(f"Measure {measure_id} has no version {version}.")
    return row


async def version_view(session: AsyncSession, row: MeasureVersion) -> s.MeasureVersion:
    areas = await common.areas_by_id(session, row.area_ids)
    providers = await common.organisations_by_id(
        session, [row.provider_id] if row.provider_id else []
    )
    ideas = await idea_refs(session, row.idea_ids)
    return s.MeasureVersion(
        version=row.version,
        title=row.title,
        summary=row.summary,
        goal_ids=list(row.goal_ids),
        areas=[areas[a] for a in row.area_ids if a in areas],
        target_groups=list(row.target_groups),
        resources=msgspec.convert(row.resources, list[s.ResourceLine]),
        provider=providers.get(row.provider_id) if row.provider_id else None,
        criteria=msgspec.convert(row.criteria, list[s.Criterion]),
        sections=msgspec.convert(row.sections, list[s.Section]),
        author_name=row.author_name,
        created_at=row.created_at,
        translations=shared_translations.as_struct(row.translations, s.MeasureTranslations),
        ideas=[ideas[i] for i in row.idea_ids if i in ideas],
    )


# Ideas planners accepted may lead to a measure (an implemented idea was accepted before).
LINKABLE_IDEAS = (OfficialStatus.ACCEPTED.value, OfficialStatus.IMPLEMENTED.value)


async def idea_refs(session: AsyncSession, ids: list[UUID]) -> dict[UUID, s.IdeaRef]:
    """The ideas a version takes up, as they read now (a hidden idea shows no title)."""
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(Idea.id, Idea.title, Idea.state, Idea.official_status).where(Idea.id.in_(ids))
    )
    return {
        row.id: s.IdeaRef(
            id=row.id,
            title="" if row.state == IdeaState.HIDDEN.value else row.title,
            official_status=row.official_status,
        )
        for row in rows
    }


def consultation_view(consultation: Consultation) -> s.Consultation:
    now = common.utcnow()
    return s.Consultation(
        id=consultation.id,
        measure_id=consultation.measure_id,
        version=consultation.version,
        opens_at=consultation.opens_at,
        closes_at=consultation.closes_at,
        is_open=consultation.opens_at <= now < consultation.closes_at,
        criteria=msgspec.convert(consultation.criteria, list[s.CriterionDefinition]),
        summary_public=consultation.summary_public,
        k_threshold=consultation.k_threshold,
        min_respondents=consultation.min_respondents,
    )


async def latest_consultation(session: AsyncSession, measure_id: UUID) -> Consultation | None:
    return await session.scalar(
        sa.select(Consultation)
        .where(Consultation.measure_id == measure_id)
        .order_by(Consultation.version.desc())
        .limit(1)
    )


async def get_measure(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer, version: int | None = None
) -> s.Measure:
    measure = await visible_measure(session, measure_id, viewer)
    row = await load_version(session, measure_id, version or measure.current_version)
    consultation = await latest_consultation(session, measure_id)
    return s.Measure(
        id=measure.id,
        process_id=measure.process_id,
        status=MeasureStatus(measure.status),
        current_version=measure.current_version,
        created_at=measure.created_at,
        updated_at=measure.updated_at,
        content=await version_view(session, row),
        consultation=consultation_view(consultation) if consultation else None,
    )


async def list_measures(
    session: AsyncSession,
    process_id: UUID,
    viewer: common.Viewer,
    *,
    status: MeasureStatus | None = None,
    limit: int,
    cursor: str | None,
) -> Page[s.MeasureSummary]:
    await common.process(session, process_id, viewer)
    statement = sa.select(Measure).where(Measure.process_id == process_id)
    if status is not None:
        statement = statement.where(Measure.status == status.value)
    if not viewer.privileged:
        statement = statement.where(Measure.status != MeasureStatus.DRAFT.value)
    measures, next_cursor = await keyset_page(
        session, statement, [Measure.id], limit=limit, cursor=cursor
    )
    versions: dict[UUID, MeasureVersion] = {}
    if measures:
        versions = {
            v.measure_id: v
            for v in await session.scalars(
                sa.select(MeasureVersion).where(
                    sa.tuple_(MeasureVersion.measure_id, MeasureVersion.version).in_(
                        [(m.id, m.current_version) for m in measures]
                    )
                )
            )
        }
    items = [
        s.MeasureSummary(
            id=m.id,
            process_id=m.process_id,
            status=MeasureStatus(m.status),
            current_version=m.current_version,
            title=versions[m.id].title,
            summary=versions[m.id].summary,
            updated_at=m.updated_at,
            translations=shared_translations.as_struct(
                versions[m.id].translations, s.MeasureTranslations
            ),
        )
        for m in measures
    ]
    return Page(items=items, next_cursor=next_cursor)


async def list_versions(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer
) -> list[s.MeasureVersion]:
    await visible_measure(session, measure_id, viewer)
    rows = await session.scalars(
        sa.select(MeasureVersion)
        .where(MeasureVersion.measure_id == measure_id)
        .order_by(MeasureVersion.version)
    )
    return [await version_view(session, row) for row in rows]


# -- drafting -----------------------------------------------------------------------------------


async def _content(
    session: AsyncSession, process_id: UUID, data: s.MeasureInput, actor: Actor
) -> dict[str, Any]:
    goal_ids = list(dict.fromkeys(data.goal_ids))
    if goal_ids:
        known = set(
            await session.scalars(
                sa.select(Goal.id).where(Goal.id.in_(goal_ids), Goal.process_id == process_id)
            )
        )
        missing = [g for g in goal_ids if g not in known]
        if missing:
            raise InvalidInput(
                "Unknown goals for this process.",
                errors=[
                    FieldError(
                        field=f"goal_ids[{data.goal_ids.index(g)}]",
                        source="body",
                        message="no goal of this process",
                    )
                    for g in missing
                ],
            )
    idea_ids = list(dict.fromkeys(data.idea_ids))
    if idea_ids:
        accepted = set(
            await session.scalars(
                sa.select(Idea.id).where(
                    Idea.id.in_(idea_ids),
                    Idea.process_id == process_id,
                    Idea.official_status.in_(LINKABLE_IDEAS),
                )
            )
        )
        refused = [i for i in idea_ids if i not in accepted]
        if refused:
            raise InvalidInput(
                "Only ideas of this process that planners accepted can lead to a measure.",
                errors=[
                    FieldError(
                        field=f"idea_ids[{data.idea_ids.index(i)}]",
                        source="body",
                        message="no accepted idea of this process",
                    )
                    for i in refused
                ],
            )
    keys = [section.key for section in data.sections]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise InvalidInput(
            "Section keys must be unique.",
            errors=[
                FieldError(
                    field=f"sections[{keys.index(k)}].key", source="body", message="duplicate key"
                )
                for k in duplicates
            ],
        )
    if data.provider_id is not None:
        await common.known_organisation(session, data.provider_id, "provider_id")
    return {
        "title": data.title,
        "summary": data.summary,
        "goal_ids": goal_ids,
        "idea_ids": idea_ids,
        "area_ids": await resolve_area_codes(session, data.area_codes, field="area_codes"),
        "target_groups": list(dict.fromkeys(data.target_groups)),
        "resources": msgspec.to_builtins(data.resources),
        "provider_id": data.provider_id,
        "criteria": msgspec.to_builtins(data.criteria),
        **_texts(data),
        "author_name": actor.name,
    }


def _texts(data: s.MeasureInput) -> dict[str, Any]:
    """The translations of the measure and of each section as stored, for the enabled
    languages only: every language the deployment does not enable is named at once in a 422
    (`translations.<language>`, `sections[i].translations.<language>`)."""
    refused: list[FieldError] = []

    def merged(change: msgspec.Struct, field_name: str) -> dict[str, dict[str, str]]:
        try:
            return shared_translations.merged({}, change, field_name=field_name)
        except InvalidInput as problem:
            refused.extend(problem.errors or [])
            return {}

    texts = {
        "translations": merged(data.translations, "translations"),
        "sections": [
            {
                **msgspec.to_builtins(section),
                "translations": merged(section.translations, f"sections[{index}].translations"),
            }
            for index, section in enumerate(data.sections)
        ],
    }
    if refused:
        raise InvalidInput(
            "Translations were given in languages this deployment does not enable.",
            errors=refused,
        )
    return texts


async def create_measure(
    session: AsyncSession, process_id: UUID, data: s.MeasureInput, actor: Actor
) -> UUID:
    await common.process(session, process_id, common.STAFF_VIEWER, writable=True)
    content = await _content(session, process_id, data, actor)
    measure = Measure(process_id=process_id, status=MeasureStatus.DRAFT.value, current_version=1)
    session.add(measure)
    await session.flush()
    session.add(MeasureVersion(measure_id=measure.id, version=1, **content))
    await session.flush()
    return measure.id


async def update_measure(
    session: AsyncSession, measure_id: UUID, data: s.MeasureInput, actor: Actor
) -> int:
    """Saves a new version; only drafts and revised measures change. Returns the version."""
    measure = await load_measure(session, measure_id, lock=True)
    await common.process(session, measure.process_id, common.STAFF_VIEWER, writable=True)
    if MeasureStatus(measure.status) not in EDITABLE:
        raise Conflict(
            f"A measure that is {measure.status} cannot be edited; drafts and revised measures "
            "can (revise it after its consultation).",
            slug="measure-not-editable",
        )
    content = await _content(session, measure.process_id, data, actor)
    measure.current_version += 1
    measure.updated_at = common.utcnow()
    session.add(MeasureVersion(measure_id=measure.id, version=measure.current_version, **content))
    await session.flush()
    return measure.current_version


# -- lifecycle ----------------------------------------------------------------------------------


async def _transition(
    session: AsyncSession,
    measure_id: UUID,
    step_name: str,
    reason: str,
    actor: Actor,
    decision: s.AdoptionInput | None = None,
) -> Measure:
    step = STEPS[step_name]
    measure = await load_measure(session, measure_id, lock=True)
    await common.process(session, measure.process_id, common.STAFF_VIEWER, writable=True)
    status = MeasureStatus(measure.status)
    if status not in step.sources:
        sources = ", ".join(sorted(s.value for s in step.sources))
        raise Conflict(
            f"'{step_name}' needs a measure that is {sources}; this one is {status.value}.",
            slug="invalid-transition",
            title="Not possible in this state",
        )
    phase = await common.active_phase(session, measure.process_id)
    if step.phases is not None and PhaseKey(phase) not in step.phases:
        wanted = ", ".join(sorted(p.value for p in step.phases))
        raise Conflict(
            f"'{step_name}' is allowed in the phase {wanted} of the process; the active phase "
            f"is {phase}.",
            slug="wrong-phase",
            title="Not possible in this phase",
        )
    session.add(
        MeasureTransition(
            measure_id=measure.id,
            from_status=status.value,
            to_status=step.target.value,
            version=measure.current_version,
            phase=phase,
            reason=reason,
            actor_kind=actor.kind.value,
            actor_id=actor.id,
            actor_name=actor.name,
            **_decision_columns(decision),
        )
    )
    measure.status = step.target.value
    measure.updated_at = common.utcnow()
    await session.flush()
    await emit(
        session,
        "measure.status_changed",
        {"measure_id": measure.id, "status": step.target.value, "previous_status": status.value},
        process_id=measure.process_id,
    )
    return measure


async def start_consultation(
    session: AsyncSession, measure_id: UUID, data: s.ConsultationInput, actor: Actor
) -> s.Consultation:
    """draft | revised → in_consultation: opens the feedback window on the current version."""
    now = common.utcnow()
    opens_at = data.opens_at or now
    closes_at = data.closes_at or opens_at + timedelta(days=data.days)
    errors = []
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        errors.append(FieldError(field="opens_at", source="body", message="needs a UTC offset"))
    elif closes_at <= opens_at:
        errors.append(FieldError(field="closes_at", source="body", message="must follow opens_at"))
    elif closes_at <= now:
        errors.append(FieldError(field="closes_at", source="body", message="lies in the past"))
    if data.min_respondents < data.k_threshold:
        errors.append(
            FieldError(field="min_respondents", source="body", message="must be at least k")
        )
    keys = [c.key for c in data.criteria]
    if len(set(keys)) != len(keys):
        errors.append(FieldError(field="criteria", source="body", message="duplicate keys"))
    if errors:
        raise InvalidInput("The consultation settings are not valid.", errors=errors)
    measure = await _transition(session, measure_id, "start_consultation", data.reason, actor)
    existing = await session.scalar(
        sa.select(Consultation).where(
            Consultation.measure_id == measure_id, Consultation.version == measure.current_version
        )
    )
    if existing is not None:
        raise Conflict(
            f"Version {measure.current_version} was consulted on already; edit the measure to "
            "make a new version first.",
            slug="version-consulted",
        )
    consultation = Consultation(
        measure_id=measure_id,
        version=measure.current_version,
        opens_at=opens_at,
        closes_at=closes_at,
        criteria=msgspec.to_builtins(data.criteria),
        summary_public=data.summary_public,
        k_threshold=data.k_threshold,
        min_respondents=data.min_respondents,
        pseudonym_salt=secrets.token_bytes(32),
    )
    session.add(consultation)
    await session.flush()
    return consultation_view(consultation)


async def revise(session: AsyncSession, measure_id: UUID, reason: str, actor: Actor) -> None:
    """in_consultation → revised; a window still open closes now."""
    await _transition(session, measure_id, "revise", reason, actor)
    consultation = await latest_consultation(session, measure_id)
    now = common.utcnow()
    if consultation is not None and consultation.closes_at > now:
        consultation.closes_at = max(now, consultation.opens_at + timedelta(microseconds=1))
        await session.flush()


def _decision_columns(decision: s.AdoptionInput | None) -> dict[str, Any]:
    if decision is None:
        return {}
    return {
        "decision_body": decision.decision_body,
        "decision_reference": decision.decision_reference,
        "decided_on": decision.decided_on or common.utcnow().date(),
    }


async def adopt(
    session: AsyncSession,
    measure_id: UUID,
    reason: str,
    actor: Actor,
    decision: s.AdoptionInput | None = None,
) -> None:
    """revised → adopted: the council's decision is recorded with the step (deciding body,
    reference, date — today unless given); the decision template shows it from then on."""
    await _transition(
        session,
        measure_id,
        "adopt",
        reason,
        actor,
        decision or s.AdoptionInput(reason=reason),
    )


async def resource(session: AsyncSession, measure_id: UUID, reason: str, actor: Actor) -> None:
    """adopted → resourced."""
    await _transition(session, measure_id, "resource", reason, actor)


async def start_delivery(
    session: AsyncSession, measure_id: UUID, reason: str, actor: Actor
) -> None:
    """resourced → in_delivery."""
    await _transition(session, measure_id, "start_delivery", reason, actor)


async def evaluate(session: AsyncSession, measure_id: UUID, reason: str, actor: Actor) -> None:
    """in_delivery → evaluated."""
    await _transition(session, measure_id, "evaluate", reason, actor)


async def withdraw(session: AsyncSession, measure_id: UUID, reason: str, actor: Actor) -> None:
    """Any state but evaluated or withdrawn → withdrawn; a window still open closes now."""
    await _transition(session, measure_id, "withdraw", reason, actor)
    consultation = await latest_consultation(session, measure_id)
    now = common.utcnow()
    if consultation is not None and consultation.closes_at > now:
        consultation.closes_at = max(now, consultation.opens_at + timedelta(microseconds=1))
        await session.flush()


async def list_transitions(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer
) -> list[s.Transition]:
    await visible_measure(session, measure_id, viewer)
    rows = await session.scalars(
        sa.select(MeasureTransition)
        .where(MeasureTransition.measure_id == measure_id)
        .order_by(MeasureTransition.id)
    )
    return [
        s.Transition(
            id=row.id,
            from_status=MeasureStatus(row.from_status),
            to_status=MeasureStatus(row.to_status),
            version=row.version,
            phase=row.phase,
            reason=row.reason,
            actor_name=row.actor_name,
            at=row.created_at,
            decision=decision_of(row),
        )
        for row in rows
    ]


def decision_of(row: MeasureTransition) -> s.CouncilDecision | None:
    if row.decided_on is None:
        return None
    return s.CouncilDecision(
        body=row.decision_body, reference=row.decision_reference, decided_on=row.decided_on
    )


# -- the difference between two versions --------------------------------------------------------

_UNITS = {"fte": "FTE", "eur": "EUR", "rooms": "rooms", "material": "material"}
_PERIODS = {
    "once": "once",
    "per_year": "per year",
    "per_month": "per month",
    "per_week": "per week",
}


def _resource_text(line: s.ResourceLine) -> str:
    return f"{line.label}: {line.amount:g} {_UNITS[line.unit]} {_PERIODS[line.period]}"


def _criterion_text(c: s.Criterion) -> str:
    due = c.due.isoformat() if c.due else "—"
    return (
        f"{c.indicator}: baseline {c.baseline or '—'}, target {c.target}, by {due}, "
        f"measured by {c.method or '—'}"
    )


def _compare(changes: list[s.Change], field: str, before: str | None, after: str | None) -> None:
    if before == after:
        return
    kind: Literal["added", "removed", "changed"] = (
        "added" if before is None else "removed" if after is None else "changed"
    )
    lines: list[str] = []
    if before and after and ("\n" in before or "\n" in after or len(before) > 200):
        lines = list(
            difflib.unified_diff(
                before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1
            )
        )[2:]
    changes.append(s.Change(field=field, change=kind, before=before, after=after, lines=lines))


def _lists(changes: list[s.Change], field: str, before: list[str], after: list[str]) -> None:
    for index in range(max(len(before), len(after))):
        _compare(
            changes,
            f"{field}[{index}]",
            before[index] if index < len(before) else None,
            after[index] if index < len(after) else None,
        )


def diff_versions(a: s.MeasureVersion, b: s.MeasureVersion) -> list[s.Change]:
    """Field by field; sections matched by key, lists by position."""
    changes: list[s.Change] = []
    _compare(changes, "title", a.title, b.title)
    _compare(changes, "summary", a.summary, b.summary)
    _compare(
        changes,
        "provider",
        a.provider.name if a.provider else None,
        b.provider.name if b.provider else None,
    )
    _compare(
        changes,
        "areas",
        ", ".join(x.name for x in a.areas) or None,
        ", ".join(x.name for x in b.areas) or None,
    )
    _compare(
        changes,
        "target_groups",
        ", ".join(a.target_groups) or None,
        ", ".join(b.target_groups) or None,
    )
    _compare(
        changes,
        "goal_ids",
        ", ".join(map(str, a.goal_ids)) or None,
        ", ".join(map(str, b.goal_ids)) or None,
    )
    _compare(
        changes,
        "ideas",
        ", ".join(i.title or str(i.id) for i in a.ideas) or None,
        ", ".join(i.title or str(i.id) for i in b.ideas) or None,
    )
    _lists(
        changes,
        "resources",
        [_resource_text(r) for r in a.resources],
        [_resource_text(r) for r in b.resources],
    )
    _lists(
        changes,
        "criteria",
        [_criterion_text(c) for c in a.criteria],
        [_criterion_text(c) for c in b.criteria],
    )
    before = {x.key: x for x in a.sections}
    after = {x.key: x for x in b.sections}
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if old and new and old.title != new.title:
            _compare(changes, f"sections.{key}.title", old.title, new.title)
        _compare(changes, f"sections.{key}", old.body if old else None, new.body if new else None)
        _translations(
            changes,
            f"sections.{key}.translations",
            old.translations if old else s.SectionTranslations(),
            new.translations if new else s.SectionTranslations(),
        )
    _translations(changes, "translations", a.translations, b.translations)
    return changes


def _translations(
    changes: list[s.Change], field: str, before: msgspec.Struct, after: msgspec.Struct
) -> None:
    """The texts per language beside German, language by language, text by text."""
    old: dict[str, dict[str, str]] = msgspec.to_builtins(before)
    new: dict[str, dict[str, str]] = msgspec.to_builtins(after)
    for language in [*old, *(code for code in new if code not in old)]:
        texts_before, texts_after = old.get(language) or {}, new.get(language) or {}
        for name in [*texts_before, *(n for n in texts_after if n not in texts_before)]:
            _compare(
                changes,
                f"{field}.{language}.{name}",
                texts_before.get(name),
                texts_after.get(name),
            )


async def diff(
    session: AsyncSession,
    measure_id: UUID,
    viewer: common.Viewer,
    from_version: int,
    to_version: int,
) -> s.VersionDiff:
    await visible_measure(session, measure_id, viewer)
    a = await version_view(session, await load_version(session, measure_id, from_version))
    b = await version_view(session, await load_version(session, measure_id, to_version))
    return s.VersionDiff(
        measure_id=measure_id,
        from_version=from_version,
        to_version=to_version,
        changes=diff_versions(a, b),
    )
