"""Choropleth maps of social areas as server-rendered SVG, for every module that shows a figure
per area (survey needs, ideas, indicators).

    values = [maps.MapValue(area_id=…, code=…, name=…, value=0.23, text="23 %", href=…), …]
    figure = await maps.choropleth(session, values, title=…, description=…)
    {% from "macros/map.html" import choropleth %}{{ choropleth(figure) }}

How it is drawn:

* **Projection.** Boundaries are stored as WGS 84 longitude/latitude; the map projects them with
  pyproj to a Lambert azimuthal equal-area projection centred on the areas of the level (so
  areas keep their relative size, which a choropleth needs, and north is up), in metres.
* **Simplification per zoom.** Each level is simplified as a coverage (GEOS coverage
  simplification keeps borders that neighbours share identical: no gaps or slivers) with a
  tolerance from a fixed ladder (`ZOOMS`, metres). A map picks the coarsest tolerance below
  two screen pixels of its extent (`WIDTH` px wide), so a whole city is drawn coarser than one
  district. Coordinates are quantised to half the tolerance and written as relative integer
  path commands. The simplified paths are cached per level and zoom, keyed by the level's
  newest `updated_at` and its number of areas, so an import invalidates them.
* **Classes.** Values are put into at most five classes (equal intervals over the values
  shown, or the caller's breaks) coloured with a five-class viridis ramp, readable for the
  common colour-vision deficiencies and in greyscale. Areas whose figure is protected by
  disclosure control are drawn hatched and say "protected" — never as 0; areas without a value
  are drawn grey and say "no data".
* **Accessible alternative.** The macro renders a legend and a data table with the same
  figures and links; every area is a link with a `<title>` naming area and value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.geometry import as_multipolygon
from quartier.areas.models import SocialArea, today
from quartier.core.i18n import gettext as _

WIDTH = 600  # px, the width the viewBox is designed for (it scales down on phones)
# Simplification tolerances in metres, a ladder of factors of √2 from 5 m to 640 m.
ZOOMS = tuple(round(5.0 * 2 ** (step / 2), 1) for step in range(15))
PIXELS = 2.0  # the tolerance a map uses: the coarsest under this many screen pixels
MAX_CLASSES = 5
# Viridis, 5 classes (matplotlib's perceptually uniform ramp): light = low, dark = high.
PALETTE = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
PALETTE_INK = ("#000", "#000", "#fff", "#fff", "#fff")  # legend text colour per class


@dataclass(frozen=True, slots=True)
class MapValue:
    """One area's figure for a map. `value` None with `protected` True: suppressed by disclosure
    control (drawn hatched); `value` None otherwise: no data (drawn grey)."""

    area_id: UUID
    code: str
    name: str
    value: float | None
    text: str | None = None  # the value as the page writes it, e.g. "23,4 %"; default str(value)
    protected: bool = False
    href: str | None = None


@dataclass(frozen=True, slots=True)
class MapShape:
    code: str
    name: str
    href: str | None
    path: str
    css_class: str
    label: str  # "<name>: <value text>"


@dataclass(frozen=True, slots=True)
class LegendEntry:
    css_class: str
    text: str


@dataclass(frozen=True, slots=True)
class TableRow:
    code: str
    name: str
    href: str | None
    text: str
    state: str  # "value", "protected" or "missing"
    legend: str  # the legend text of its class


@dataclass(frozen=True, slots=True)
class Choropleth:
    """Everything the `choropleth` macro needs; plain data, so pages may build it once."""

    id: str
    title: str
    description: str
    value_heading: str
    view_box: str
    width: int
    height: int
    shapes: list[MapShape]
    legend: list[LegendEntry]
    rows: list[TableRow]
    tolerance_m: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)


# -- projection and simplification -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LevelShapes:
    """The simplified, projected, quantised outlines of one level at one zoom."""

    stamp: tuple[datetime | None, int, date]
    grid: float  # metres per unit of the path coordinates
    paths: dict[UUID, str]  # relative path data, starting with an absolute M
    bounds: dict[UUID, tuple[int, int, int, int]]  # min x, min y, max x, max y in units


class _Geometry:
    """The projected boundaries of one level (metres), shared by its zooms."""

    def __init__(self, stamp: tuple[datetime | None, int, date], rows: Sequence[Any]) -> None:
        self.stamp = stamp
        self.ids: list[UUID] = [row.id for row in rows]
        geometries = [as_multipolygon(shape(row.boundary)) for row in rows]
        min_lon = min(g.bounds[0] for g in geometries)
        min_lat = min(g.bounds[1] for g in geometries)
        max_lon = max(g.bounds[2] for g in geometries)
        max_lat = max(g.bounds[3] for g in geometries)
        centre_lon = round((min_lon + max_lon) / 2, 1)
        centre_lat = round((min_lat + max_lat) / 2, 1)
        transformer = Transformer.from_crs(
            "EPSG:4326",
            f"+proj=laea +lat_0={centre_lat} +lon_0={centre_lon} +datum=WGS84 +units=m",
            always_xy=True,
        )

        def project(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        self.projected = [shapely.transform(g, project) for g in geometries]
        self.zooms: dict[float, _LevelShapes] = {}


_CACHE: dict[UUID, _Geometry] = {}


def _path(geometry: Any, grid: float) -> tuple[str, tuple[int, int, int, int]]:
    """SVG path data in units of `grid` metres, y pointing down (north up), relative moves."""
    parts: list[str] = []
    xs: list[int] = []
    ys: list[int] = []
    for polygon in as_multipolygon(geometry).geoms:
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)[:-1]
            if len(coords) < 3:
                continue
            x = np.rint(coords[:, 0] / grid).astype(np.int64)
            y = np.rint(-coords[:, 1] / grid).astype(np.int64)
            keep = np.ones(len(x), dtype=bool)
            keep[1:] = (np.diff(x) != 0) | (np.diff(y) != 0)
            x, y = x[keep], y[keep]
            if len(x) < 3:
                continue
            xs.extend((int(x.min()), int(x.max())))
            ys.extend((int(y.min()), int(y.max())))
            dx = np.diff(x)
            dy = np.diff(y)
            steps = " ".join(f"{a} {b}" for a, b in zip(dx.tolist(), dy.tolist(), strict=True))
            parts.append(f"M{x[0]} {y[0]}l{steps}z")
    if not xs:
        return "", (0, 0, 0, 0)
    return "".join(parts).replace(" -", "-"), (min(xs), min(ys), max(xs), max(ys))


def _zoom(geometry: _Geometry, tolerance: float) -> _LevelShapes:
    found = geometry.zooms.get(tolerance)
    if found is not None:
        return found
    simplified = shapely.coverage_simplify(geometry.projected, tolerance)
    grid = tolerance / 2
    paths: dict[UUID, str] = {}
    bounds: dict[UUID, tuple[int, int, int, int]] = {}
    for area_id, outline in zip(geometry.ids, simplified, strict=True):
        paths[area_id], bounds[area_id] = _path(outline, grid)
    level = _LevelShapes(stamp=geometry.stamp, grid=grid, paths=paths, bounds=bounds)
    geometry.zooms[tolerance] = level
    return level


async def _level_geometry(session: AsyncSession, level_id: UUID) -> _Geometry:
    """The level's areas valid today, with their newest boundaries."""
    day = today()
    valid = (SocialArea.level_id == level_id, SocialArea.valid_on(day))
    stamp_row = (
        await session.execute(select(func.max(SocialArea.updated_at), func.count()).where(*valid))
    ).one()
    stamp = (stamp_row[0], int(stamp_row[1]), day)
    cached = _CACHE.get(level_id)
    if cached is not None and cached.stamp == stamp:
        return cached
    rows = (
        await session.execute(
            select(SocialArea.id, SocialArea.boundary)
            .where(*valid)
            .order_by(SocialArea.code, SocialArea.id)
        )
    ).all()
    built = _Geometry(stamp, rows)
    _CACHE[level_id] = built
    return built


def clear_cache() -> None:
    _CACHE.clear()


# -- classes -----------------------------------------------------------------------------------


def equal_breaks(values: Sequence[float], classes: int = MAX_CLASSES) -> list[float]:
    """Upper bounds of up to `classes` equal-width classes over the values (the last is the
    maximum). One value (or all equal) gives one class."""
    if not values:
        return []
    low, high = min(values), max(values)
    if math.isclose(low, high):
        return [high]
    count = max(1, min(classes, MAX_CLASSES, len(set(values))))
    step = (high - low) / count
    return [low + step * (i + 1) for i in range(count - 1)] + [high]


def _class_of(value: float, breaks: Sequence[float]) -> int:
    for index, bound in enumerate(breaks):
        if value <= bound + 1e-12:
            return index
    return len(breaks) - 1


def _palette_index(position: int, classes: int) -> int:
    """Spread `classes` over the five colours, from light to dark."""
    if classes <= 1:
        return 2
    return round(position * (MAX_CLASSES - 1) / (classes - 1))


# -- the map -----------------------------------------------------------------------------------


def _plain(value: float) -> str:
    return f"{value:.4g}"


async def choropleth(
    session: AsyncSession,
    values: Sequence[MapValue],
    *,
    title: str,
    description: str,
    value_heading: str,
    map_id: str = "map",
    breaks: Sequence[float] | None = None,
    lowest: float | None = None,
    format_break: Callable[[float], str] = _plain,
) -> Choropleth:
    """The choropleth of `values` (areas of one level). `breaks`: upper class bounds (at most
    five; default equal intervals), with `lowest` the lower bound of the first class (a fixed
    scale, e.g. 0 for shares; default the smallest value shown); `format_break` writes a bound
    for the legend."""
    if not values:
        return Choropleth(
            id=map_id,
            title=title,
            description=description,
            value_heading=value_heading,
            view_box="0 0 1 1",
            width=WIDTH,
            height=1,
            shapes=[],
            legend=[],
            rows=[],
        )
    level_ids = set(
        (
            await session.execute(
                select(SocialArea.level_id)
                .where(SocialArea.id.in_([v.area_id for v in values]))
                .distinct()
            )
        ).scalars()
    )
    shown = [v.value for v in values if v.value is not None]
    bounds = list(breaks) if breaks is not None else equal_breaks(shown)
    bounds = bounds[:MAX_CLASSES]
    legend: list[LegendEntry] = []
    lower: float | None = lowest if lowest is not None else min(shown) if shown else None
    for position, bound in enumerate(bounds):
        colour = _palette_index(position, len(bounds))
        low_text = format_break(lower) if lower is not None else ""
        text = (
            format_break(bound)
            if lower is None or math.isclose(lower, bound)
            else f"{low_text} – {format_break(bound)}"
        )
        legend.append(LegendEntry(css_class=f"map-c{colour}", text=text))
        lower = bound
    protected_text = _("protected (too few people)")
    missing_text = _("no data")
    if any(v.protected for v in values):
        legend.append(LegendEntry(css_class="map-protected", text=protected_text))
    if any(v.value is None and not v.protected for v in values):
        legend.append(LegendEntry(css_class="map-missing", text=missing_text))

    geometries = [await _level_geometry(session, level_id) for level_id in sorted(level_ids)]
    # The zoom: the coarsest tolerance under PIXELS px of the extent drawn.
    selected_ids = {v.area_id for v in values}
    extent_m = 0.0
    if geometries:
        xs = [
            p.bounds
            for g in geometries
            for i, p in zip(g.ids, g.projected, strict=True)
            if i in selected_ids
        ]
        extent_m = max(
            max(b[2] for b in xs) - min(b[0] for b in xs),
            max(b[3] for b in xs) - min(b[1] for b in xs),
        )
    metres_per_px = extent_m / WIDTH if extent_m else ZOOMS[0]
    tolerance = max([z for z in ZOOMS if z <= PIXELS * metres_per_px] or [ZOOMS[0]])
    zoomed = [_zoom(g, tolerance) for g in geometries]
    paths: dict[UUID, str] = {}
    area_bounds: dict[UUID, tuple[int, int, int, int]] = {}
    for level in zoomed:
        paths.update(level.paths)
        area_bounds.update(level.bounds)

    shapes: list[MapShape] = []
    rows: list[TableRow] = []
    for item in values:
        if item.protected:
            css, text, state = "map-protected", protected_text, "protected"
        elif item.value is None:
            css, text, state = "map-missing", missing_text, "missing"
        else:
            css = f"map-c{_palette_index(_class_of(item.value, bounds), len(bounds))}"
            text, state = item.text if item.text is not None else _plain(item.value), "value"
        legend_text = next((entry.text for entry in legend if entry.css_class == css), text)
        rows.append(TableRow(item.code, item.name, item.href, text, state, legend_text))
        path = paths.get(item.area_id)
        if path:
            shapes.append(
                MapShape(
                    code=item.code,
                    name=item.name,
                    href=item.href,
                    path=path,
                    css_class=css,
                    label=f"{item.name}: {text}",
                )
            )
    drawn = [area_bounds[v.area_id] for v in values if paths.get(v.area_id)]
    if drawn:
        min_x = min(b[0] for b in drawn)
        min_y = min(b[1] for b in drawn)
        span_x = max(max(b[2] for b in drawn) - min_x, 1)
        span_y = max(max(b[3] for b in drawn) - min_y, 1)
    else:
        min_x = min_y = 0
        span_x = span_y = 1
    pad = max(span_x, span_y) // 100 + 1
    height = max(1, round(WIDTH * (span_y + 2 * pad) / (span_x + 2 * pad)))
    return Choropleth(
        id=map_id,
        title=title,
        description=description,
        value_heading=value_heading,
        view_box=f"{min_x - pad} {min_y - pad} {span_x + 2 * pad} {span_y + 2 * pad}",
        width=WIDTH,
        height=height,
        shapes=shapes,
        legend=legend,
        rows=rows,
        tolerance_m=tolerance,
    )


# -- outlines of areas that are not stored (an import's preview) -------------------------------


@dataclass(frozen=True, slots=True)
class Outline:
    """One shape for `outlines`: a WGS 84 (Multi)Polygon with the class it is drawn in."""

    code: str
    name: str
    geometry: Any
    css_class: str
    text: str


def outlines(
    items: Sequence[Outline],
    *,
    title: str,
    description: str,
    value_heading: str,
    legend: Sequence[LegendEntry],
    map_id: str = "map",
) -> Choropleth:
    """A map of shapes that are not in the database (the preview of an import), drawn like
    `choropleth`: the same projection, tolerance ladder and path encoding, but simplified per
    shape (an uploaded file need not be a clean coverage) and coloured by the caller's classes."""
    empty = Choropleth(
        id=map_id,
        title=title,
        description=description,
        value_heading=value_heading,
        view_box="0 0 1 1",
        width=WIDTH,
        height=1,
        shapes=[],
        legend=list(legend),
        rows=[],
    )
    if not items:
        return empty
    geometries = [as_multipolygon(item.geometry) for item in items]
    min_lon = min(g.bounds[0] for g in geometries)
    min_lat = min(g.bounds[1] for g in geometries)
    max_lon = max(g.bounds[2] for g in geometries)
    max_lat = max(g.bounds[3] for g in geometries)
    transformer = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=laea +lat_0={round((min_lat + max_lat) / 2, 1)} "
        f"+lon_0={round((min_lon + max_lon) / 2, 1)} +datum=WGS84 +units=m",
        always_xy=True,
    )

    def project(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    projected = [shapely.transform(g, project) for g in geometries]
    extent_m = max(
        max(p.bounds[2] for p in projected) - min(p.bounds[0] for p in projected),
        max(p.bounds[3] for p in projected) - min(p.bounds[1] for p in projected),
    )
    metres_per_px = extent_m / WIDTH if extent_m else ZOOMS[0]
    tolerance = max([z for z in ZOOMS if z <= PIXELS * metres_per_px] or [ZOOMS[0]])
    grid = tolerance / 2
    shapes: list[MapShape] = []
    rows: list[TableRow] = []
    drawn: list[tuple[int, int, int, int]] = []
    for item, geometry in zip(items, projected, strict=True):
        simplified = shapely.simplify(geometry, tolerance, preserve_topology=True)
        path, bounds = _path(simplified, grid)
        legend_text = next((e.text for e in legend if e.css_class == item.css_class), item.text)
        rows.append(TableRow(item.code, item.name, None, item.text, "value", legend_text))
        if path:
            drawn.append(bounds)
            shapes.append(
                MapShape(
                    code=item.code,
                    name=item.name,
                    href=None,
                    path=path,
                    css_class=item.css_class,
                    label=f"{item.name} ({item.code}): {item.text}",
                )
            )
    if not drawn:
        return replace(empty, rows=rows)
    min_x = min(b[0] for b in drawn)
    min_y = min(b[1] for b in drawn)
    span_x = max(max(b[2] for b in drawn) - min_x, 1)
    span_y = max(max(b[3] for b in drawn) - min_y, 1)
    pad = max(span_x, span_y) // 100 + 1
    height = max(1, round(WIDTH * (span_y + 2 * pad) / (span_x + 2 * pad)))
    return Choropleth(
        id=map_id,
        title=title,
        description=description,
        value_heading=value_heading,
        view_box=f"{min_x - pad} {min_y - pad} {span_x + 2 * pad} {span_y + 2 * pad}",
        width=WIDTH,
        height=height,
        shapes=shapes,
        legend=list(legend),
        rows=rows,
        tolerance_m=tolerance,
    )
