"""The open-data catalogue: what a municipality publishes, as DCAT-AP.de in JSON-LD.

Datasets, each with its distributions (stable download URLs of existing exports):

* **Social areas** — boundaries and population per level: the GeoJSON export of each level
  (ExportSocialAreasGeoJSON). Licence and attribution of the area data come from the settings
  (`QUARTIER_AREA_DATA_LICENCE` / `_ATTRIBUTION`; Berlin's LOR data are CC BY 4.0 and must name
  their sources).
* **Aggregated needs of each closed survey whose results the planners made public**
  (SetSurveyResultsPublication) — JSON, CSV, CSV for German Excel, XLSX and GeoJSON at the level
  the survey asks for (ExportOpenSurveyNeeds), disclosure-controlled like every other output
  (stats.cellkey). Licence: the municipality's (`QUARTIER_OPEN_DATA_LICENCE`, default Datenlizenz
  Deutschland – Namensnennung 2.0), attributed to the municipality and the area data's sources.
* **Indicators** — values per level (ListIndicatorValues), with each indicator's own source
  and licence.

Vocabularies: DCAT 2 (`dcat`), DCMI terms (`dct`), DCAT-AP.de (`dcatde`, licences from
`http://dcat-ap.de/def/licenses/`), FOAF (publisher), vCard (contact point), the EU
authority tables for file types, languages and data themes, IANA media types, and GeoSPARQL
WKT literals for bounding boxes. Every figure here comes from stored data; nothing about a
person is published.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AreaLevel, AreaPopulation, SocialArea
from quartier.indicators.models import Indicator
from quartier.processes.models import PlanningProcess, ProcessStatus, process_areas
from quartier.settings import Settings
from quartier.surveys import definition as d
from quartier.surveys.exports import Format
from quartier.surveys.models import Survey, SurveyResponse, SurveyStatus

MEDIA_TYPE = "application/ld+json"
CATALOG_PATH = "/api/v1/catalog"

CONTEXT: dict[str, str] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatde": "http://dcat-ap.de/def/dcatde/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
}
LICENCES = "http://dcat-ap.de/def/licenses/"
FILE_TYPES = "http://publications.europa.eu/resource/authority/file-type/"
THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
GERMAN = "http://publications.europa.eu/resource/authority/language/DEU"
IANA = "https://www.iana.org/assignments/media-types/"

# The open survey export: every format, its media type and EU file type.
SURVEY_FORMATS: tuple[tuple[Format, str, str, str], ...] = (
    (Format.JSON, "application/json", "JSON", "JSON"),
    (Format.CSV, "text/csv", "CSV", "CSV (UTF-8, Komma)"),
    (Format.CSV_DE, "text/csv", "CSV", "CSV für deutsches Excel (Semikolon, Dezimalkomma)"),
    (
        Format.XLSX,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "XLSX",
        "Excel-Arbeitsmappe",
    ),
    (Format.GEOJSON, "application/geo+json", "GEOJSON", "GeoJSON mit Gebietsgrenzen"),
)

# Free-text licences as indicators record them → DCAT-AP.de licence keys.
_LICENCE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^cc[ -]?by[ -]?4(\.0)?$", "cc-by/4.0"),
    (r"^cc[ -]?by[ -]?sa[ -]?4(\.0)?$", "cc-by-sa/4.0"),
    (r"^(cc[ -]?0|cc[ -]?zero)( 1\.0)?$", "cc-zero"),
    (r"^dl[ -]?de[ /-]?by[ /-]?2[.-]?0$", "dl-by-de/2.0"),
    (r"^dl[ -]?by[ -]?de[ /-]?2[.-]?0$", "dl-by-de/2.0"),
    (r"^dl[ -]?de[ /-]?zero[ /-]?2[.-]?0$", "dl-zero-de/2.0"),
    (r"^dl[ -]?zero[ -]?de[ /-]?2[.-]?0$", "dl-zero-de/2.0"),
)


def licence_key(text_: str) -> str | None:
    """The DCAT-AP.de licence key of a licence named in free text, or None if unknown."""
    normalised = " ".join(text_.strip().lower().replace("_", "-").split())
    for pattern, key in _LICENCE_PATTERNS:
        if re.match(pattern, normalised):
            return key
    return None


# -- JSON-LD helpers -------------------------------------------------------------------------------


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def _date(value: datetime.date) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:date"}


def _datetime(value: datetime.datetime) -> dict[str, str]:
    moment = value.astimezone(datetime.UTC).replace(microsecond=0)
    return {"@value": moment.isoformat().replace("+00:00", "Z"), "@type": "xsd:dateTime"}


def _texts(texts: dict[str, str]) -> list[dict[str, str]]:
    """A multilingual text as language-tagged literals (German first)."""
    ordered = sorted(texts.items(), key=lambda item: (item[0] != "de", item[0]))
    return [{"@value": value, "@language": language} for language, value in ordered if value]


def _de(value: str) -> dict[str, str]:
    return {"@value": value, "@language": "de"}


def _bbox(box: tuple[float, float, float, float] | None) -> dict[str, str] | None:
    if box is None:
        return None
    west, south, east, north = (round(v, 6) for v in box)
    wkt = (
        f"POLYGON(({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}))"
    )
    return {"@value": wkt, "@type": "gsp:wktLiteral"}


def _spatial(
    box: tuple[float, float, float, float] | None, codes: list[str] | None = None
) -> dict[str, Any]:
    location: dict[str, Any] = {"@type": "dct:Location"}
    wkt = _bbox(box)
    if wkt is not None:
        location["dcat:bbox"] = wkt
    if codes:
        location["dct:identifier"] = codes
    return location


def _temporal(start: datetime.date | None, end: datetime.date | None) -> dict[str, Any] | None:
    if start is None and end is None:
        return None
    period: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
    if start is not None:
        period["dcat:startDate"] = _date(start)
    if end is not None:
        period["dcat:endDate"] = _date(end)
    return period


@dataclass(frozen=True, slots=True)
class Licence:
    key: str | None  # DCAT-AP.de licence key; None: unknown (free text kept as dct:rights)
    attribution: str
    text: str | None = None

    def properties(self) -> dict[str, Any]:
        found: dict[str, Any] = {"dcatde:licenseAttributionByText": self.attribution}
        if self.key is not None:
            found["dct:license"] = _ref(LICENCES + self.key)
        if self.text is not None and self.key is None:
            found["dct:rights"] = _de(self.text)
        return found


def _distribution(
    url: str,
    *,
    title: str,
    media_type: str,
    file_type: str,
    licence: Licence,
    modified: datetime.datetime | None,
) -> dict[str, Any]:
    distribution: dict[str, Any] = {
        "@type": "dcat:Distribution",
        "dct:title": _de(title),
        "dcat:accessURL": _ref(url),
        "dcat:downloadURL": _ref(url),
        "dcat:mediaType": _ref(IANA + media_type),
        "dct:format": _ref(FILE_TYPES + file_type),
        **licence.properties(),
    }
    if modified is not None:
        distribution["dct:modified"] = _datetime(modified)
    return distribution


class Catalog:
    """Builds the catalogue for one deployment (settings: publisher, base URL, licences)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.base_url.rstrip("/")
        self.publisher = {"@type": "foaf:Agent", "foaf:name": settings.municipality_name}
        self.contact = {"@type": "vcard:Organization", "vcard:fn": settings.municipality_name}
        self.area_licence = Licence(settings.area_data_licence, settings.area_data_attribution)
        own = settings.open_data_attribution or settings.municipality_name
        self.municipal_licence = Licence(
            settings.open_data_licence, f"{own}; Gebietsdaten: {settings.area_data_attribution}"
        )

    def url(self, path: str, **query: str) -> str:
        return self.base + path + ("?" + urlencode(query) if query else "")

    def dataset(
        self,
        fragment: str,
        *,
        identifier: str,
        title: list[dict[str, str]] | dict[str, str],
        description: list[dict[str, str]] | dict[str, str],
        keywords: list[str],
        theme: str,
        spatial: dict[str, Any],
        temporal: dict[str, Any] | None,
        modified: datetime.datetime | None,
        distributions: list[dict[str, Any]],
    ) -> dict[str, Any]:
        dataset: dict[str, Any] = {
            "@id": self.url(CATALOG_PATH) + "#" + fragment,
            "@type": "dcat:Dataset",
            "dct:identifier": identifier,
            "dct:title": title,
            "dct:description": description,
            "dct:publisher": self.publisher,
            "dcat:contactPoint": self.contact,
            "dct:language": _ref(GERMAN),
            "dcat:theme": _ref(THEMES + theme),
            "dcat:keyword": [_de(keyword) for keyword in keywords],
            "dct:spatial": spatial,
            "dcat:distribution": distributions,
        }
        if temporal is not None:
            dataset["dct:temporal"] = temporal
        if modified is not None:
            dataset["dct:modified"] = _datetime(modified)
        return dataset


async def _areas_dataset(session: AsyncSession, catalog: Catalog) -> tuple[dict[str, Any], Any]:
    levels = (
        await session.execute(
            select(
                AreaLevel.key,
                AreaLevel.name_de,
                func.count(SocialArea.id),
                func.min(SocialArea.min_lon),
                func.min(SocialArea.min_lat),
                func.max(SocialArea.max_lon),
                func.max(SocialArea.max_lat),
                func.max(func.greatest(SocialArea.updated_at, AreaLevel.updated_at)),
            )
            .join(SocialArea, SocialArea.level_id == AreaLevel.id)
            .group_by(AreaLevel.id)
            .order_by(AreaLevel.depth)
        )
    ).all()
    population = (
        await session.execute(
            select(
                func.min(AreaPopulation.reference_date),
                func.max(AreaPopulation.reference_date),
                func.max(AreaPopulation.updated_at),
            )
        )
    ).one()
    moments = [row[7] for row in levels if row[7] is not None]
    if population[2] is not None:
        moments.append(population[2])
    modified = max(moments) if moments else None
    boxes = [row[3:7] for row in levels if row[3] is not None]
    box = (
        (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        if boxes
        else None
    )
    distributions = [
        _distribution(
            catalog.url("/api/v1/social-areas/geojson", level=key),
            title=f"{name} ({count} Gebiete), GeoJSON",
            media_type="application/geo+json",
            file_type="GEOJSON",
            licence=catalog.area_licence,
            modified=level_modified,
        )
        for key, name, count, *_, level_modified in levels
    ]
    dataset = catalog.dataset(
        "social-areas",
        identifier="social-areas",
        title=[
            _de("Sozialräume mit Grenzen und Einwohnerzahlen"),
            {"@value": "Social areas with boundaries and population", "@language": "en"},
        ],
        description=_de(
            "Die Sozialräume der Sozialplanung auf allen Ebenen der Gebietshierarchie mit "
            "amtlichem Schlüssel, Name, übergeordnetem Gebiet, Fläche, Grenze (WGS 84) und "
            "Einwohnerzahlen zum jüngsten Stichtag (insgesamt, nach Geschlecht und "
            "Altersgruppen), je Ebene als GeoJSON."
        ),
        keywords=["Sozialraum", "Sozialplanung", "Gebietsgliederung", "Einwohner"],
        theme="REGI",
        spatial=_spatial(box),
        temporal=_temporal(population[0], population[1]),
        modified=modified,
        distributions=distributions,
    )
    return dataset, modified


async def open_surveys(session: AsyncSession) -> list[Survey]:
    """Closed surveys whose results are public, of processes that are not drafts."""
    return list(
        (
            await session.scalars(
                select(Survey)
                .join(PlanningProcess, PlanningProcess.id == Survey.process_id)
                .where(
                    Survey.status == SurveyStatus.CLOSED.value,
                    Survey.results_public.is_(True),
                    PlanningProcess.status != ProcessStatus.DRAFT,
                )
                .order_by(Survey.closed_at, Survey.id)
            )
        ).all()
    )


def survey_level(survey: Survey) -> str:
    """The level the survey asks for: the finest level its needs can be exported at."""
    return str(d.social_area_question(d.definition_of(survey)).level)


async def _scope(
    session: AsyncSession, process_id: UUID
) -> tuple[list[str], tuple[float, float, float, float] | None]:
    """The codes of the areas a process names and their bounding box (all areas if none)."""
    named = select(process_areas.c.area_id).where(process_areas.c.process_id == process_id)
    codes = list(
        (
            await session.scalars(
                select(SocialArea.code).where(SocialArea.id.in_(named)).order_by(SocialArea.code)
            )
        ).all()
    )
    bounds = select(
        func.min(SocialArea.min_lon),
        func.min(SocialArea.min_lat),
        func.max(SocialArea.max_lon),
        func.max(SocialArea.max_lat),
    )
    if codes:
        bounds = bounds.where(SocialArea.id.in_(named))
    row = (await session.execute(bounds)).one()
    return codes, (None if row[0] is None else (row[0], row[1], row[2], row[3]))


async def survey_modified(session: AsyncSession, survey: Survey) -> datetime.datetime:
    """When the survey's published figures last changed: its own changes and the latest
    response (staff may enter paper questionnaires after closing)."""
    latest = await session.scalar(
        select(func.max(SurveyResponse.updated_at)).where(SurveyResponse.survey_id == survey.id)
    )
    return max(m for m in (survey.updated_at, survey.closed_at, latest) if m is not None)


async def _survey_datasets(
    session: AsyncSession, catalog: Catalog
) -> tuple[list[dict[str, Any]], list[datetime.datetime]]:
    datasets: list[dict[str, Any]] = []
    moments: list[datetime.datetime] = []
    for survey in await open_surveys(session):
        level = survey_level(survey)
        codes, box = await _scope(session, survey.process_id)
        modified = await survey_modified(session, survey)
        moments.append(modified)
        path = f"/api/v1/open-data/surveys/{survey.id}/aggregated-needs"
        distributions = [
            _distribution(
                catalog.url(path, level=level, format=fmt.value),
                title=title,
                media_type=media_type,
                file_type=file_type,
                licence=catalog.municipal_licence,
                modified=modified,
            )
            for fmt, media_type, file_type, title in SURVEY_FORMATS
        ]
        wording = {"de": "Bedarfe aus der Befragung „{}“", "en": "Needs from the survey “{}”"}
        title = _texts({k: wording.get(k, "{}").format(v) for k, v in survey.title.items()})
        datasets.append(
            catalog.dataset(
                f"survey-{survey.id}",
                identifier=str(survey.id),
                title=title,
                description=_de(
                    "Geäußerte Bedarfe je Sozialraum aus einer abgeschlossenen Befragung: "
                    "Antwortende, Antwortende mit Bedarf je Bedarfskategorie, Anteile mit "
                    "95%-Konfidenzintervall. Geheimhaltung nach dem Cell-Key-Verfahren: jede "
                    "Zahl ist überlagert, Werte unter der Schwelle k werden als 0 "
                    "veröffentlicht, Gebiete mit zu wenigen Antwortenden werden nicht gezeigt."
                ),
                keywords=["Bedarfe", "Befragung", "Sozialplanung", "Beteiligung"],
                theme="SOCI",
                spatial=_spatial(box, codes),
                temporal=_temporal(
                    survey.published_at.date() if survey.published_at else None,
                    survey.closed_at.date() if survey.closed_at else None,
                ),
                modified=modified,
                distributions=distributions,
            )
        )
    return datasets, moments


async def _indicator_datasets(
    session: AsyncSession, catalog: Catalog
) -> tuple[list[dict[str, Any]], list[datetime.datetime]]:
    rows = (
        await session.execute(
            text(
                """
                SELECT i.id, min(v.reference_date), max(v.reference_date),
                       greatest(i.updated_at, max(v.updated_at)),
                       array_agg(DISTINCT l.key), min(a.min_lon), min(a.min_lat),
                       max(a.max_lon), max(a.max_lat)
                FROM indicators i
                JOIN indicator_values v ON v.indicator_id = i.id
                JOIN social_areas a ON a.id = v.area_id
                JOIN area_levels l ON l.id = a.level_id
                GROUP BY i.id
                """
            )
        )
    ).all()
    figures = {row[0]: row[1:] for row in rows}
    indicators = (await session.scalars(select(Indicator).order_by(Indicator.key))).all()
    datasets: list[dict[str, Any]] = []
    moments: list[datetime.datetime] = []
    for indicator in indicators:
        found = figures.get(indicator.id)
        if found is None:
            continue  # no values: nothing to publish yet
        start, end, modified, level_keys, *box = found
        moments.append(modified)
        licence = Licence(licence_key(indicator.licence), indicator.source, text=indicator.licence)
        distributions = [
            _distribution(
                catalog.url(f"/api/v1/indicators/{indicator.key}/values", level=level),
                title=f"Werte je Gebiet der Ebene {level} (jüngster Stichtag), JSON",
                media_type="application/json",
                file_type="JSON",
                licence=licence,
                modified=modified,
            )
            for level in sorted(level_keys)
        ]
        datasets.append(
            catalog.dataset(
                f"indicator-{indicator.key}",
                identifier=indicator.key,
                title=_texts({"de": indicator.name_de, "en": indicator.name_en}),
                description=_de(
                    f"Indikator „{indicator.name_de}“ ({indicator.unit}) je Sozialraum. "
                    f"Quelle: {indicator.source}."
                ),
                keywords=["Indikator", "Sozialmonitoring", indicator.key],
                theme="SOCI",
                spatial=_spatial(None if box[0] is None else (box[0], box[1], box[2], box[3])),
                temporal=_temporal(start, end),
                modified=modified,
                distributions=distributions,
            )
        )
    return datasets, moments


async def build_catalog(
    session: AsyncSession, settings: Settings
) -> tuple[dict[str, Any], datetime.datetime | None]:
    """The catalogue document and when it last changed (for `Last-Modified`)."""
    catalog = Catalog(settings)
    areas, areas_modified = await _areas_dataset(session, catalog)
    surveys, survey_moments = await _survey_datasets(session, catalog)
    indicators, indicator_moments = await _indicator_datasets(session, catalog)
    # Also surveys that left the catalogue (results withdrawn) move the time forward.
    any_survey = await session.scalar(select(func.max(Survey.updated_at)))
    moments = [m for m in (areas_modified, any_survey, *survey_moments, *indicator_moments) if m]
    modified = max(moments) if moments else None
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": catalog.url(CATALOG_PATH),
        "@type": "dcat:Catalog",
        "dct:title": _de(f"Offene Daten der Sozialplanung – {settings.municipality_name}"),
        "dct:description": _de(
            "Sozialräume, Bedarfe aus abgeschlossenen Befragungen und Indikatoren der "
            "Sozialplanung, veröffentlicht mit Quartier."
        ),
        "dct:publisher": catalog.publisher,
        "dct:language": _ref(GERMAN),
        "foaf:homepage": _ref(catalog.base + "/"),
        "dcat:themeTaxonomy": _ref("http://publications.europa.eu/resource/authority/data-theme"),
        "dcat:dataset": [areas, *surveys, *indicators],
    }
    if modified is not None:
        document["dct:modified"] = _datetime(modified)
    return document, modified
