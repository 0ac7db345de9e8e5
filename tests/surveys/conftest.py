"""Fixtures of the surveys tests: a small area hierarchy with population age bands, a planning
process in needs assessment, a survey definition using every question type, and helpers to
create, publish and answer surveys through the API."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.areas.models import AgeBand
from quartier.processes import schemas as ps
from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from tests.conftest import LoginFactory, TokenFactory
from tests.support.areas import add_area_tree

Client = AsyncTestClient[Litestar]
Headers = dict[str, str]
Json = dict[str, Any]

# code → (name, parent code): district → district region → planning areas.
AREAS: dict[str, tuple[str, str | None]] = {
    "01": ("Mitte", None),
    "0101": ("Moabit", "01"),
    "010101": ("Moabit West", "0101"),
    "010102": ("Moabit Ost", "0101"),
    "0102": ("Wedding", "01"),
    "010201": ("Leopoldplatz", "0102"),
    "08": ("Neukölln", None),
    "0801": ("Rixdorf", "08"),
    "080101": ("Körnerpark", "0801"),
}
LEVELS = ["district", "district_region", "planning_area"]
BANDS = [
    ("below_6", 0, 6),
    ("6_15", 6, 15),
    ("15_18", 15, 18),
    ("18_27", 18, 27),
    ("27_45", 27, 45),
    ("45_55", 45, 55),
    ("55_65", 55, 65),
    ("above_65", 65, None),
]


@pytest.fixture
async def areas(engine: AsyncEngine) -> dict[str, uuid.UUID]:
    """Social areas by code (ids), plus Berlin's population age bands."""
    async with async_sessionmaker(engine)() as db, db.begin():
        db.add_all(
            AgeBand(key=key, min_age=low, max_age=high, label_de=key, label_en=key)
            for key, low, high in BANDS
        )
        ids = await add_area_tree(db, AREAS, LEVELS)
    return ids


MakeProcess = Callable[..., Awaitable[uuid.UUID]]


@pytest.fixture
def make_process(engine: AsyncEngine, areas: dict[str, uuid.UUID]) -> MakeProcess:
    """`process_id = await make_process(phase=PhaseKey.NEEDS_ASSESSMENT, publish=True,
    area_codes=["01"])`: a planning process, by default active in needs assessment and scoped
    to Mitte."""

    async def factory(
        *,
        phase: PhaseKey = PhaseKey.NEEDS_ASSESSMENT,
        publish: bool = True,
        area_codes: tuple[str, ...] = ("01",),
    ) -> uuid.UUID:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db, db.begin():
            process_id = await processes.create_process(
                db,
                ps.ProcessCreate(
                    title="Kinderarmut in Mitte vorbeugen",
                    topic="Kinder- und Familienarmut",
                    area_codes=list(area_codes),
                ),
                processes.SYSTEM,
            )
            if phase is not PhaseKey.GUIDELINES:
                await processes.activate_phase(db, process_id, phase, processes.SYSTEM)
            if publish:
                await processes.publish_process(db, process_id)
        return process_id

    return factory


@pytest.fixture
async def process_id(make_process: MakeProcess) -> uuid.UUID:
    return await make_process()


@pytest.fixture
async def planner(login_as: LoginFactory) -> Headers:
    return await login_as("planner")


@pytest.fixture
async def writer(make_token: TokenFactory) -> Headers:
    """An integration that writes surveys (definitions, paper entry, imports)."""
    return await make_token({"surveys:write"}, name="survey integration")


@pytest.fixture
async def reader(make_token: TokenFactory) -> Headers:
    """An integration that reads results."""
    return await make_token({"surveys:read"}, name="results integration")


def text(de: str, en: str | None = None) -> Json:
    return {"de": de, "en": en} if en else {"de": de}


def option(key: str, de: str, *needs: str) -> Json:
    return {"key": key, "label": text(de), "need_categories": list(needs)}


def definition() -> Json:
    """A definition that uses every question type, a conditional page and a conditional
    question."""
    return copy.deepcopy(
        {
            "title": text("Familien in Mitte", "Families in Mitte"),
            "intro": text("Wie geht es Familien in Ihrem Kiez?"),
            "purpose": text("Die Antworten helfen, Angebote für Familien zu planen."),
            "organiser": text("Bezirksamt Mitte, Planungskoordination"),
            "estimated_minutes": 8,
            "privacy_note": text("Die Befragung ist anonym."),
            "pages": [
                {
                    "key": "about_you",
                    "title": text("Über Sie", "About you"),
                    "questions": [
                        {
                            "type": "social_area",
                            "key": "area",
                            "text": text("In welchem Gebiet wohnen Sie?", "Where do you live?"),
                            "required": True,
                            "level": "planning_area",
                            "point_lookup": True,
                        },
                        {
                            "type": "age_band",
                            "key": "age",
                            "text": text("Wie alt sind Sie?", "How old are you?"),
                            "options": [
                                {
                                    "key": "under_27",
                                    "label": text("unter 27"),
                                    "population_bands": ["15_18", "18_27"],
                                },
                                {
                                    "key": "from_27_to_44",
                                    "label": text("27 bis 44"),
                                    "population_bands": ["27_45"],
                                },
                                {
                                    "key": "from_45",
                                    "label": text("45 und älter"),
                                    "population_bands": ["45_55", "55_65", "above_65"],
                                },
                                {"key": "no_answer", "label": text("keine Angabe")},
                            ],
                        },
                        {
                            "type": "single_choice",
                            "key": "children",
                            "text": text("Leben Kinder in Ihrem Haushalt?", "Children at home?"),
                            "required": True,
                            "options": [option("yes", "Ja"), option("no", "Nein")],
                        },
                    ],
                },
                {
                    "key": "family",
                    "title": text("Ihre Familie"),
                    "show_if": {"op": "equals", "question": "children", "value": "yes"},
                    "questions": [
                        {
                            "type": "multiple_choice",
                            "key": "missing",
                            "text": text("Was fehlt Ihrer Familie?", "What does your family lack?"),
                            "required": True,
                            "min_selections": 1,
                            "max_selections": 3,
                            "options": [
                                option("kita", "Kitaplatz", "childcare"),
                                option("homework", "Hausaufgabenhilfe", "school_success"),
                                option("youth_club", "Jugendclub", "youth_work"),
                                option("doctor", "Kinderarzt in der Nähe", "medical_care"),
                            ],
                            "other": {"label": text("Anderes"), "max_length": 100},
                        },
                        {
                            "type": "ranking",
                            "key": "priorities",
                            "text": text("Was ist am wichtigsten?"),
                            "max_ranked": 3,
                            "options": [
                                option("playground", "Spielplatz"),
                                option("counselling", "Beratung", "everyday_support"),
                                option("sports", "Sport"),
                                option("library", "Bibliothek"),
                            ],
                            "show_if": {
                                "op": "any",
                                "any": [
                                    {"op": "includes", "question": "missing", "option": "kita"},
                                    {"op": "includes", "question": "missing", "option": "other"},
                                ],
                            },
                        },
                    ],
                },
                {
                    "key": "neighbourhood",
                    "questions": [
                        {
                            "type": "rating",
                            "key": "safety",
                            "text": text("Wie sicher fühlen Sie sich?", "How safe do you feel?"),
                            "scale_min": 1,
                            "scale_max": 5,
                            "min_label": text("gar nicht sicher"),
                            "max_label": text("sehr sicher"),
                            "need_values": [1, 2],
                            "need_categories": ["safety"],
                        },
                        {
                            "type": "number",
                            "key": "household",
                            "text": text("Wie viele Personen leben in Ihrem Haushalt?"),
                            "minimum": 1,
                            "maximum": 15,
                        },
                        {
                            "type": "number",
                            "key": "rent_share",
                            "text": text("Anteil der Miete am Einkommen (%)"),
                            "minimum": 0,
                            "maximum": 100,
                            "integer": False,
                        },
                        {
                            "type": "short_text",
                            "key": "wish",
                            "text": text("Ihr größter Wunsch für den Kiez?"),
                            "max_length": 50,
                        },
                        {
                            "type": "long_text",
                            "key": "comments",
                            "text": text("Möchten Sie uns noch etwas sagen?"),
                            "max_length": 500,
                            "show_if": {
                                "op": "not",
                                "not": {"op": "equals", "question": "safety", "value": 5},
                            },
                        },
                    ],
                },
            ],
        }
    )


def answers(**overrides: Any) -> Json:
    """A valid set of answers to `definition()` (with children, so every page is shown)."""
    base: Json = {
        "area": "010101",
        "age": "from_27_to_44",
        "children": "yes",
        "missing": ["kita", "homework"],
        "priorities": ["playground", "counselling"],
        "safety": 2,
        "household": 4,
        "rent_share": 37.5,
        "wish": "Mehr Grün",
        "comments": "Danke für die Befragung.",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@dataclass
class Surveys:
    """Create, publish and answer surveys through the API."""

    client: Client
    process_id: uuid.UUID
    planner: Headers

    async def create(
        self,
        body: Json | None = None,
        *,
        publish: bool = False,
        process_id: uuid.UUID | None = None,
        **settings: Any,
    ) -> Json:
        payload = {"definition": body or definition(), **settings}
        response = await self.client.post(
            f"/api/v1/processes/{process_id or self.process_id}/surveys",
            json=payload,
            headers=self.planner,
        )
        assert response.status_code == 201, response.text
        survey: Json = response.json()
        if publish:
            published = await self.client.post(
                f"/api/v1/surveys/{survey['id']}/publish", headers=self.planner
            )
            assert published.status_code == 200, published.text
            survey = published.json()
        return survey

    async def submit(
        self,
        survey_id: str,
        answers_: Json | None = None,
        *,
        headers: Headers | None = None,
        **body: Any,
    ) -> Any:
        return await self.client.post(
            f"/api/v1/surveys/{survey_id}/responses",
            json={"answers": answers() if answers_ is None else answers_, **body},
            headers=headers or {},
        )


@pytest.fixture
def surveys(client: Client, process_id: uuid.UUID, planner: Headers) -> Surveys:
    return Surveys(client=client, process_id=process_id, planner=planner)
