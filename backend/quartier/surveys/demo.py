"""Demo data of the surveys: one published needs-assessment survey in the demo process
"Kinderarmut in Mitte vorbeugen", with questions tagged with need categories, an age-band
question mapped to Berlin's population age bands, and a few hundred synthetic web responses
over the planning areas in the process's scope, so that results and exports show something.
Created through the same services as any survey; loaded once."""

from __future__ import annotations

import random
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AgeBand
from quartier.processes.models import PlanningProcess
from quartier.surveys import responses, services
from quartier.surveys import schemas as s
from quartier.surveys.models import Channel, Survey

PROCESS_TITLE = "Kinderarmut in Mitte vorbeugen"
RESPONSES = 480
SEED = 2025


def _t(de: str, en: str, simple: str | None = None) -> dict[str, str]:
    texts = {"de": de, "en": en}
    if simple:
        texts["de-x-simple"] = simple
    return texts


def _o(key: str, de: str, en: str, *needs: str) -> dict[str, Any]:
    return {"key": key, "label": _t(de, en), "need_categories": list(needs)}


DEFINITION: dict[str, Any] = {
    "title": _t(
        "Familien in Moabit: Was brauchen Sie?",
        "Families in Moabit: what do you need?",
        "Familien in Moabit: Was brauchen Sie?",
    ),
    "intro": _t(
        "Das Bezirksamt Mitte möchte wissen, was Familien und Nachbarn im Kiez fehlt. "
        "Ihre Antworten helfen, Kitas, Beratung und Freizeitangebote besser zu planen.",
        "Mitte's district office wants to know what families and neighbours lack. Your answers "
        "help to plan childcare, counselling and leisure activities.",
        "Das Bezirksamt will wissen: Was fehlt Familien im Kiez? Ihre Antworten helfen bei der "
        "Planung.",
    ),
    "purpose": _t(
        "Bedarfsermittlung für die Präventionskette gegen Kinderarmut (Sozialraumplanung).",
        "Needs assessment for the prevention chain against child poverty (social planning).",
    ),
    "organiser": _t(
        "Bezirksamt Mitte, Sozialraumorientierte Planungskoordination, mit Caritas, Diakonie "
        "und AWO",
        "Mitte district office, social planning coordination, with Caritas, Diakonie and AWO",
    ),
    "estimated_minutes": 7,
    "privacy_note": _t(
        "Die Befragung ist anonym: Wir speichern keine Namen, keine IP-Adressen und keine "
        "Geräteinformationen. Ergebnisse werden nur zusammengefasst veröffentlicht, kleine "
        "Gruppen (unter 5 Personen) werden nicht gezeigt.",
        "The survey is anonymous: we store no names, IP addresses or device information. "
        "Results are published only in aggregate; small groups (fewer than 5 people) are not "
        "shown.",
        "Die Befragung ist anonym. Wir speichern keinen Namen. Kleine Gruppen zeigen wir nicht.",
    ),
    "thank_you": _t(
        "Vielen Dank! Die Ergebnisse stellen wir im Herbst im Kiez vor.",
        "Thank you! We will present the results in the neighbourhood in autumn.",
    ),
    "pages": [
        {
            "key": "about_you",
            "title": _t("Über Sie", "About you"),
            "questions": [
                {
                    "type": "social_area",
                    "key": "area",
                    "text": _t("In welchem Gebiet wohnen Sie?", "Which area do you live in?"),
                    "hint": _t(
                        "Sie können auch Ihre Adresse suchen; gespeichert wird nur das Gebiet.",
                        "You can also search for your address; only the area is stored.",
                    ),
                    "required": True,
                    "level": "planning_area",
                    "point_lookup": True,
                },
                {
                    "type": "age_band",
                    "key": "age",
                    "text": _t("Wie alt sind Sie?", "How old are you?"),
                    "options": [
                        {
                            "key": "age_15_17",
                            "label": _t("15 bis 17", "15 to 17"),
                            "population_bands": ["15_18"],
                        },
                        {
                            "key": "age_18_26",
                            "label": _t("18 bis 26", "18 to 26"),
                            "population_bands": ["18_27"],
                        },
                        {
                            "key": "age_27_44",
                            "label": _t("27 bis 44", "27 to 44"),
                            "population_bands": ["27_45"],
                        },
                        {
                            "key": "age_45_54",
                            "label": _t("45 bis 54", "45 to 54"),
                            "population_bands": ["45_55"],
                        },
                        {
                            "key": "age_55_64",
                            "label": _t("55 bis 64", "55 to 64"),
                            "population_bands": ["55_65"],
                        },
                        {
                            "key": "age_65_plus",
                            "label": _t("65 und älter", "65 and older"),
                            "population_bands": ["above_65"],
                        },
                        {"key": "no_answer", "label": _t("Keine Angabe", "Prefer not to say")},
                    ],
                },
                {
                    "type": "single_choice",
                    "key": "household",
                    "text": _t("Wie leben Sie?", "How do you live?"),
                    "options": [
                        _o("single_parent", "Alleinerziehend mit Kind(ern)", "Single parent"),
                        _o("couple_children", "Paar mit Kind(ern)", "Couple with children"),
                        _o("couple", "Paar ohne Kinder", "Couple without children"),
                        _o("alone", "Allein", "Alone"),
                    ],
                    "other": {"label": _t("Anders, und zwar:", "Other:"), "max_length": 100},
                },
                {
                    "type": "single_choice",
                    "key": "children",
                    "text": _t(
                        "Leben Kinder unter 18 Jahren in Ihrem Haushalt?",
                        "Do children under 18 live in your household?",
                        "Wohnen Kinder bei Ihnen?",
                    ),
                    "required": True,
                    "options": [_o("yes", "Ja", "Yes"), _o("no", "Nein", "No")],
                },
            ],
        },
        {
            "key": "family",
            "title": _t("Kinder und Familie", "Children and family"),
            "show_if": {"op": "equals", "question": "children", "value": "yes"},
            "questions": [
                {
                    "type": "multiple_choice",
                    "key": "family_needs",
                    "text": _t(
                        "Was fehlt Ihrer Familie im Kiez am meisten?",
                        "What does your family miss most in the neighbourhood?",
                    ),
                    "hint": _t("Höchstens drei Antworten.", "At most three answers."),
                    "max_selections": 3,
                    "options": [
                        _o("kita", "Ein Kitaplatz", "A childcare place", "childcare"),
                        _o(
                            "after_school",
                            "Betreuung nach der Schule",
                            "After-school care",
                            "childcare",
                        ),
                        _o(
                            "homework",
                            "Hilfe bei den Hausaufgaben",
                            "Homework help",
                            "school_success",
                        ),
                        _o(
                            "youth",
                            "Angebote für Jugendliche",
                            "Activities for teenagers",
                            "youth_work",
                        ),
                        _o(
                            "paediatrician",
                            "Ein Kinderarzt in der Nähe",
                            "A paediatrician nearby",
                            "medical_care",
                        ),
                        _o(
                            "counselling",
                            "Familienberatung",
                            "Family counselling",
                            "everyday_support",
                        ),
                    ],
                    "other": {"label": _t("Etwas anderes:", "Something else:"), "max_length": 200},
                },
                {
                    "type": "rating",
                    "key": "childcare_access",
                    "text": _t(
                        "Wie leicht war es, einen Kitaplatz zu finden?",
                        "How easy was it to find a childcare place?",
                    ),
                    "scale_min": 1,
                    "scale_max": 5,
                    "min_label": _t("sehr schwer", "very hard"),
                    "max_label": _t("sehr leicht", "very easy"),
                    "need_values": [1, 2],
                    "need_categories": ["childcare"],
                },
            ],
        },
        {
            "key": "neighbourhood",
            "title": _t("Leben im Kiez", "Living in the neighbourhood"),
            "questions": [
                {
                    "type": "rating",
                    "key": "safety",
                    "text": _t(
                        "Wie sicher fühlen Sie sich abends auf der Straße?",
                        "How safe do you feel in the street in the evening?",
                    ),
                    "min_label": _t("gar nicht sicher", "not safe at all"),
                    "max_label": _t("sehr sicher", "very safe"),
                    "need_values": [1, 2],
                    "need_categories": ["safety"],
                },
                {
                    "type": "multiple_choice",
                    "key": "neighbourhood_needs",
                    "text": _t(
                        "Was würde das Leben im Kiez verbessern?",
                        "What would improve life in the neighbourhood?",
                    ),
                    "max_selections": 3,
                    "options": [
                        _o(
                            "meeting_places",
                            "Treffpunkte für Nachbarn",
                            "Places to meet",
                            "belonging",
                        ),
                        _o(
                            "debt_advice",
                            "Beratung bei Geld und Schulden",
                            "Debt advice",
                            "money_and_debt",
                        ),
                        _o(
                            "everyday_help",
                            "Hilfe im Alltag",
                            "Help in everyday life",
                            "everyday_support",
                        ),
                        _o("housing", "Bezahlbare Wohnungen", "Affordable housing", "housing"),
                        _o("doctors", "Arztpraxen in der Nähe", "Doctors nearby", "medical_care"),
                        _o(
                            "barrier_free",
                            "Barrierefreie Wege",
                            "Barrier-free paths",
                            "barrier_free",
                        ),
                        _o(
                            "transport",
                            "Bessere Bus- und Bahnverbindungen",
                            "Better transport",
                            "mobility",
                        ),
                        _o(
                            "seniors",
                            "Angebote für Ältere",
                            "Activities for older people",
                            "elderly_care",
                        ),
                    ],
                },
                {
                    "type": "ranking",
                    "key": "priorities",
                    "text": _t(
                        "Was soll der Bezirk zuerst angehen? Ordnen Sie die drei wichtigsten.",
                        "What should the district tackle first? Rank the three most important.",
                    ),
                    "max_ranked": 3,
                    "options": [
                        _o("playgrounds", "Spielplätze", "Playgrounds"),
                        _o(
                            "youth_centre",
                            "Jugendfreizeiteinrichtung",
                            "Youth centre",
                            "youth_work",
                        ),
                        _o("family_centre", "Familienzentrum", "Family centre", "everyday_support"),
                        _o("green_spaces", "Grünflächen", "Green spaces"),
                        _o(
                            "social_counselling",
                            "Sozialberatung",
                            "Social counselling",
                            "money_and_debt",
                        ),
                    ],
                },
                {
                    "type": "number",
                    "key": "years_here",
                    "text": _t(
                        "Seit wie vielen Jahren wohnen Sie in diesem Gebiet?",
                        "For how many years have you lived in this area?",
                    ),
                    "minimum": 0,
                    "maximum": 100,
                    "unit": _t("Jahre", "years"),
                },
                {
                    "type": "long_text",
                    "key": "comments",
                    "text": _t(
                        "Möchten Sie uns noch etwas mitteilen?",
                        "Is there anything else you would like to tell us?",
                    ),
                    "max_length": 2000,
                },
            ],
        },
    ],
}

_AGE_WEIGHTS = [
    ("age_15_17", 3),
    ("age_18_26", 12),
    ("age_27_44", 38),
    ("age_45_54", 18),
    ("age_55_64", 12),
    ("age_65_plus", 10),
    ("no_answer", 7),
]
_COMMENTS = [
    "Die Wartelisten bei den Kitas sind zu lang.",
    "Mehr Angebote am Wochenende wären schön.",
    "Der Spielplatz an der Ecke ist seit Monaten gesperrt.",
    "Danke, dass Sie fragen!",
]


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([key for key, _ in pairs], weights=[w for _, w in pairs])[0]


def _answers(rng: random.Random, area: str, bias: float) -> tuple[dict[str, Any], dict[str, str]]:
    """One plausible resident; `bias` (0–1) shifts the area's needs."""
    age = _weighted(rng, _AGE_WEIGHTS)
    children = (
        "yes" if rng.random() < (0.65 if age in ("age_27_44", "age_45_54") else 0.2) else "no"
    )
    answers: dict[str, Any] = {"area": area, "age": age, "children": children}
    other: dict[str, str] = {}
    household = (
        _weighted(rng, [("single_parent", 3), ("couple_children", 6)])
        if children == "yes"
        else _weighted(rng, [("couple", 4), ("alone", 5)])
    )
    if rng.random() < 0.04:
        household = "other"
        other["household"] = "Mit den Großeltern"
    if rng.random() < 0.9:
        answers["household"] = household
    if children == "yes":
        family = ["kita", "after_school", "homework", "youth", "paediatrician", "counselling"]
        weights = [4 + 4 * bias, 3, 3 + 2 * bias, 2, 2 + 3 * bias, 2]
        chosen = sorted(set(rng.choices(family, weights=weights, k=rng.randint(1, 3))))
        if rng.random() < 0.05:
            chosen = [*chosen[:2], "other"]
            other["family_needs"] = "Sprachkurse für Eltern"
        answers["family_needs"] = chosen
        answers["childcare_access"] = min(5, max(1, round(rng.gauss(2.4 - bias, 1.1))))
    answers["safety"] = min(5, max(1, round(rng.gauss(3.4 - 1.2 * bias, 1.0))))
    needs = [
        "meeting_places",
        "debt_advice",
        "everyday_help",
        "housing",
        "doctors",
        "barrier_free",
        "transport",
        "seniors",
    ]
    weights = [3, 2 + 3 * bias, 2, 6, 3, 1, 2, 2]
    answers["neighbourhood_needs"] = sorted(
        set(rng.choices(needs, weights=weights, k=rng.randint(1, 3)))
    )
    priorities = [
        "playgrounds",
        "youth_centre",
        "family_centre",
        "green_spaces",
        "social_counselling",
    ]
    rng.shuffle(priorities)
    answers["priorities"] = priorities[: rng.randint(1, 3)]
    answers["years_here"] = min(100, int(rng.expovariate(1 / 9)))
    if rng.random() < 0.15:
        answers["comments"] = rng.choice(_COMMENTS)
    return answers, other


async def load(session: AsyncSession) -> str:
    process_id = await session.scalar(
        select(PlanningProcess.id).where(PlanningProcess.title == PROCESS_TITLE)
    )
    if process_id is None:
        return "surveys: demo skipped (no demo planning process)"
    if await session.scalar(select(func.count()).where(Survey.process_id == process_id)):
        return "surveys: demo skipped (the demo process has surveys)"
    if not await session.scalar(select(func.count()).select_from(AgeBand)):
        return "surveys: demo skipped (no social areas with population imported)"
    definition = msgspec.convert(DEFINITION, s.Definition)
    survey = await services.create_survey(
        session, process_id, s.SurveyCreate(definition=definition)
    )
    await services.publish_survey(session, survey.id)
    choices = await responses.area_choices(session, survey)
    if not choices:
        return "surveys: demo survey published without responses (no areas in scope)"
    rng = random.Random(SEED)  # noqa: S311 - synthetic demo data, not a secret
    biases = {code: rng.random() for _, code, _ in choices}
    ids = {code: area_id for area_id, code, _ in choices}
    rows: list[tuple[responses.Prepared, Any]] = []
    codes = list(ids)
    weights = [1 + 2 * biases[code] for code in codes]
    for _ in range(RESPONSES):
        code = rng.choices(codes, weights=weights)[0]
        answers, other = _answers(rng, code, biases[code])
        prepared = responses.prepare(definition, answers, other)
        rows.append((prepared, ids[code]))
    stored = await responses.insert_prepared(session, survey, rows, Channel.WEB)
    return (
        f"surveys: 1 published survey with {stored} synthetic responses over "
        f"{len(choices)} planning areas"
    )
