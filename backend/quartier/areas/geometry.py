"""Geometry of social areas: coordinate reference systems, boundary normalisation, geodesic
area, the in-process cache of prepared boundaries for point lookups, and SVG outlines.

Everything stored is WGS 84 longitude/latitude (GeoJSON order). Boundaries in a supported
projected CRS (ETRS89 / UTM 32N or 33N and a few relatives) are transformed with pyproj; an
unknown CRS is refused rather than guessed, and so are coordinates that look projected when no
CRS is declared. Stored coordinates are snapped to a 1e-7° grid (about 1 cm), which keeps
geometries valid (GEOS `set_precision`) and halves the size of the JSON.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import numpy as np
import shapely
import shapely.ops
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.polygon import orient
from shapely.prepared import PreparedGeometry, prep

WGS84 = "OGC:CRS84"
GRID = 1e-7
# Geographic CRSs whose coordinates are stored as they are (ETRS89 differs from WGS 84 by
# well under a metre in Europe, far below the precision of municipal boundaries). GeoJSON files
# written by GDAL declare EPSG:4326 but keep the longitude-first order, so the short form
# `EPSG:4326` is read as such. The URN and URL forms (`urn:ogc:def:crs:EPSG::4326`,
# `http://www.opengis.net/def/crs/EPSG/0/4326`) name the CRS by its authority's definition,
# whose axis order is latitude first: those coordinates are swapped on reading.
GEOGRAPHIC = {"OGC:CRS84", "EPSG:4326", "EPSG:4258"}
LATITUDE_FIRST = {
    "urn:ogc:def:crs:EPSG::4326": "EPSG:4326",
    "urn:ogc:def:crs:EPSG::4258": "EPSG:4258",
}
PROJECTED = {
    "EPSG:25832": "ETRS89 / UTM zone 32N",
    "EPSG:25833": "ETRS89 / UTM zone 33N",
    "EPSG:32632": "WGS 84 / UTM zone 32N",
    "EPSG:32633": "WGS 84 / UTM zone 33N",
    "EPSG:3035": "ETRS89 / LAEA Europe",
}
SUPPORTED_CRS = sorted(GEOGRAPHIC | PROJECTED.keys() | LATITUDE_FIRST.keys())

_EPSG = re.compile(r"(?:^|[:/])EPSG(?::[0-9.]*:|:|/[0-9.]+/)([0-9]+)$", re.IGNORECASE)
_CRS84 = re.compile(r"(?:^|:)CRS:?84$", re.IGNORECASE)
_GEOD = Geod(ellps="WGS84")


class GeometryError(ValueError):
    """A boundary that cannot be used; the message says why, for the import report."""


class CrsError(ValueError):
    """A coordinate reference system we do not transform from; the message names it."""


def normalise_crs(name: str) -> str:
    """`EPSG:25833` for any spelling (URN, URL, short form); `OGC:CRS84` for CRS84; for the
    geographic EPSG codes, whose axis order matters, the URN form (`urn:ogc:def:crs:EPSG::4326`,
    latitude first) when the name is a URN or URL and the short form (`EPSG:4326`, read
    longitude first, as GDAL writes it) otherwise. Raise CrsError naming the CRS when it is not
    supported."""
    cleaned = name.strip()
    if _CRS84.search(cleaned):
        return WGS84
    if cleaned in LATITUDE_FIRST:
        return cleaned
    if match := _EPSG.search(cleaned):
        candidate = f"EPSG:{int(match.group(1))}"
        if candidate in GEOGRAPHIC and candidate != cleaned.upper():
            authority = f"urn:ogc:def:crs:EPSG::{int(match.group(1))}"
            if authority in LATITUDE_FIRST:
                return authority
        if candidate in GEOGRAPHIC or candidate in PROJECTED:
            return candidate
    raise CrsError(
        f"unsupported coordinate reference system {cleaned!r}; supported: "
        + ", ".join(SUPPORTED_CRS)
    )


def crs_of(member: Any) -> str | None:
    """The CRS name of a GeoJSON `crs` member (the 2008 `{"type": "name"}` form), or None."""
    if member is None:
        return None
    kind = getattr(member, "type", None)
    properties = getattr(member, "properties", None)
    name = properties.get("name") if isinstance(properties, dict) else None
    if kind != "name" or not isinstance(name, str):
        raise CrsError(
            f"unsupported `crs` member (type {kind!r}); give the CRS by name, e.g. "
            '{"type": "name", "properties": {"name": "EPSG:25833"}}'
        )
    return name


@lru_cache(maxsize=16)
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _position(value: Any) -> tuple[Any, ...] | None:
    if isinstance(value, list | tuple) and len(value) >= 2:
        return tuple(value[:2])
    return None


def check_rings_closed(geometry_type: str, coordinates: Any) -> None:
    """RFC 7946: a linear ring's last position equals its first. Shapely closes an open ring
    without a word, which would hide a truncated or mis-exported boundary: refuse it, naming
    the ring. Malformed structures are left to the parser, which says what is wrong."""
    polygons = [coordinates] if geometry_type == "Polygon" else coordinates
    if not isinstance(polygons, list):
        return
    for polygon_index, rings in enumerate(polygons):
        if not isinstance(rings, list):
            continue
        for ring_index, ring in enumerate(rings):
            if not isinstance(ring, list) or len(ring) < 2:
                continue
            first, last = _position(ring[0]), _position(ring[-1])
            if first is None or last is None or first == last:
                continue
            which = "outer ring" if ring_index == 0 else f"hole {ring_index}"
            if geometry_type == "MultiPolygon":
                which += f" of polygon {polygon_index}"
            raise GeometryError(
                f"the {which} is not closed: it starts at {first[0]}, {first[1]} and ends at "
                f"{last[0]}, {last[1]} (a ring's last position must repeat its first); the "
                "boundary may be truncated"
            )


def parse_polygonal(geometry_type: str, coordinates: Any) -> MultiPolygon:
    """A MultiPolygon from GeoJSON parts (Polygon or MultiPolygon), 2-D, not yet validated.
    Open rings are refused (GeometryError), not closed silently."""
    if geometry_type == "GeometryCollection":
        raise GeometryError(
            "geometry type GeometryCollection is not supported (not a Polygon or "
            "MultiPolygon): give each area one Polygon or MultiPolygon"
        )
    if geometry_type not in ("Polygon", "MultiPolygon"):
        raise GeometryError(
            f"geometry type {geometry_type} is not supported (not a Polygon or MultiPolygon)"
        )
    check_rings_closed(geometry_type, coordinates)
    try:
        geometry = shape({"type": geometry_type, "coordinates": coordinates})
        geometry = shapely.force_2d(geometry)
    except Exception as error:  # shapely raises several types for malformed coordinates
        raise GeometryError(f"malformed {geometry_type} coordinates ({error})") from error
    if geometry.is_empty:
        raise GeometryError("the geometry is empty")
    if not np.isfinite(shapely.get_coordinates(geometry)).all():
        raise GeometryError("coordinates must be finite numbers")
    return as_multipolygon(geometry)


def as_multipolygon(geometry: Any) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    polygons: list[Polygon] = []
    for part in getattr(geometry, "geoms", []):
        if isinstance(part, Polygon) and not part.is_empty:
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(p for p in part.geoms if not p.is_empty)
    return MultiPolygon(polygons)


def looks_geographic(geometry: MultiPolygon) -> bool:
    min_x, min_y, max_x, max_y = geometry.bounds
    return bool(min_x >= -180 and max_x <= 180 and min_y >= -90 and max_y <= 90)


def _swap_axes(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return xy[:, ::-1].copy()


def to_wgs84(geometry: MultiPolygon, crs: str) -> MultiPolygon:
    """Longitude/latitude from `crs` (a name from normalise_crs)."""
    if crs in LATITUDE_FIRST:
        return as_multipolygon(shapely.transform(geometry, _swap_axes))
    if crs in GEOGRAPHIC:
        return geometry
    transformer = _transformer(crs)

    def project(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return as_multipolygon(shapely.transform(geometry, project))


def swapped_bounds(
    bounds: tuple[float, float, float, float],
) -> tuple[float, float, float, float]:
    min_x, min_y, max_x, max_y = bounds
    return min_y, min_x, max_y, max_x


def bounds_in_range(bounds: tuple[float, float, float, float]) -> bool:
    min_x, min_y, max_x, max_y = bounds
    return bool(min_x >= -180 and max_x <= 180 and min_y >= -90 and max_y <= 90)


def bounds_intersect(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def distance_km(a: Any, b: Any) -> float:
    """Geodesic distance between the nearest points of two WGS 84 geometries, in km."""
    first, second = shapely.ops.nearest_points(a, b)
    _, _, metres = _GEOD.inv(first.x, first.y, second.x, second.y)
    return round(float(metres) / 1000, 1)


@dataclass(frozen=True, slots=True)
class Boundary:
    """A normalised boundary ready to store."""

    geometry: MultiPolygon
    geojson: dict[str, Any]
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
    area_m2: float
    repaired: str | None  # why it was invalid, when make_valid repaired it


def normalise(geometry: MultiPolygon) -> Boundary:
    """Repair (make_valid, keeping polygonal parts), snap to the storage grid, orient rings the
    RFC 7946 way, and measure. Raise GeometryError when nothing polygonal remains."""
    repaired: str | None = None
    if not geometry.is_valid:
        repaired = shapely.is_valid_reason(geometry)
        geometry = as_multipolygon(shapely.make_valid(geometry))
    geometry = as_multipolygon(shapely.set_precision(geometry, GRID))
    if geometry.is_empty or geometry.area == 0:
        raise GeometryError(
            "the geometry has no area" + (f" after repairing it ({repaired})" if repaired else "")
        )
    if not looks_geographic(geometry):
        raise GeometryError("coordinates are outside the longitude/latitude range")
    geometry = MultiPolygon([orient(p, sign=1.0) for p in geometry.geoms])
    return Boundary(
        geometry=geometry,
        geojson=_plain(mapping(geometry)),
        bbox=tuple(float(v) for v in geometry.bounds),  # type: ignore[arg-type]
        area_m2=geodesic_area(geometry),
        repaired=repaired,
    )


def _plain(value: Any) -> Any:
    """Tuples to lists, so a stored boundary compares equal to one read back from JSONB."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def geodesic_area(geometry: Any) -> float:
    """Area on the WGS 84 ellipsoid in m² (pyproj.Geod), rounded to 0.1 m²."""
    area, _ = _GEOD.geometry_area_perimeter(geometry)
    return round(abs(float(area)), 1)


def from_geojson(geojson: dict[str, Any]) -> MultiPolygon:
    return as_multipolygon(shape(geojson))


# -- point lookups -----------------------------------------------------------------------------


class PreparedCache:
    """Prepared boundaries by area id, valid while the area's `updated_at` is unchanged
    (an import that changes a boundary bumps it). Bounded, least recently used out first."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[UUID, tuple[datetime, PreparedGeometry]] = OrderedDict()

    def get(self, area_id: UUID, updated_at: datetime) -> PreparedGeometry | None:
        entry = self._entries.get(area_id)
        if entry is None or entry[0] != updated_at:
            return None
        self._entries.move_to_end(area_id)
        return entry[1]

    def put(self, area_id: UUID, updated_at: datetime, geojson: dict[str, Any]) -> Any:
        prepared = prep(from_geojson(geojson))
        self._entries[area_id] = (updated_at, prepared)
        self._entries.move_to_end(area_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return prepared

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


PREPARED = PreparedCache()


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat)


# -- SVG outlines for the pages ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outline:
    path: str
    width: int
    height: int
    width_km: float
    height_km: float


def svg_outline(geojson: dict[str, Any], size: int = 240) -> Outline:
    """An SVG path of the boundary fitted into `size` px, north up, simplified to what the
    picture can show (an equirectangular projection is exact enough at city scale)."""
    geometry = from_geojson(geojson)
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    x_scale = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * x_scale, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    scale = (size - 4) / max(span_x, span_y)
    simplified = geometry.simplify(0.5 / scale, preserve_topology=True)
    width = max(round(span_x * scale) + 4, 8)
    height = max(round(span_y * scale) + 4, 8)
    parts: list[str] = []
    for polygon in as_multipolygon(simplified).geoms:
        for ring in [polygon.exterior, *polygon.interiors]:
            coords: Sequence[tuple[float, float]] = list(ring.coords)[:-1]
            points = [
                f"{(lon - min_lon) * x_scale * scale + 2:.1f} {(max_lat - lat) * scale + 2:.1f}"
                for lon, lat in coords
            ]
            if len(points) >= 3:
                parts.append("M" + " L".join(points) + " Z")
    metres_per_degree = 111_320.0
    return Outline(
        path=" ".join(parts),
        width=width,
        height=height,
        width_km=round(span_x * metres_per_degree / 1000, 1),
        height_km=round(span_y * 110_574.0 / 1000, 1),
    )
