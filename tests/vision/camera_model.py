"""A pinhole camera over a flat ground, for tests with known geometry (ground X across, Y along, Z up; metres)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PinholeCamera:
    position: tuple[float, float, float] = (3.0, -10.0, 7.0)
    pitch_deg: float = 25.0
    yaw_deg: float = 0.0
    focal_px: float = 1000.0
    size: tuple[int, int] = (1280, 720)

    def _axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p, y = np.radians(self.pitch_deg), np.radians(self.yaw_deg)
        forward = np.array([np.sin(y) * np.cos(p), np.cos(y) * np.cos(p), -np.sin(p)])
        right = np.array([np.cos(y), -np.sin(y), 0.0])
        return right, np.cross(forward, right), forward

    def project_pixels(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) ground points or (N, 3) world points -> (N, 2) pixels."""
        points = np.asarray(points, dtype=np.float64)
        if points.shape[1] == 2:
            points = np.hstack([points, np.zeros((len(points), 1))])
        right, down, forward = self._axes()
        v = points - np.asarray(self.position)
        z = v @ forward
        return np.stack(
            [self.focal_px * (v @ right) / z + self.size[0] / 2, self.focal_px * (v @ down) / z + self.size[1] / 2],
            axis=1,
        )

    def project_normalised(self, points: np.ndarray) -> np.ndarray:
        return self.project_pixels(points) / np.asarray(self.size, dtype=np.float64)

    def box_of(self, x0: float, x1: float, y0: float, y1: float, height: float) -> list[float]:
        """Image bounding box (xyxy pixels) of a cuboid standing on the ground footprint [x0,x1] x [y0,y1]."""
        corners = np.array([(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (0.0, height)])
        pixels = self.project_pixels(corners)
        return [*pixels.min(axis=0), *pixels.max(axis=0)]
