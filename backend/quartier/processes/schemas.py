"""Request and response bodies of the processes API (msgspec Structs).

Inputs forbid unknown fields and bound every string, number and list; PATCH bodies use
``msgspec.UNSET`` so that only the fields sent are changed.

Texts residents read (title, description, phase notes, the mandate) are German in their own
fields, as in v1 from the start; a `translations` beside them gives them in further languages,
one object per language (`processes.translations`): the process's for its title, topic and
description, each phase's for its notes, the mandate's for its texts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field

from quartier.core.translations import Translations, TranslationsUpdate
from quartier.processes.models import ActorKind, OrganisationType, ProcessStatus, RoleKind
from quartier.processes.phases import PhaseKey

Title = Annotated[str, Meta(min_length=1, max_length=200, description="Short title")]
Topic = Annotated[str, Meta(min_length=1, max_length=200, description="Topic, e.g. child poverty")]
LongText = Annotated[str, Meta(max_length=10_000)]
Note = Annotated[str, Meta(max_length=4_000)]
Party = Annotated[str, Meta(max_length=300)]
Recipients = Annotated[str, Meta(max_length=500)]
AreaCode = Annotated[
    str, Meta(min_length=1, max_length=32, description="Official code of a social area")
]
AreaCodes = Annotated[list[AreaCode], Meta(max_length=500, description="Social areas in scope")]
OrganisationName = Annotated[str, Meta(min_length=1, max_length=200)]
ShortName = Annotated[str, Meta(max_length=50)]
# Explicit ranges rather than \S: ECMAScript and Python disagree on what \s covers.
Website = Annotated[str, Meta(max_length=500, pattern=r"^(https?://[^\x00-\x20\x7f]+)?$")]
ContributionText = Annotated[str, Meta(min_length=1, max_length=2_000)]
TranslatedTitle = Annotated[
    str, Meta(max_length=200, description="Title in this language; empty: the German title")
]
TranslatedTopic = Annotated[
    str, Meta(max_length=200, description="Topic in this language; empty: the German topic")
]
TranslatedDescription = Annotated[
    str, Meta(max_length=10_000, description="Description in this language; empty: the German one")
]
TranslatedNote = Annotated[
    str, Meta(max_length=4_000, description="Note in this language; empty: the German note")
]
TranslatedParty = Annotated[
    str, Meta(max_length=300, description="In this language; empty: the German text")
]
TranslatedMandateText = Annotated[
    str, Meta(max_length=4_000, description="In this language; empty: the German text")
]
TranslatedRecipients = Annotated[
    str, Meta(max_length=500, description="In this language; empty: the German text")
]


# -- translations ---------------------------------------------------------------------------


class ProcessText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A process's title, topic and description in one language beside German (what is left
    empty is shown in German, with a note saying so)."""

    title: TranslatedTitle = ""
    topic: TranslatedTopic = ""
    description: TranslatedDescription = ""


class PhaseText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A phase's three notes in one language beside German (what is left empty is shown in
    German, with a note saying so)."""

    what_is_done: TranslatedNote = ""
    who_takes_part: TranslatedNote = ""
    watch_out_for: TranslatedNote = ""


class MandateText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The mandate's texts in one language beside German, each bounded like its German text
    (what is left empty is shown in German, with a note saying so)."""

    commissioned_by: TranslatedParty = ""
    commissioned_to: TranslatedParty = ""
    aim: TranslatedMandateText = ""
    occasion: TranslatedMandateText = ""
    report_recipients: TranslatedRecipients = ""


class ProcessTranslations(Translations[ProcessText]):
    """Title, topic and description per language beside German: English, easy-read German
    (`de-x-simple`), Turkish, Arabic. Only languages the deployment enables are accepted."""


class ProcessTranslationsUpdate(TranslationsUpdate[ProcessText]):
    """Per language: an object replaces that language's title, topic and description, null
    removes them, a language not sent keeps them."""


class PhaseTranslations(Translations[PhaseText]):
    """The phase notes per language beside German (as for the process's texts)."""


class PhaseTranslationsUpdate(TranslationsUpdate[PhaseText]):
    """Per language: an object replaces that language's notes, null removes them, a language
    not sent keeps its notes."""


class MandateTranslations(Translations[MandateText]):
    """The mandate's texts per language beside German (as for the process's texts)."""


class MandateTranslationsUpdate(TranslationsUpdate[MandateText]):
    """Per language: an object replaces that language's mandate texts, null removes them, a
    language not sent keeps them."""


# -- processes ------------------------------------------------------------------------------


class Mandate(Struct, kw_only=True, forbid_unknown_fields=True):
    """The mandate (Auftrag): who commissions whom, with which aim and occasion, reporting to
    whom; German, with `translations` into further languages."""

    commissioned_by: Party = ""
    commissioned_to: Party = ""
    aim: Note = ""
    occasion: Note = ""
    report_recipients: Recipients = ""
    translations: Annotated[
        MandateTranslations, Meta(description="The mandate's texts in languages beside German")
    ] = field(default_factory=MandateTranslations)


class MandateUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    commissioned_by: Party | UnsetType = UNSET
    commissioned_to: Party | UnsetType = UNSET
    aim: Note | UnsetType = UNSET
    occasion: Note | UnsetType = UNSET
    report_recipients: Recipients | UnsetType = UNSET
    translations: MandateTranslationsUpdate | UnsetType = UNSET


class ProcessCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    """A new planning process; it starts as a draft in the `guidelines` phase."""

    title: Title
    topic: Topic
    description: LongText = ""
    area_codes: AreaCodes = field(default_factory=list)
    mandate: Mandate = field(default_factory=Mandate)
    internal_notes: LongText = ""
    translations: ProcessTranslations = field(default_factory=ProcessTranslations)


class ProcessUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to a process: only the fields sent are changed; `area_codes` replaces the set."""

    title: Title | UnsetType = UNSET
    topic: Topic | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    area_codes: AreaCodes | UnsetType = UNSET
    mandate: MandateUpdate | UnsetType = UNSET
    internal_notes: LongText | UnsetType = UNSET
    translations: ProcessTranslationsUpdate | UnsetType = UNSET


class AreaRef(Struct, kw_only=True):
    id: UUID
    code: str
    name: str


class Phase(Struct, kw_only=True):
    """One phase of a process's planning cycle with its dates and three notes."""

    key: PhaseKey
    position: Annotated[int, Meta(ge=1, le=7)]
    name: Annotated[str, Meta(description="Name in the negotiated language")]
    description: str
    is_active: bool
    activated_at: datetime | None
    planned_start: date | None
    planned_end: date | None
    what_is_done: Annotated[str, Meta(description="What is done (Konkret)")]
    who_takes_part: Annotated[str, Meta(description="Who takes part (Beteiligte)")]
    watch_out_for: Annotated[str, Meta(description="What to watch out for (Zu beachten)")]
    translations: Annotated[
        PhaseTranslations, Meta(description="The three notes in languages beside German")
    ]


class PhaseUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    """Planned dates and notes of a phase; only the fields sent are changed, null clears a
    date."""

    planned_start: date | UnsetType | None = UNSET
    planned_end: date | UnsetType | None = UNSET
    what_is_done: Note | UnsetType = UNSET
    who_takes_part: Note | UnsetType = UNSET
    watch_out_for: Note | UnsetType = UNSET
    translations: PhaseTranslationsUpdate | UnsetType = UNSET


class ProcessSummary(Struct, kw_only=True):
    id: UUID
    title: str
    topic: str
    status: ProcessStatus
    cycle: int
    active_phase: PhaseKey
    active_phase_name: str
    areas: list[AreaRef]
    created_at: datetime
    updated_at: datetime


class Process(ProcessSummary, kw_only=True):
    description: str
    translations: Annotated[
        ProcessTranslations,
        Meta(description="Title, topic and description in languages beside German"),
    ]
    mandate: Mandate
    previous_process_id: UUID | None
    next_process_id: UUID | None
    phases: list[Phase]
    internal_notes: Annotated[
        str | None,
        Meta(description="Staff-only notes; null unless the caller may read internal notes"),
    ]


class PhaseActivation(Struct, kw_only=True):
    """One switch of the active phase: to which phase, from which, by whom, when."""

    id: UUID
    process_id: UUID
    phase: PhaseKey
    previous_phase: PhaseKey | None
    activated_at: datetime
    actor_kind: ActorKind
    actor_id: UUID | None
    actor_name: str


# -- organisations ----------------------------------------------------------------------------


class OrganisationCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    name: OrganisationName
    type: OrganisationType
    short_name: ShortName = ""
    description: LongText = ""
    website: Website = ""


class OrganisationUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    name: OrganisationName | UnsetType = UNSET
    type: OrganisationType | UnsetType = UNSET
    short_name: ShortName | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    website: Website | UnsetType = UNSET
    is_active: (
        Annotated[
            bool,
            Meta(
                description="false deactivates the organisation: it keeps its roles and "
                "contributions but gets no new roles"
            ),
        ]
        | UnsetType
    ) = UNSET


class OrganisationRef(Struct, kw_only=True):
    id: UUID
    name: str
    short_name: str
    type: OrganisationType


class Organisation(OrganisationRef, kw_only=True):
    description: str
    website: str
    is_active: Annotated[bool, Meta(description="Deactivated organisations get no new roles")]
    created_at: datetime
    updated_at: datetime


class ProcessRoleCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    organisation_id: UUID
    phase: PhaseKey
    role: RoleKind


class ProcessRole(Struct, kw_only=True):
    id: UUID
    process_id: UUID
    organisation: OrganisationRef
    phase: PhaseKey
    role: RoleKind


class ContributionSet(Struct, kw_only=True, forbid_unknown_fields=True):
    text: ContributionText


class Contribution(Struct, kw_only=True):
    id: UUID
    process_id: UUID
    organisation: OrganisationRef
    phase: PhaseKey
    text: str
    updated_at: datetime


class MatrixPhase(Struct, kw_only=True):
    key: PhaseKey
    name: str


class MatrixCell(Struct, kw_only=True):
    phase: PhaseKey
    contribution: str | None
    roles: list[RoleKind]


class MatrixRow(Struct, kw_only=True):
    organisation: OrganisationRef
    cells: Annotated[list[MatrixCell], Meta(description="One cell per phase, in cycle order")]


class ContributionsMatrix(Struct, kw_only=True):
    """Organisations × phases: what each organisation contributes, and its roles."""

    process_id: UUID
    phases: list[MatrixPhase]
    rows: list[MatrixRow]


# -- participation ----------------------------------------------------------------------------


class ParticipationModuleInfo(Struct, kw_only=True):
    key: str
    name: str
    default_phases: list[PhaseKey]
    actions: list[str]


class ParticipationOverrideSet(Struct, kw_only=True, forbid_unknown_fields=True):
    is_open: bool


class ParticipationOverride(Struct, kw_only=True):
    module: str
    phase: PhaseKey
    is_open: bool


class ModuleStatus(Struct, kw_only=True):
    module: str
    name: str
    open_now: bool
    default_phases: list[PhaseKey]
    open_phases: Annotated[list[PhaseKey], Meta(description="Defaults with overrides applied")]
    overrides: list[ParticipationOverride]


class ParticipationStatus(Struct, kw_only=True):
    process_id: UUID
    status: ProcessStatus
    active_phase: PhaseKey
    open_now: Annotated[list[str], Meta(description="Modules residents can use right now")]
    modules: list[ModuleStatus]
