"""A realistic 20-question needs-assessment survey and valid answers for it, for benchmarks.

Question mix as in a municipal needs survey: the respondent's planning area, an age band mapped
to the population bands, six single-choice and four multiple-choice questions tagged with need
categories, four ratings, two numbers, a short text and a ranking.
"""

from __future__ import annotations

import random
from typing import Any

NEEDS = [
    "childcare",
    "money_and_debt",
    "everyday_support",
    "belonging",
    "neighbourhood_services",
    "school_success",
    "health",
    "medical_care",
    "housing",
    "mobility",
    "elderly_care",
    "youth_work",
    "safety",
    "barrier_free",
]
AGE_OPTIONS = [
    ("a15", ["15_18"]),
    ("a18", ["18_27"]),
    ("a27", ["27_45"]),
    ("a45", ["45_55"]),
    ("a55", ["55_65"]),
    ("a65", ["above_65"]),
]


def _t(text: str) -> dict[str, str]:
    return {"de": text, "en": text}


def _options(prefix: str, count: int, offset: int) -> list[dict[str, Any]]:
    return [
        {
            "key": f"{prefix}{i}",
            "label": _t(f"Antwort {i}"),
            "need_categories": [NEEDS[(offset + i) % len(NEEDS)]] if i % 2 == 0 else [],
        }
        for i in range(count)
    ]


def definition() -> dict[str, Any]:
    questions: list[dict[str, Any]] = [
        {
            "type": "social_area",
            "key": "area",
            "text": _t("Wo wohnen Sie?"),
            "level": "planning_area",
            "required": True,
        },
        {
            "type": "age_band",
            "key": "age",
            "text": _t("Wie alt sind Sie?"),
            "required": True,
            "options": [
                {"key": key, "label": _t(key), "population_bands": bands}
                for key, bands in AGE_OPTIONS
            ],
        },
    ]
    questions += [
        {
            "type": "single_choice",
            "key": f"single{n}",
            "text": _t(f"Frage {n}"),
            "required": True,
            "options": _options("s", 5, n),
        }
        for n in range(6)
    ]
    questions += [
        {
            "type": "multiple_choice",
            "key": f"multi{n}",
            "text": _t(f"Mehrfachfrage {n}"),
            "required": True,
            "options": _options("m", 8, n),
            "min_selections": 1,
            "max_selections": 3,
        }
        for n in range(4)
    ]
    questions += [
        {
            "type": "rating",
            "key": f"rating{n}",
            "text": _t(f"Bewertung {n}"),
            "required": True,
            "min_label": _t("schlecht"),
            "max_label": _t("gut"),
            "need_values": [1, 2],
            "need_categories": [NEEDS[n]],
        }
        for n in range(4)
    ]
    questions += [
        {
            "type": "number",
            "key": f"number{n}",
            "text": _t(f"Zahl {n}"),
            "required": True,
            "minimum": 0,
            "maximum": 100,
        }
        for n in range(2)
    ]
    questions.append(
        {"type": "short_text", "key": "note", "text": _t("Was fehlt Ihnen?"), "max_length": 200}
    )
    questions.append(
        {
            "type": "ranking",
            "key": "priorities",
            "text": _t("Ihre Prioritäten"),
            "required": True,
            "options": _options("r", 5, 3),
            "min_ranked": 1,
            "max_ranked": 3,
        }
    )
    assert len(questions) == 20
    return {
        "title": _t("Bedarfsbefragung (Benchmark)"),
        "purpose": _t("Benchmark"),
        "organiser": _t("Quartier"),
        "estimated_minutes": 8,
        "privacy_note": _t("Anonym."),
        "pages": [{"key": f"p{i}", "questions": questions[i * 5 : (i + 1) * 5]} for i in range(4)],
    }


def answers(area_codes: list[str], rng: random.Random) -> dict[str, Any]:
    """A valid, varied set of answers to `definition()`."""
    result: dict[str, Any] = {
        "area": rng.choice(area_codes),
        "age": rng.choice(AGE_OPTIONS)[0],
    }
    for n in range(6):
        result[f"single{n}"] = f"s{rng.randrange(5)}"
    for n in range(4):
        result[f"multi{n}"] = [f"m{i}" for i in sorted(rng.sample(range(8), rng.randint(1, 3)))]
    for n in range(4):
        result[f"rating{n}"] = rng.randint(1, 5)
    for n in range(2):
        result[f"number{n}"] = rng.randint(0, 100)
    if rng.random() < 0.3:
        result["note"] = "Mehr Spielplätze und eine Beratungsstelle im Kiez."
    result["priorities"] = [f"r{i}" for i in rng.sample(range(5), 3)]
    return result
