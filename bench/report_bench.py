"""The social report of the benchmark's process (issue #11): called by bench/surveys_bench.py on
its data set (Berlin's 447 planning areas, the seeded responses), after the aggregated-needs
measurements, so that nothing is seeded twice.

The process is walked to the phase `social_reporting` through the services, as planners would:
the demo indicators (shares under 18 and 65+ per planning area, with their need links), goals,
measures taken through consultation, adoption, resourcing and delivery (delivery reports and an
assessment), one left as a draft (which the report leaves out), gaps marked, and the editorial
sections written. Then, median of --runs after one warm-up:

* the report as the service assembles it (`reports.services.get_report`, as a report token);
* the printable HTML page (`GET /processes/{id}/report`) through the assembled app;
* the PDF (`GET /api/v1/processes/{id}/social-report/pdf`) through the assembled app, laid out
  afresh (the draft: the in-memory cache emptied before each run);
* then the release: the job's layout of the released report's PDF in German (what the worker
  does once per language after the release, stored in `social_report_documents`), and the
  download of the released PDF as every reader gets it (served as stored);

each with the share of its time spent in SQL: the time between SQLAlchemy's
`before_cursor_execute` and `after_cursor_execute` of every statement (on any engine: the app's
and the bench's), i.e. the statement's round trip including fetching its rows; the CPU time of
this process (app and client, not PostgreSQL), which a busy machine distorts less than the
wall-clock time; and the three statements that took longest in the service's runs."""

from __future__ import annotations

import contextlib
import datetime
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.accounts import services as accounts
from quartier.areas.models import AreaLevel, SocialArea
from quartier.core import i18n
from quartier.core.pdf import documents as pdf_documents
from quartier.core.security import Principal
from quartier.db import session_scope
from quartier.indicators import comparison
from quartier.indicators import demo as indicators_demo
from quartier.measures import delivery, goals
from quartier.measures import delivery_schemas as ds
from quartier.measures import schemas as ms
from quartier.measures import services as measures
from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from quartier.reports import published
from quartier.reports import schemas as rs
from quartier.reports import services as reports
from quartier.reports.models import ReleasedReportDocument

READER = Principal(kind="token", id=uuid.uuid4(), name="bench", scopes=frozenset({"reports:read"}))
SECTIONS = rs.EditorialSections(
    introduction="Dieser Bericht fasst den ersten Zyklus der Sozialplanung zusammen.\n\n"
    "Er beruht auf der Befragung, den Indikatoren der Statistik und den Maßnahmen.",
    needs="Kinderbetreuung und Pflege fehlen in vielen Planungsräumen.",
    measures="Drei Maßnahmen wurden beschlossen und umgesetzt.",
    evaluation="Die Familienzentren wurden gut angenommen.",
    outlook="Im nächsten Zyklus: Kitaplätze und Pflegeberatung.",
)
TARGET_MS = 5000
NEEDS_OF_GOALS = (("childcare", "youth_work"), ("elderly_care",), ("housing", "health"))


@dataclass
class SqlClock:
    """Statements and the seconds spent in them while `running`."""

    statements: int = 0
    seconds: float = 0.0
    running: bool = False
    by_statement: dict[str, list[float]] = field(default_factory=dict)  # text → [count, s]
    _started: list[float] = field(default_factory=list)

    def reset(self) -> None:
        self.statements, self.seconds = 0, 0.0
        self.by_statement = {}

    def before(self, *_: Any) -> None:
        self._started.append(time.perf_counter())

    def after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        started = self._started.pop() if self._started else None
        if started is not None and self.running:
            elapsed = time.perf_counter() - started
            self.statements += 1
            self.seconds += elapsed
            entry = self.by_statement.setdefault(" ".join(statement.split()), [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed

    def slowest(self, count: int, runs: int) -> list[str]:
        """The statements that took longest in all, as `ms per run (n×): text…`."""
        ranked = sorted(self.by_statement.items(), key=lambda item: item[1][1], reverse=True)
        return [
            f"{seconds / runs * 1000:.0f} ms per run ({calls / runs:.0f}×): {text[:160]}"
            for text, (calls, seconds) in ranked[:count]
        ]


@contextlib.contextmanager
def sql_clock() -> Iterator[SqlClock]:
    """Time every statement of every engine (the app makes its own) while the block runs."""
    clock = SqlClock()
    event.listen(Engine, "before_cursor_execute", clock.before)
    event.listen(Engine, "after_cursor_execute", clock.after)
    try:
        yield clock
    finally:
        event.remove(Engine, "before_cursor_execute", clock.before)
        event.remove(Engine, "after_cursor_execute", clock.after)


@dataclass(frozen=True)
class Timing:
    median_ms: float
    cpu_ms: float  # median CPU time of this process (app and client; not PostgreSQL)
    sql_share: float  # of the runs' total time
    statements: int  # per run
    size: int  # bytes of the result (HTML, PDF); 0 for the service
    slowest: list[str]  # the statements that took longest


async def timed(clock: SqlClock, runs: int, action: Callable[[], Awaitable[int]]) -> Timing:
    await action()  # warm-up: caches, prepared statements, templates, fonts
    timings: list[float] = []
    cpu: list[float] = []
    clock.reset()
    clock.running = True
    size = 0
    try:
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            size = await action()
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
    finally:
        clock.running = False
    return Timing(
        median_ms=statistics.median(timings) * 1000,
        cpu_ms=statistics.median(cpu) * 1000,
        sql_share=clock.seconds / sum(timings),
        statements=clock.statements // runs,
        size=size,
        slowest=clock.slowest(3, runs),
    )


# -- the cycle, through the services -------------------------------------------------------------


def _measure(title: str, codes: list[str], goal_ids: list[uuid.UUID]) -> ms.MeasureInput:
    return msgspec.convert(
        {
            "title": title,
            "summary": f"{title}: offene Sprechstunde und Beratung im Kiez.",
            "goal_ids": [str(goal) for goal in goal_ids],
            "area_codes": codes,
            "target_groups": ["Familien mit kleinen Kindern", "Ältere Menschen"],
            "resources": [
                {"label": "Sozialarbeit", "amount": 1.5, "unit": "fte", "period": "per_year"},
                {"label": "Sachkosten", "amount": 20000, "unit": "eur", "period": "per_year"},
            ],
            "criteria": [
                {
                    "indicator": "Familien in Beratung",
                    "baseline": "0",
                    "target": "120 pro Jahr",
                    "due": "2028-12-31",
                    "method": "Zählung der Beratungen",
                }
            ],
            "sections": [
                {"key": "offer", "title": "Angebot", "body": "Offene Sprechstunde dienstags."},
                {"key": "costs", "title": "Kosten", "body": "Personal und Sachkosten."},
            ],
        },
        ms.MeasureInput,
    )


async def prepare_cycle(engine: AsyncEngine, process_id: uuid.UUID) -> dict[str, int]:
    """Indicators, goals, measures with delivery and evaluation, gaps and sections."""
    actor = processes.SYSTEM

    async def phase(key: PhaseKey) -> None:
        async with session_scope(engine) as session:
            await processes.activate_phase(session, process_id, key, actor)

    async with session_scope(engine) as session:
        await indicators_demo.load(session)
        codes = list(
            (
                await session.scalars(
                    sa.select(SocialArea.code)
                    .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
                    .where(AreaLevel.key == "planning_area")
                    .order_by(SocialArea.code)
                )
            ).all()
        )
    await phase(PhaseKey.MEASURE_PLANNING)
    goal_ids: list[uuid.UUID] = []
    measure_ids: list[uuid.UUID] = []
    async with session_scope(engine) as session:
        for index, needs in enumerate(NEEDS_OF_GOALS):
            data = ms.GoalCreate(
                statement=f"Ziel {index + 1}: der Bedarf an {', '.join(needs)} ist gedeckt.",
                need_categories=list(needs),
                area_codes=codes[index * 20 : index * 20 + 20],
                target_groups=["Familien", "Ältere Menschen"],
            )
            goal_ids.append(await goals.create_goal(session, process_id, data, actor))
        for index in range(5):
            data = _measure(
                f"Familienzentrum {index + 1}",
                codes[index * 10 : index * 10 + 10],
                [goal_ids[index % len(goal_ids)]],
            )
            measure_ids.append(await measures.create_measure(session, process_id, data, actor))
    adopted = measure_ids[:4]  # the fifth stays a draft, which the report leaves out
    async with session_scope(engine) as session:
        for measure_id in adopted:
            await measures.start_consultation(
                session, measure_id, ms.ConsultationInput(reason="Beteiligung"), actor
            )
            await measures.revise(session, measure_id, "Überarbeitet", actor)
            await measures.adopt(session, measure_id, "Beschlossen", actor)
    await phase(PhaseKey.RESOURCE_PROVISION)
    async with session_scope(engine) as session:
        for measure_id in adopted:
            await measures.resource(session, measure_id, "Mittel bereitgestellt", actor)
    await phase(PhaseKey.SERVICE_DELIVERY)
    async with session_scope(engine) as session:
        for measure_id in adopted:
            await measures.start_delivery(session, measure_id, "Start", actor)
            for quarter in range(4):
                start = datetime.date(2025, 1 + 3 * quarter, 1)
                end = (
                    datetime.date(2025, 4 + 3 * quarter, 1) - datetime.timedelta(days=1)
                    if quarter < 3
                    else datetime.date(2025, 12, 31)
                )
                report = msgspec.convert(
                    {
                        "period_start": start.isoformat(),
                        "period_end": end.isoformat(),
                        "outputs": [{"kind": "Sprechstunden", "count": 10 + quarter}],
                        "participants": 40 + 5 * quarter,
                        "spend": [{"resource": 1, "amount": 7000}],
                        "criteria": [{"criterion": 0, "value": 25 + 10 * quarter}],
                    },
                    ds.DeliveryReportInput,
                )
                await delivery.create_report(session, measure_id, report, actor)
    await phase(PhaseKey.EVALUATION)
    async with session_scope(engine) as session:
        for measure_id in adopted[:2]:
            await measures.evaluate(session, measure_id, "Bewertet", actor)
        for measure_id in adopted:
            await delivery.record_assessment(
                session,
                measure_id,
                msgspec.convert(
                    {"decision": "continue", "reasons": "Gut angenommen."}, ds.AssessmentInput
                ),
                actor,
            )
        for index, code in enumerate(codes[:6]):
            need = ("childcare", "elderly_care")[index % 2]
            await comparison.mark_gap(session, process_id, need, code, "Kein Angebot im Kiez")
    await phase(PhaseKey.SOCIAL_REPORTING)
    async with session_scope(engine) as session:
        await reports.update_sections(
            session, process_id, rs.ReportSettings(sections=SECTIONS), actor
        )
    return {"goals": len(goal_ids), "measures": len(measure_ids), "areas": len(codes)}


# -- the run -------------------------------------------------------------------------------------


async def run(engine: AsyncEngine, app: Any, process_id: uuid.UUID, runs: int) -> list[str]:
    """Prepare the cycle, then time the report three ways; markdown lines."""
    started = time.perf_counter()
    prepared = await prepare_cycle(engine, process_id)
    prepare_seconds = time.perf_counter() - started
    async with session_scope(engine) as session:
        _, secret = await accounts.create_token(
            session, name="bench reports", scopes={"reports:read"}, created_by=None
        )
    headers = {"Authorization": f"Bearer {secret}"}
    lines = [
        f"social report: cycle walked through the services in {prepare_seconds:.1f} s "
        f"({prepared['goals']} goals, {prepared['measures']} measures of which 4 in delivery "
        f"with 4 reports each and 1 draft, 2 indicators over {prepared['areas']} planning areas, "
        "6 gaps, editorial sections)",
        "",
        "| social report | median ms | SQL share | statements | CPU ms (app) | size |",
        "|---|---|---|---|---|---|",
    ]
    results: dict[str, Timing] = {}
    with sql_clock() as clock:

        async def service() -> int:
            async with session_scope(engine) as session:
                report = await reports.get_report(session, process_id, READER)
            assert report.needs is not None, "the report has no needs"
            assert report.needs.areas, "the report has no areas"
            return 0

        results["service (get_report)"] = await timed(clock, runs, service)
        async with AsyncTestClient(app, base_url="https://bench.local") as client:
            pdf_path = f"/api/v1/processes/{process_id}/social-report/pdf"
            # The PDF laid out afresh (each process keeps the documents it rendered, by their
            # HTML: the cache is emptied before each run), then as every later download gets it.
            for name, path, fresh in (
                ("HTML page", f"/processes/{process_id}/report", False),
                ("PDF, first rendering", pdf_path, True),
                ("PDF, rendered before", pdf_path, False),
            ):

                async def http(path: str = path, fresh: bool = fresh) -> int:
                    if fresh:
                        pdf_documents.clear()
                    response = await client.get(path, headers={**headers, "Accept-Language": "de"})
                    response.raise_for_status()
                    return len(response.content)

                results[name] = await timed(clock, runs, http)

            # The release: its job lays the PDF out once per language and stores it
            # (reports.published); every download of the released report is then served as
            # stored. Timed here for German, the way the worker runs it.
            async with session_scope(engine) as session:
                await reports.release(session, process_id, processes.SYSTEM)
            pdf_documents.clear()

            async def release_job() -> int:
                token = i18n.set_language("de")
                try:
                    async with session_scope(engine) as session:
                        await session.execute(sa.delete(ReleasedReportDocument))
                        released = await reports.get_report(session, process_id, None)
                        pdf_documents.clear()
                        return len(await published.released_pdf(session, released))
                finally:
                    i18n.reset_language(token)

            results["released: the job's layout (de)"] = await timed(clock, runs, release_job)

            async def stored() -> int:
                response = await client.get(pdf_path, headers={"Accept-Language": "de"})
                response.raise_for_status()
                return len(response.content)

            results["released: PDF download (stored)"] = await timed(clock, runs, stored)
    for name, timing in results.items():
        size = f"{timing.size / 1024:,.0f} KiB" if timing.size else ""
        lines.append(
            f"| {name} | {timing.median_ms:.0f} | {timing.sql_share:.0%} | "
            f"{timing.statements} | {timing.cpu_ms:.0f} | {size} |"
        )
    # What a reader waits for; the layouts run once, in the worker, after the release.
    layouts = {"PDF, first rendering", "released: the job's layout (de)"}
    verdicts = ", ".join(
        f"{name} {'met' if timing.median_ms < TARGET_MS else 'NOT met'}"
        for name, timing in results.items()
        if name not in layouts
    )
    lines += [
        "",
        f"target: each under {TARGET_MS / 1000:.0f} s (issue #11) — {verdicts}; the PDF's layout "
        "(first rendering, the release's job) runs once per language in the worker after the "
        "release, not while a reader waits",
    ]
    lines += ["", "slowest statements of the service (in all, per run):"]
    lines += [f"  {line}" for line in results["service (get_report)"].slowest]
    return lines
