"""The seven phases of the planning cycle (Planungskreislauf): keys, order and names.

This module owns the fixed vocabulary of the cycle — every other part of the processes domain
(models, participation registry, pages) refers to phases by :class:`PhaseKey`. Names and
descriptions are English gettext msgids; the German catalogue (frontend/locales) holds the
official German terms (e.g. "Sozialpolitische Leitlinien, politische Auftragserteilung"), and the
API and the pages both translate through it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from quartier.core.i18n import gettext


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
    short_name: str  # English msgid, for the cycle picture
    description: str  # English msgid

    def localized_name(self) -> str:
        """The name in the negotiated language."""
        return gettext(self.name)

    def localized_description(self) -> str:
        return gettext(self.description)


PHASES: tuple[PhaseInfo, ...] = (
    PhaseInfo(
        PhaseKey.GUIDELINES,
        1,
        N_("Social policy guidelines and political mandate"),
        N_("Guidelines"),
        N_(
            "The council or a committee commissions the planning: who asks whom, with which "
            "aim, reporting to whom."
        ),
    ),
    PhaseInfo(
        PhaseKey.NEEDS_ASSESSMENT,
        2,
        N_("Goals based on the needs assessment"),
        N_("Needs"),
        N_("Needs are assessed through surveys, expert input and indicators; goals are set."),
    ),
    PhaseInfo(
        PhaseKey.MEASURE_PLANNING,
        3,
        N_("Product and measure planning with resource planning"),
        N_("Measures"),
        N_(
            "Measures are derived from the needs, with the resources they require and criteria "
            "of success."
        ),
    ),
    PhaseInfo(
        PhaseKey.RESOURCE_PROVISION,
        4,
        N_("Provision of resources and services"),
        N_("Resources"),
        N_("Budget, tenders and contracts with service providers."),
    ),
    PhaseInfo(
        PhaseKey.SERVICE_DELIVERY,
        5,
        N_("Service delivery"),
        N_("Services"),
        N_("Providers deliver under agreements on service, fee and quality."),
    ),
    PhaseInfo(
        PhaseKey.EVALUATION,
        6,
        N_("Review of impact and efficiency"),
        N_("Impact"),
        N_("The agreed criteria are measured; impact and efficiency are assessed."),
    ),
    PhaseInfo(
        PhaseKey.SOCIAL_REPORTING,
        7,
        N_("Social reporting"),
        N_("Social report"),
        N_(
            "Results of the needs assessment and the evaluation become the social report, the "
            "basis for the next guidelines."
        ),
    ),
)

PHASE_INFO: dict[PhaseKey, PhaseInfo] = {info.key: info for info in PHASES}
PHASE_ORDER: tuple[PhaseKey, ...] = tuple(info.key for info in PHASES)
FIRST_PHASE = PhaseKey.GUIDELINES
LAST_PHASE = PhaseKey.SOCIAL_REPORTING
