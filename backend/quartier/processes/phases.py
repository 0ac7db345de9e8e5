"""The seven phases of the planning cycle (Planungskreislauf): keys, order and names.

This module owns the fixed vocabulary of the cycle — every other part of the processes domain
(models, participation registry, pages) refers to phases by :class:`PhaseKey`. English names
are gettext msgids for the pages; the German names are the official terms and are also what
the API returns for German (the default content language).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from quartier.core.i18n import current_language


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker for extraction
    """Mark a string for translation without translating it here."""
    return message


class PhaseKey(enum.StrEnum):
    GUIDELINES = "guidelines"
    NEEDS_ASSESSMENT = "needs_assessment"
    MEASURE_PLANNING = "measure_planning"
    RESOURCE_PROVISION = "resource_provision"
    SERVICE_DELIVERY = "service_delivery"
    EVALUATION = "evaluation"
    SOCIAL_REPORTING = "social_reporting"


@dataclass(frozen=True, slots=True)
class PhaseInfo:
    key: PhaseKey
    position: int
    name: str  # English msgid
    name_de: str
    short_name: str  # English msgid, for the cycle picture
    short_name_de: str
    description: str  # English msgid
    description_de: str

    def localized_name(self, language: str | None = None) -> str:
        return self.name_de if (language or current_language()).startswith("de") else self.name

    def localized_description(self, language: str | None = None) -> str:
        language = language or current_language()
        return self.description_de if language.startswith("de") else self.description


PHASES: tuple[PhaseInfo, ...] = (
    PhaseInfo(
        PhaseKey.GUIDELINES,
        1,
        N_("Social policy guidelines and political mandate"),
        "Sozialpolitische Leitlinien, politische Auftragserteilung",
        N_("Guidelines"),
        "Leitlinien",
        N_(
            "The council or a committee commissions the planning: who asks whom, with which "
            "aim, reporting to whom."
        ),
        "Rat oder Ausschuss erteilen den Planungsauftrag: wer beauftragt wen, mit welchem Ziel, "
        "mit Bericht an wen.",
    ),
    PhaseInfo(
        PhaseKey.NEEDS_ASSESSMENT,
        2,
        N_("Goals based on the needs assessment"),
        "Zieldefinition auf Basis der Bedarfsermittlung",
        N_("Needs"),
        "Bedarfe",
        N_("Needs are assessed through surveys, expert input and indicators; goals are set."),
        "Bedarfe werden ermittelt (Befragungen, fachliche Expertise, Indikatoren); Ziele "
        "werden festgelegt.",
    ),
    PhaseInfo(
        PhaseKey.MEASURE_PLANNING,
        3,
        N_("Product and measure planning with resource planning"),
        "Produkt- und Maßnahmenplanung mit Ressourcenplanung",
        N_("Measures"),
        "Maßnahmen",
        N_(
            "Measures are derived from the needs, with the resources they require and criteria "
            "of success."
        ),
        "Maßnahmen werden aus den Bedarfen abgeleitet, mit den nötigen Ressourcen und "
        "Kriterien der Zielerreichung.",
    ),
    PhaseInfo(
        PhaseKey.RESOURCE_PROVISION,
        4,
        N_("Provision of resources and services"),
        "Bereitstellung von Ressourcen und Leistungen",
        N_("Resources"),
        "Ressourcen",
        N_("Budget, tenders and contracts with service providers."),
        "Haushaltsplanung, Ausschreibungen und Verträge mit Leistungserbringern.",
    ),
    PhaseInfo(
        PhaseKey.SERVICE_DELIVERY,
        5,
        N_("Service delivery"),
        "Leistungserbringung",
        N_("Services"),
        "Leistungen",
        N_("Providers deliver under agreements on service, fee and quality."),
        "Leistungserbringer arbeiten nach Vereinbarungen über Leistung, Entgelt und Qualität.",
    ),
    PhaseInfo(
        PhaseKey.EVALUATION,
        6,
        N_("Review of impact and efficiency"),
        "Überprüfung von Wirkung und Wirtschaftlichkeit",
        N_("Impact"),
        "Wirkung",
        N_("The agreed criteria are measured; impact and efficiency are assessed."),
        "Die vereinbarten Kriterien werden erhoben; Wirkung und Wirtschaftlichkeit werden "
        "bewertet.",
    ),
    PhaseInfo(
        PhaseKey.SOCIAL_REPORTING,
        7,
        N_("Social reporting"),
        "Sozialberichterstattung",
        N_("Social report"),
        "Sozialbericht",
        N_(
            "Results of the needs assessment and the evaluation become the social report, the "
            "basis for the next guidelines."
        ),
        "Ergebnisse von Bedarfsermittlung und Wirkungsprüfung fließen in den Sozialbericht, "
        "die Grundlage der nächsten Leitlinien.",
    ),
)

PHASE_INFO: dict[PhaseKey, PhaseInfo] = {info.key: info for info in PHASES}
PHASE_ORDER: tuple[PhaseKey, ...] = tuple(info.key for info in PHASES)
FIRST_PHASE = PhaseKey.GUIDELINES
LAST_PHASE = PhaseKey.SOCIAL_REPORTING


def next_phase(key: PhaseKey) -> PhaseKey:
    """The phase after `key`; the cycle wraps from social reporting to guidelines."""
    return PHASE_ORDER[(PHASE_INFO[key].position) % len(PHASE_ORDER)]
