"""Request and response bodies of the inventory API (msgspec)."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct

from quartier.indicators.comparison import GapOut, MeasuredValue
from quartier.indicators.schemas import IndicatorOut
from quartier.inventory import models as m
from quartier.surveys.aggregation import CategoryRef, NeedFigure, Weighting

TargetGroup = Literal[
    "all_residents",
    "young_children",
    "school_children",
    "children_and_young_people",
    "young_people",
    "working_age",
    "older_people",
]
RoundStatus = Literal["pending", "confirmed", "updated"]
NO_NUL = r"^[^\x00]*$"
Key = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Code = Annotated[str, Meta(min_length=1, max_length=32, pattern=NO_NUL)]
Email = Annotated[
    str,
    Meta(
        max_length=m.EMAIL_MAX,
        pattern=r"^$|^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+\.[^@\x00-\x20\x7f]+$",
        description="The service's public contact address (not a person's private one)",
    ),
]


class ServiceIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """A service as an organisation records it; PUT replaces every field."""

    name: Annotated[str, Meta(min_length=1, max_length=m.NAME_MAX, pattern=NO_NUL)]
    description: Annotated[str, Meta(max_length=m.TEXT_MAX, pattern=NO_NUL)] = ""
    need_categories: Annotated[
        list[Key], Meta(min_length=1, max_length=20, description="Need category keys")
    ]
    target_groups: Annotated[list[TargetGroup], Meta(min_length=1, max_length=7)]
    area_codes: Annotated[
        list[Code], Meta(min_length=1, max_length=500, description="Social areas served")
    ]
    capacity: (
        Annotated[
            int,
            Meta(ge=0, le=m.CAPACITY_MAX, description="Places or capacity (e.g. places per week)"),
        ]
        | None
    ) = None
    capacity_unit: Annotated[
        str, Meta(max_length=m.UNIT_MAX, pattern=NO_NUL, description="e.g. `Plätze`")
    ] = ""
    opening_hours: Annotated[str, Meta(max_length=m.HOURS_MAX, pattern=NO_NUL)] = ""
    accessibility: Annotated[str, Meta(max_length=m.ACCESSIBILITY_MAX, pattern=NO_NUL)] = ""
    address: Annotated[str, Meta(max_length=m.ADDRESS_MAX, pattern=NO_NUL)] = ""
    contact_email: Email = ""
    contact_phone: Annotated[str, Meta(max_length=m.PHONE_MAX, pattern=r"^[0-9+()/. \-]*$")] = ""
    website: Annotated[
        str, Meta(max_length=m.WEBSITE_MAX, pattern=r"^$|^https?://[^\x00-\x20\x7f]+$")
    ] = ""
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None


class EndServiceIn(Struct, kw_only=True, forbid_unknown_fields=True):
    ends_on: Annotated[datetime.date, Meta(description="Last day the service is offered")]


class OrganisationRef(Struct, kw_only=True):
    id: UUID
    name: str


class AreaRef(Struct, kw_only=True):
    code: str
    name: str


class ServiceOut(Struct, kw_only=True):
    id: UUID
    organisation: OrganisationRef
    name: str
    description: str
    need_categories: list[CategoryRef]
    target_groups: list[str]
    areas: list[AreaRef]
    capacity: int | None
    capacity_unit: str
    opening_hours: str
    accessibility: str
    address: str
    contact_email: str
    contact_phone: str
    website: str
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    active: Annotated[bool, Meta(description="Offered today (started and not ended)")]
    confirmed_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class RoundIn(Struct, kw_only=True, forbid_unknown_fields=True):
    due_on: Annotated[datetime.date, Meta(description="Confirm or update by this day")]
    message: Annotated[str, Meta(max_length=m.TEXT_MAX, pattern=NO_NUL)] = ""
    organisation_ids: (
        Annotated[
            list[UUID],
            Meta(
                max_length=500,
                description="Organisations to ask (default: every active welfare organisation "
                "and every organisation with an active service)",
            ),
        ]
        | None
    ) = None
    send_mail: Annotated[
        bool, Meta(description="Mail the request to each organisation's contact address")
    ] = True


class RequestOut(Struct, kw_only=True):
    id: UUID
    organisation: OrganisationRef
    status: RoundStatus
    responded_at: datetime.datetime | None
    contact_email: Annotated[str, Meta(description="Empty: to contact by other means")]
    mailed: bool
    services: Annotated[int, Meta(description="The organisation's active services")]
    response_url: Annotated[
        str, Meta(description="The organisation's private link to confirm or update")
    ]


class Progress(Struct, kw_only=True):
    total: int
    confirmed: int
    updated: int
    pending: int


class RoundOut(Struct, kw_only=True):
    id: UUID
    process_id: UUID
    due_on: datetime.date
    message: str
    started_by: str
    started_at: datetime.datetime
    closed_at: datetime.datetime | None
    progress: Progress
    requests: list[RequestOut]


class SupplyArea(Struct, kw_only=True):
    area_id: UUID
    code: str
    name: str
    population: Annotated[
        int | None,
        Meta(
            description="Residents of the target group (latest population table); null if "
            "the age bands do not cover the group"
        ),
    ]
    services: Annotated[int, Meta(description="Active services serving the area or part of it")]
    capacity: Annotated[
        float, Meta(description="Capacity of those services, split evenly over their areas")
    ]
    services_per_1000: float | None
    capacity_per_1000: float | None
    respondents: Annotated[int | None, Meta(description="null when the area is withheld")]
    expressed: NeedFigure | None
    measured: list[MeasuredValue]
    gap: GapOut | None = None


class SupplyMetadata(Struct, kw_only=True):
    generated_at: datetime.datetime
    level: str
    target_group: str
    population_reference_date: datetime.date | None
    k_threshold: int
    min_respondents: int
    weighting: Weighting
    services_counted: int
    method: str


class SupplyComparison(Struct, kw_only=True):
    process_id: UUID
    need_category: CategoryRef
    indicators: list[IndicatorOut]
    metadata: SupplyMetadata
    areas: list[SupplyArea]
