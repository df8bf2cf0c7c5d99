"""The rule every polygon of the site file follows (zones and masks): 3+ points inside the image, an area,
and edges that do not cross.

Why shapely: a self-crossing polygon (a bow tie drawn by clicking corners in the wrong order) has an inside
nobody meant; the engine's "is the box inside" would be wrong without anyone seeing why. shapely says whether
the shape is valid; which edges cross is asked of it edge pair by edge pair, so the message can say where.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from shapely import LineString, Polygon
from shapely.validation import explain_validity

Point = tuple[float, float]

MIN_AREA = 5e-7
"""Half of the shoelace threshold the site always used (twice the area below 1e-6: no area)."""


def _crossing_edges(points: Sequence[Point]) -> tuple[int, int, tuple[float, float]] | None:
    """The first two edges that are not neighbours and meet; edge i joins point i to point i+1 (last to 0)."""
    count = len(points)
    edges = [LineString([points[i], points[(i + 1) % count]]) for i in range(count)]
    for i, j in combinations(range(count), 2):
        if j == i + 1 or (i == 0 and j == count - 1):
            continue  # neighbours share a point by construction
        if edges[i].intersects(edges[j]):
            where = edges[i].intersection(edges[j]).representative_point()
            return i, j, (round(where.x, 3), round(where.y, 3))
    return None


def check_polygon(points: list[Point], what: str) -> list[Point]:
    """`points` if they make a usable polygon; ValueError saying what is wrong otherwise."""
    if len(points) < 3:
        raise ValueError(f"{what} needs at least 3 points, got {len(points)}")
    for x, y in points:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"{what} point ({x}, {y}) is outside the image: use normalised 0..1 coordinates")
    shape = Polygon(points)
    if shape.is_valid and shape.area >= MIN_AREA:
        return points
    crossing = _crossing_edges(points)
    if crossing is not None:
        i, j, (x, y) = crossing
        count = len(points)
        raise ValueError(
            f"{what} crosses itself between edges {i} and {j} near ({x}, {y}) (edge {i}: points {i}-{(i + 1) % count}, "
            f"edge {j}: points {j}-{(j + 1) % count}); put the points in order around the shape"
        )
    if shape.area < MIN_AREA:
        raise ValueError(f"{what} has no area (points are collinear or repeated)")
    raise ValueError(f"{what} is not a simple shape: {explain_validity(shape)}")
