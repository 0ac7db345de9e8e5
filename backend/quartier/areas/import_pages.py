"""Importing social areas and population tables in the staff workspace (administrators, like
ImportSocialAreas without a token).

    GET/POST /workspace/areas/import                 upload a GeoJSON (one level)
    GET/POST /workspace/areas/import/{upload}        map its properties, choose level and CRS,
                                                     the date the changes take effect and what
                                                     to retire; preview (map + table), import
    GET/POST /workspace/areas/population             upload a population CSV
    GET/POST /workspace/areas/population/{upload}    encoding, separator, code column, date;
                                                     preview (rows matched to areas), import

The preview runs the import itself (`services.preview_import`) in a savepoint that is rolled
back, so it shows exactly what the import would create, update or keep, and exactly its
errors; the import runs `services.import_areas`, the service of the API and the CLI: all or
nothing. The uploaded file is kept between the steps in `areas.uploads` (why: see there).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Response, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import geometry as geo
from quartier.areas import importer, maps, services
from quartier.areas.controllers import ImportPost
from quartier.areas.models import LEVEL_NAME_MAX, AreaLevel, SocialArea
from quartier.areas.schemas import FeatureCollectionIn, ImportReport, LevelKey, PropertyName
from quartier.areas.uploads import Upload, UploadStore
from quartier.core.errors import NotFound
from quartier.core.forms import parse_form
from quartier.core.i18n import gettext as _
from quartier.core.security import ADMINS, access, principal_of
from quartier.processes.phases import N_
from quartier.settings import Settings

AnyRequest = Request[Any, Any, Any]
ADMIN_ONLY = access(roles=ADMINS)
AREAS = "/workspace/areas/import"
POPULATION = "/workspace/areas/population"
NEW_LEVEL = "_new"
MAX_PROPERTIES = 100
MAX_PREVIEW_ROWS = 1000
OUTCOME_NAMES = {
    "created": N_("new"),
    "updated": N_("changed"),
    "unchanged": N_("unchanged"),
    "retired": N_("retired"),
}
OUTCOME_CLASSES = {
    "created": "map-c1",
    "updated": "map-c3",
    "unchanged": "map-missing",
    "retired": "map-c0",
}
MAX_SUCCESSOR_TEXT = 20_000
SEPARATORS = {";": ";", ",": ",", "tab": "\t"}

LevelName = Annotated[str, msgspec.Meta(min_length=1, max_length=LEVEL_NAME_MAX)]


class AreaMappingForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    level: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    new_level_key: LevelKey | None = None
    new_level_name_de: LevelName | None = None
    new_level_name_en: LevelName | None = None
    code_property: PropertyName
    name_property: PropertyName
    parent_property: PropertyName | None = None
    crs: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    valid_from: datetime.date | None = None
    retire_missing: bool = False
    successors: Annotated[str, msgspec.Meta(max_length=MAX_SUCCESSOR_TEXT)] | None = None
    confirm_warnings: bool = False
    action: Literal["preview", "import"] = "preview"


_SUCCESSION = re.compile(r"^\s*([^=\s]{1,32})\s*=\s*([^=]+)$")
_CODE = re.compile(r"^[^\s,=;]{1,32}$")


def parse_successors(text: str | None) -> dict[str, list[str]] | None:
    """`OLD = NEW, NEW` per line (or separated by `;`) → {old: [new, …]}; None when a part
    cannot be read or an old code comes twice."""
    found: dict[str, list[str]] = {}
    for part in re.split(r"[\n;]", text or ""):
        if not part.strip():
            continue
        match = _SUCCESSION.match(part.strip())
        if match is None:
            return None
        new = [code.strip() for code in match.group(2).split(",") if code.strip()]
        if not new or not all(_CODE.match(code) for code in new) or match.group(1) in found:
            return None
        found[match.group(1)] = new
    return found


class PopulationMappingForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    encoding: Literal["utf-8", "windows-1252"]
    separator: Literal[";", ",", "tab"]
    code_column: PropertyName
    reference_date: datetime.date
    confirm_warnings: bool = False
    action: Literal["preview", "import"] = "preview"


def _store(request: AnyRequest) -> UploadStore:
    settings: Settings = request.app.state["settings"]
    return UploadStore(settings.data_dir)


def _owner(request: AnyRequest) -> Any:
    principal = principal_of(request)
    assert principal is not None  # the guard let only staff in
    return principal.id


def _upload(request: AnyRequest, upload_id: str, kind: str) -> Upload:
    found = _store(request).get(upload_id[:64], kind, _owner(request))
    if found is None:
        raise NotFound("This upload does not exist or has expired; upload the file again.")
    return found


def _page(name: str, context: dict[str, Any], status: int = 200) -> Template:
    return Template(
        template_name=f"workspace/areas/{name}.html",
        context=context,
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _upload_page(kind: str, errors: dict[str, str] | None = None, status: int = 200) -> Template:
    return _page("upload", {"kind": kind, "errors": errors or {}}, status)


_CHARSET = re.compile(r";[\x00-\x20]*charset=\"?([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)


def _charset(upload: UploadFile) -> str | None:
    """The charset the file's part declares (`Content-Type: text/csv; charset=windows-1252`)."""
    for name, value in upload.headers.items():
        if name.lower() == "content-type" and (match := _CHARSET.search(value)):
            return match.group(1)
    return None


async def _read_upload(request: AnyRequest) -> tuple[str, bytes, str | None] | None:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return None
    data = await upload.read()
    if not data:
        return None
    return upload.filename or "upload", data, _charset(upload)


def _warnings(report: ImportReport) -> dict[str, Any]:
    """A preview's warnings: those the importer must confirm, and the others."""
    rows = [row for row in report.rows if row.severity == "warning"]
    return {
        "to_confirm": [row for row in rows if row.needs_confirmation],
        "warnings": [row for row in rows if not row.needs_confirmation],
    }


CONFIRM_ERROR = N_("Confirm the warnings to import, or correct the file")


# -- areas -------------------------------------------------------------------------------------


@get(AREAS, include_in_schema=False, **ADMIN_ONLY)
async def area_upload_form() -> Template:
    """Step 1: choose a GeoJSON file with the areas of one level."""
    return _upload_page("areas")


@ImportPost(AREAS, include_in_schema=False, status_code=303, **ADMIN_ONLY)
async def area_upload(request: AnyRequest) -> Response[Any]:
    sent = await _read_upload(request)
    if sent is None:
        return _upload_page("areas", {"file": _("Choose a GeoJSON file")}, 400)
    filename, data = sent[0], sent[1]
    try:
        importer.read_collection(data, filename)
    except importer.SourceError:
        message = _("The file is not a GeoJSON FeatureCollection that can be read")
        return _upload_page("areas", {"file": message}, 400)
    stored = _store(request).save("areas", _owner(request), filename, data)
    return Redirect(f"{AREAS}/{stored.id}", status_code=303)


def _collection(upload: Upload) -> FeatureCollectionIn:
    return importer.read_collection(upload.path.read_bytes(), upload.filename)


def _properties(collection: FeatureCollectionIn) -> list[dict[str, str]]:
    """The properties the features have, in order of first appearance, with an example."""
    found: dict[str, str] = {}
    for feature in collection.features:
        for key, value in (feature.properties or {}).items():
            if key not in found and len(found) < MAX_PROPERTIES:
                found[key] = ""
            if key in found and not found[key] and value not in (None, ""):
                found[key] = str(value)[:40]
    return [{"name": key, "example": example} for key, example in found.items()]


def _detected_crs(collection: FeatureCollectionIn) -> tuple[str | None, str]:
    """The CRS the file declares (normalised) and a sentence for the page."""
    try:
        declared = geo.crs_of(collection.crs)
        if declared:
            crs = geo.normalise_crs(declared)
            return crs, _("The file declares %(crs)s.", crs=crs)
    except geo.CrsError as error:
        return None, _("The file declares a CRS that cannot be used: %(detail)s", detail=error)
    for feature in collection.features:
        if feature.geometry is None:
            continue
        try:
            shape = geo.parse_polygonal(feature.geometry.type, feature.geometry.coordinates)
        except geo.GeometryError:
            continue
        if geo.looks_geographic(shape):
            return None, _(
                "The file declares no CRS; its coordinates look like longitude and latitude "
                "(EPSG:4326)."
            )
        return None, _(
            "The file declares no CRS and its coordinates look projected: choose the CRS."
        )
    return None, _("The file declares no CRS.")


def _crs_options(detected_text: str) -> list[dict[str, str]]:
    def described(crs: str) -> str:
        if crs in geo.LATITUDE_FIRST:
            return _("latitude/longitude")
        return geo.PROJECTED.get(crs, _("longitude/latitude"))

    return [{"value": "", "text": _("As detected")}] + [
        {"value": crs, "text": f"{crs} – {described(crs)}"} for crs in geo.SUPPORTED_CRS
    ]


async def _levels(session: AsyncSession) -> list[AreaLevel]:
    return list((await session.scalars(select(AreaLevel).order_by(AreaLevel.depth))).all())


def _summarise(
    report: ImportReport, fields: dict[str, str], fallback: str
) -> tuple[dict[str, str], list[Any]]:
    """Errors of a failed import by form field: the first message of each field and how many
    more there are; `fields` maps a report row's field (or message start) to a form field."""
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    rows = [row for row in report.rows if row.severity == "error"]
    for row in rows:
        target = fallback
        for key, form_field in fields.items():
            if (row.field and row.field == key) or row.message.startswith(key):
                target = form_field
                break
        counts[target] = counts.get(target, 0) + 1
        if target not in first:
            where = []
            if row.feature is not None:
                where.append(_("feature %(n)s", n=row.feature))
            if row.line is not None:
                where.append(_("line %(n)s", n=row.line))
            if row.code:
                where.append(row.code)
            prefix = f"{', '.join(where)}: " if where else ""
            first[target] = prefix + row.message
    errors = {}
    for target, message in first.items():
        more = counts[target] - 1
        errors[target] = (
            _("%(detail)s (and %(n)s more)", detail=message, n=more) if more else message
        )
    return errors, report.rows


async def _area_page(
    request: AnyRequest,
    session: AsyncSession,
    upload: Upload,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    preview: services.ImportPreview | None = None,
    report_rows: list[Any] | None = None,
    status: int = 200,
) -> Template:
    collection = _collection(upload)
    properties = _properties(collection)
    names = [p["name"] for p in properties]
    levels = await _levels(session)
    detected, detected_text = _detected_crs(collection)
    defaults = {
        "level": levels[-1].key if levels else NEW_LEVEL,
        "code_property": next((n for n in ("id", "code", "schluessel") if n in names), ""),
        "name_property": next((n for n in ("name", "bezeichnung") if n in names), ""),
        "parent_property": "",
        "crs": "",
        "valid_from": "",
        "successors": "",
    }
    values = {**defaults, **(values or {})}
    level_options = [
        {
            "value": level.key,
            "text": _("%(name)s (level %(depth)s)", name=level.name, depth=level.depth + 1),
        }
        for level in levels
    ] + [{"value": NEW_LEVEL, "text": _("A new level below the lowest one")}]
    context: dict[str, Any] = {
        "upload": upload,
        "features": len(collection.features),
        "properties": properties,
        "property_options": [
            {"value": p["name"], "text": f"{p['name']} ({_('e.g.')} {p['example']})"}
            if p["example"]
            else {"value": p["name"], "text": p["name"]}
            for p in properties
        ],
        "level_options": level_options,
        "detected_crs": detected,
        "detected_text": detected_text,
        "crs_options": _crs_options(detected_text),
        "values": values,
        "errors": errors or {},
        "preview": None,
        "report_rows": report_rows or [],
        "outcome_names": {key: _(name) for key, name in OUTCOME_NAMES.items()},
    }
    if preview is not None:
        shown = preview.areas[:MAX_PREVIEW_ROWS]
        counts = {key: 0 for key in OUTCOME_NAMES}
        for area in preview.areas:
            counts[area.outcome] = counts.get(area.outcome, 0) + 1
        in_file = len(preview.areas) - counts["retired"]
        legend = [
            maps.LegendEntry(css_class=OUTCOME_CLASSES[key], text=_(OUTCOME_NAMES[key]))
            for key in OUTCOME_NAMES
            if counts[key]
        ]
        figure = maps.outlines(
            [
                maps.Outline(
                    code=area.code,
                    name=area.name,
                    geometry=area.geometry,
                    css_class=OUTCOME_CLASSES[area.outcome],
                    text=_(OUTCOME_NAMES[area.outcome]),
                )
                for area in shown
            ],
            title=_("The areas of the file"),
            description=_("Each area of the file, coloured by what the import does with it."),
            value_heading=_("Import"),
            legend=legend,
            map_id="import-map",
        )
        context["preview"] = {
            "areas": shown,
            "omitted": len(preview.areas) - len(shown),
            "counts": counts,
            "in_file": in_file,
            "map": figure,
            **_warnings(preview.report),
            "warnings_omitted": preview.report.rows_omitted,
            "changes": preview.report.changes,
        }
    return _page("areas", context, status)


@get(AREAS + "/{upload_id:str}", include_in_schema=False, **ADMIN_ONLY)
async def area_mapping_form(
    request: AnyRequest, db_session: AsyncSession, upload_id: str
) -> Template:
    """Step 2: which property holds code, name and parent; the level; the CRS."""
    return await _area_page(request, db_session, _upload(request, upload_id, "areas"))


@post(AREAS + "/{upload_id:str}", include_in_schema=False, status_code=200, **ADMIN_ONLY)
async def area_mapping_submit(
    request: AnyRequest, db_session: AsyncSession, upload_id: str
) -> Template:
    """`action=preview`: step 3, what the import would do; `action=import`: import."""
    upload = _upload(request, upload_id, "areas")
    form = parse_form(await request.form(), AreaMappingForm)
    data = form.data
    collection = _collection(upload)
    names = {p["name"] for p in _properties(collection)}
    levels = await _levels(db_session)
    errors = dict(form.errors)
    depth = 0
    key = ""
    name_de = name_en = None
    successors: dict[str, list[str]] | None = {}
    if data is not None:
        successors = parse_successors(data.successors)
        if successors is None:
            errors["successors"] = _(
                "Write one area per line: its code, =, and the codes that take its place, "
                "separated by commas"
            )
        for field in ("code_property", "name_property", "parent_property"):
            chosen = getattr(data, field)
            if chosen is not None and chosen not in names:
                errors[field] = _("The file has no property %(name)s", name=chosen)
        if data.crs:
            try:
                geo.normalise_crs(data.crs)
            except geo.CrsError:
                errors["crs"] = _("Choose one of the coordinate reference systems offered")
        if data.level == NEW_LEVEL:
            depth = len(levels)
            if data.new_level_key is None:
                errors["new_level_key"] = _("Enter a key for the new level")
            elif any(level.key == data.new_level_key for level in levels):
                errors["new_level_key"] = _("This level exists already: choose it above")
            key = data.new_level_key or ""
            name_de, name_en = data.new_level_name_de, data.new_level_name_en
        else:
            found = next((level for level in levels if level.key == data.level), None)
            if found is None:
                errors["level"] = _("Choose one of the levels offered")
            else:
                depth, key = found.depth, found.key
    if data is None or successors is None or errors:
        return await _area_page(
            request, db_session, upload, values=form.values, errors=errors, status=400
        )
    validity = services.Validity(
        valid_from=data.valid_from, retire_missing=data.retire_missing, successors=successors
    )
    source = importer.LevelSource(
        key=key,
        collection=collection,
        source=upload.filename,
        name_de=name_de,
        name_en=name_en,
        code_property=data.code_property,
        name_property=data.name_property,
        parent_property=data.parent_property if depth > 0 else None,
        area_property=None,
        crs=data.crs or None,
    )
    try:
        if data.action == "import":
            report = await services.import_areas(
                db_session,
                [source],
                [],
                first_depth=depth,
                confirm_warnings=data.confirm_warnings,
                validity=validity,
            )
        else:
            preview = await services.preview_import(
                db_session, [source], [], first_depth=depth, validity=validity
            )
    except services.ImportNeedsConfirmation:
        # The confirmation step: the preview again, its warnings to confirm and the checkbox.
        preview = await services.preview_import(
            db_session, [source], [], first_depth=depth, validity=validity
        )
        return await _area_page(
            request,
            db_session,
            upload,
            values=form.values,
            errors={"confirm_warnings": _(CONFIRM_ERROR)},
            preview=preview,
            status=400,
        )
    except services.ImportFailed as failed:
        fields = {
            f"properties.{data.code_property}": "code_property",
            f"properties.{data.name_property}": "name_property",
            "parent ": "parent_property",
            "no area of the level above": "parent_property",
            "code ": "code_property",
            "crs": "crs",
            "coordinates look projected": "crs",
            "coordinates are outside": "crs",
            "level ": "level",
            "depth ": "level",
            "successor ": "successors",
            "there is no valid stored area": "successors",
            "area ": "successors",
            "the stored boundary is valid from": "valid_from",
            "the stored version is valid from": "valid_from",
        }
        if data.parent_property:
            fields[f"properties.{data.parent_property}"] = "parent_property"
        errors, rows = _summarise(failed.report, fields, "file")
        return await _area_page(
            request,
            db_session,
            upload,
            values=form.values,
            errors=errors,
            report_rows=rows,
            status=400,
        )
    if data.action == "import":
        _store(request).delete(upload.id)
        return _page("done", {"kind": "areas", "report": report, "level": key})
    return await _area_page(request, db_session, upload, values=form.values, preview=preview)


# -- population --------------------------------------------------------------------------------


@get(POPULATION, include_in_schema=False, **ADMIN_ONLY)
async def population_upload_form() -> Template:
    """Step 1: choose a population table (CSV)."""
    return _upload_page("population")


@ImportPost(POPULATION, include_in_schema=False, status_code=303, **ADMIN_ONLY)
async def population_upload(request: AnyRequest) -> Response[Any]:
    sent = await _read_upload(request)
    if sent is None:
        return _upload_page("population", {"file": _("Choose a CSV file")}, 400)
    filename, data, charset = sent
    if b"\x00" in data:
        return _upload_page("population", {"file": _("The file is not a CSV table")}, 400)
    stored = _store(request).save("population", _owner(request), filename, data, charset)
    return Redirect(f"{POPULATION}/{stored.id}", status_code=303)


def _header(text: str, separator: str) -> list[str]:
    try:
        first = next(csv.reader(io.StringIO(text, newline=""), delimiter=separator), [])
    except csv.Error:
        return []
    return [column.strip() for column in first][:MAX_PROPERTIES]


async def _population_page(
    session: AsyncSession,
    upload: Upload,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    preview: services.ImportPreview | None = None,
    report_rows: list[Any] | None = None,
    status: int = 200,
) -> Template:
    raw = upload.path.read_bytes()
    # The charset the upload declared, when it is one we read; else what the bytes say.
    detected_encoding = importer.charset_encoding(upload.charset) or importer.detect_encoding(raw)
    values = dict(values or {})
    encoding = values.get("encoding") or detected_encoding
    try:
        text = importer.decode_table(raw, encoding)
    except (UnicodeDecodeError, LookupError):
        text = importer.decode_table(raw, detected_encoding)
    detected_separator = importer.detect_separator(text)
    detected_key = "tab" if detected_separator == "\t" else detected_separator
    separator = SEPARATORS.get(values.get("separator") or detected_key, detected_separator)
    columns = _header(text, separator)
    reference_date = importer.reference_date_from_name(Path(upload.filename))
    defaults = {
        "encoding": detected_encoding,
        "separator": detected_key,
        "code_column": "id" if "id" in columns else (columns[0] if columns else ""),
        "reference_date": reference_date.isoformat() if reference_date else "",
    }
    values = {**defaults, **{k: v for k, v in values.items() if v not in (None, "")}}
    context: dict[str, Any] = {
        "upload": upload,
        "detected_encoding": detected_encoding,
        "detected_separator": detected_key,
        "columns": columns,
        "column_options": [{"value": column, "text": column} for column in columns],
        "values": values,
        "errors": errors or {},
        "preview": None,
        "report_rows": report_rows or [],
    }
    if preview is not None:
        codes = [row.code for row in preview.population]
        names = dict(
            (
                await session.execute(
                    select(SocialArea.code, SocialArea.name).where(SocialArea.code.in_(codes))
                )
            ).all()
        )
        shown = preview.population[:MAX_PREVIEW_ROWS]
        context["preview"] = {
            "rows": [(row, names.get(row.code)) for row in shown],
            "omitted": len(preview.population) - len(shown),
            "summary": preview.report.population,
            **_warnings(preview.report),
        }
    return _page("population", context, status)


@get(POPULATION + "/{upload_id:str}", include_in_schema=False, **ADMIN_ONLY)
async def population_mapping_form(
    request: AnyRequest, db_session: AsyncSession, upload_id: str
) -> Template:
    """Step 2: encoding and separator (detected, may be changed), code column, date."""
    return await _population_page(db_session, _upload(request, upload_id, "population"))


@post(POPULATION + "/{upload_id:str}", include_in_schema=False, status_code=200, **ADMIN_ONLY)
async def population_mapping_submit(
    request: AnyRequest, db_session: AsyncSession, upload_id: str
) -> Template:
    upload = _upload(request, upload_id, "population")
    form = parse_form(await request.form(), PopulationMappingForm)
    data = form.data
    errors = dict(form.errors)
    text = ""
    if data is not None:
        try:
            text = importer.decode_table(upload.path.read_bytes(), data.encoding)
        except UnicodeDecodeError:
            errors["encoding"] = _("The file cannot be read in this encoding")
        else:
            columns = _header(text, SEPARATORS[data.separator])
            if len(columns) < 2:
                errors["separator"] = _("With this separator the table has only one column")
            elif data.code_column not in columns:
                errors["code_column"] = _("The table has no column %(name)s", name=data.code_column)
    if data is None or errors:
        return await _population_page(
            db_session, upload, values=form.values, errors=errors, status=400
        )
    source = importer.PopulationSource(
        text=text,
        reference_date=data.reference_date,
        source=upload.filename,
        code_column=data.code_column,
        separator=SEPARATORS[data.separator],
    )
    try:
        if data.action == "import":
            report = await services.import_areas(
                db_session, [], [source], confirm_warnings=data.confirm_warnings
            )
        else:
            preview = await services.preview_import(db_session, [], [source])
    except services.ImportNeedsConfirmation:
        preview = await services.preview_import(db_session, [], [source])
        return await _population_page(
            db_session,
            upload,
            values=form.values,
            errors={"confirm_warnings": _(CONFIRM_ERROR)},
            preview=preview,
            status=400,
        )
    except services.ImportFailed as failed:
        fields = {
            data.code_column: "code_column",
            f"no code in column {data.code_column}": "code_column",
        }
        errors, rows = _summarise(failed.report, fields, "file")
        return await _population_page(
            db_session, upload, values=form.values, errors=errors, report_rows=rows, status=400
        )
    if data.action == "import":
        _store(request).delete(upload.id)
        return _page("done", {"kind": "population", "report": report})
    return await _population_page(db_session, upload, values=form.values, preview=preview)


PAGES: list[ControllerRouterHandler] = [
    area_upload_form,
    area_upload,
    area_mapping_form,
    area_mapping_submit,
    population_upload_form,
    population_upload,
    population_mapping_form,
    population_mapping_submit,
]
