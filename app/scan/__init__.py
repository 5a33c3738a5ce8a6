"""Scanning: turn what a camera, a photo, a wedge scanner or a person gives into :class:`Scan`.

``decode_frame`` and the camera need OpenCV and numpy; they are imported on first use so that
code which only parses typed text (app/workflows) does not pay for them.
"""

from __future__ import annotations

from typing import Any

from app.scan.gs1 import GS1Data, GS1Error, parse_gs1
from app.scan.scan import SYMBOLOGIES, Scan, make_scan
from app.scan.wedge import BurstDetector, parse_typed

__all__ = [
    "SYMBOLOGIES", "BurstDetector", "Camera", "CameraStatus", "GS1Data", "GS1Error", "Scan", "decode_frame",
    "list_cameras", "make_scan", "parse_gs1", "parse_typed",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "decode_frame":
        from app.scan.decode import decode_frame

        return decode_frame
    if name in ("Camera", "CameraStatus", "list_cameras"):
        from app.scan import camera as _camera

        return getattr(_camera, name)
    raise AttributeError(f"module 'app.scan' has no attribute {name!r}")
