"""Ground calibration of one camera: a homography from normalised image points to metres on the ground.

Why: the fire code asks for a clear *width* in metres (at least 4.0 m for a fire engine), which pixels cannot
give on a perspective view. Four or more image points whose ground positions were measured (tape, site plan)
define a plane-to-plane homography. It is validated when the site file loads so a bad calibration is reported
with its reason instead of producing wrong widths:

- at least 4 pairs, no repeated points, not (nearly) collinear in the image nor on the ground;
- a homography that keeps every calibration point in front of the camera;
- reprojection error (image -> ground, metres) computed and reported; with exactly 4 pairs the fit is exact
  and the error is 0 by construction (add a fifth point to have it checked);
- a maximum reprojection error above `max_error_m` is rejected with the offending point named.
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

Point = tuple[float, float]

MIN_IMAGE_SPREAD = 0.02
"""Smallest allowed triangle height between calibration points in the image (normalised units)."""
MIN_GROUND_SPREAD_M = 0.2
"""Smallest allowed triangle height between calibration points on the ground (metres)."""


def _spread(points: np.ndarray) -> float:
    """Second singular value of the centred points: ~0 when they are collinear (scale of a triangle height)."""
    centred = points - points.mean(axis=0)
    return float(np.linalg.svd(centred, compute_uv=False)[1] / np.sqrt(len(points)))


def _collinear_triple(points: np.ndarray, tolerance: float) -> tuple[int, int, int] | None:
    """With exactly four points, any three on one line make the homography degenerate."""
    if len(points) != 4:
        return None
    for skip in range(4):
        i, j, k = (n for n in range(4) if n != skip)
        u, v = points[j] - points[i], points[k] - points[i]
        base = max(np.hypot(*u), np.hypot(*v), 1e-12)
        if abs(u[0] * v[1] - u[1] * v[0]) / base < tolerance:
            return i, j, k
    return None


def _repeated(points: np.ndarray, tolerance: float) -> tuple[int, int] | None:
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            if np.hypot(*(points[i] - points[j])) < tolerance:
                return i, j
    return None


def project(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography to (N, 2) points; rows behind the camera (w <= 0) come back as NaN."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    homogeneous = np.hstack([points, np.ones((len(points), 1))]) @ homography.T
    w = homogeneous[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = homogeneous[:, :2] / w
    out[(w[:, 0] <= 1e-12)] = np.nan
    return out


class GroundCalibration(BaseModel):
    """Image points (normalised 0..1, x right, y down) and their ground positions in metres."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_points: list[Point] = Field(min_length=4, description="Normalised image coordinates (0..1).")
    ground_points: list[Point] = Field(min_length=4, description="Same points on the ground plane, metres.")
    max_error_m: float = Field(default=0.3, gt=0, le=5, description="Largest accepted reprojection error.")

    _homography: np.ndarray = PrivateAttr()
    _inverse: np.ndarray = PrivateAttr()
    _errors: np.ndarray = PrivateAttr()

    @model_validator(mode="after")
    def _fit(self) -> GroundCalibration:
        image = np.asarray(self.image_points, dtype=np.float64)
        ground = np.asarray(self.ground_points, dtype=np.float64)
        if len(image) != len(ground):
            raise ValueError(f"{len(image)} image points but {len(ground)} ground points: they must pair up")
        if not np.all(np.isfinite(image)) or not np.all(np.isfinite(ground)):
            raise ValueError("calibration points must be finite numbers")
        if np.any(image < 0) or np.any(image > 1):
            raise ValueError("image_points must be normalised to 0..1 (divide pixels by the image size)")
        if (pair := _repeated(image, 1e-3)) is not None:
            raise ValueError(f"image points {pair[0]} and {pair[1]} are the same point")
        if (pair := _repeated(ground, 0.05)) is not None:
            raise ValueError(f"ground points {pair[0]} and {pair[1]} are closer than 5 cm")
        if _spread(image) < MIN_IMAGE_SPREAD:
            raise ValueError("image points are (nearly) on one line: the homography would be degenerate")
        if _spread(ground) < MIN_GROUND_SPREAD_M:
            raise ValueError("ground points are (nearly) on one line: the homography would be degenerate")
        for name, points, tolerance in (("image", image, MIN_IMAGE_SPREAD), ("ground", ground, MIN_GROUND_SPREAD_M)):
            if (triple := _collinear_triple(points, tolerance)) is not None:
                raise ValueError(f"{name} points {triple} are (nearly) on one line: the homography is degenerate")
        homography, _ = cv2.findHomography(image, ground, method=0)
        if homography is None or not np.all(np.isfinite(homography)):
            raise ValueError("no homography fits these points (degenerate configuration)")
        if abs(np.linalg.det(homography)) < 1e-12 or np.linalg.cond(homography) > 1e12:
            raise ValueError("the fitted homography is singular (degenerate configuration)")
        mapped = project(homography, image)
        if np.any(np.isnan(mapped)):
            bad = int(np.flatnonzero(np.isnan(mapped[:, 0]))[0])
            raise ValueError(f"image point {bad} maps behind the camera: points are inconsistent")
        errors = np.hypot(*(mapped - ground).T)
        worst = int(np.argmax(errors))
        if errors[worst] > self.max_error_m:
            raise ValueError(
                f"reprojection error {errors[worst]:.2f} m at point {worst} exceeds max_error_m "
                f"{self.max_error_m:.2f} m (rms {np.sqrt(np.mean(errors**2)):.2f} m): "
                "check that point's image position and ground measurement"
            )
        self._homography = homography
        self._inverse = np.linalg.inv(homography)
        self._errors = errors
        return self

    def __eq__(self, other: object) -> bool:
        """Equal when the measured points are (the fitted arrays follow from them; pydantic would compare
        those numpy arrays element-wise and fail)."""
        if not isinstance(other, GroundCalibration):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash((tuple(self.image_points), tuple(self.ground_points), self.max_error_m))

    @property
    def homography(self) -> np.ndarray:
        """3x3 matrix mapping normalised image (x, y, 1) to ground metres."""
        return self._homography.copy()

    @property
    def reprojection_errors_m(self) -> list[float]:
        """Per-point distance (metres) between the measured and the mapped ground position."""
        return [float(e) for e in self._errors]

    @property
    def reprojection_error_m(self) -> float:
        """Root-mean-square reprojection error in metres (0 with exactly four points: exact fit)."""
        return float(np.sqrt(np.mean(self._errors**2)))

    @property
    def exact_fit(self) -> bool:
        """True with exactly four pairs: the error cannot be checked, only a fifth point can."""
        return len(self.image_points) == 4

    def report(self) -> str:
        """One line for logs and the zone editor."""
        if self.exact_fit:
            return "4 points: exact fit, reprojection error not measurable (add a fifth point to check it)"
        return (
            f"{len(self.image_points)} points: reprojection error rms {self.reprojection_error_m:.3f} m, "
            f"max {max(self._errors):.3f} m"
        )

    def to_ground(self, points_px: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
        """(N, 2) pixel coordinates of an image of `image_size` (width, height) -> ground metres."""
        scale = np.asarray(image_size, dtype=np.float64)
        return project(self._homography, np.asarray(points_px, dtype=np.float64).reshape(-1, 2) / scale)

    def to_image(self, points_m: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
        """(N, 2) ground metres -> pixel coordinates of an image of `image_size` (width, height)."""
        scale = np.asarray(image_size, dtype=np.float64)
        return project(self._inverse, np.asarray(points_m, dtype=np.float64).reshape(-1, 2)) * scale
