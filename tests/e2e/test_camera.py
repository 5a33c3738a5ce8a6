"""The desk's own camera (the station host's, ``STATION_CAMERA``): a video file stands in for it (as
a station can be pointed at a file or a stream). Its codes go down the scan field's path for the
desk's session; on Inspect its preview is shown, and "Capture photo" adds an inspection photo
through the same path as the file picker."""

from __future__ import annotations

import hashlib
import random
import re

import cv2
import numpy as np
import pytest

from app.scan.synth import Code, render_label
from tests.e2e.demo_store import return_spec
from tests.e2e.steps import DEMO, barcode, mark_received, sign_in
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = pytest.mark.browser

# press() marks the field focused before the click stale: here the same field takes the focus back
SCAN_FIELD_FOCUSED = "() => document.activeElement?.tagName === 'INPUT' && !document.activeElement.value"


def label_video(path, code: str, frames: int = 30, fps: float = 10.0) -> None:
    """A few seconds of a parcel label on a grey bench, drifting a little, as MJPG in an .avi."""
    label = cv2.cvtColor(
        render_label(Code("Code128", code, code), random.Random(7), module_px=3), cv2.COLOR_GRAY2BGR
    )
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 360))
    assert writer.isOpened()
    h, w = label.shape[:2]
    scale = min(560 / w, 300 / h, 1.0)
    label = cv2.resize(label, (int(w * scale), int(h * scale)))
    h, w = label.shape[:2]
    for i in range(frames):
        frame = np.full((360, 640, 3), (120, 140, 160), np.uint8)
        x, y = 40 + i, (360 - h) // 2
        frame[y : y + h, x : x + w] = label
        writer.write(frame)
    writer.release()


def test_inspector_captures_a_photo_from_the_station_camera(
    serve_station, open_station, tmp_path, monkeypatch
):
    spec = return_spec(DEMO, "RMA-000101")
    video = tmp_path / "bench.avi"
    label_video(video, spec.rma)
    monkeypatch.setenv("STATION_CAMERA", str(video))
    served = serve_station()
    station = served.station
    assert station.camera_source == str(video)
    mark_received(station.store, spec.rma)
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-INSP-1", "2222")
    # the desk's camera reads the return label on Home: the inspection opens, as after a wedge scan
    page.see("waiting for inspection", timeout_ms=30_000)
    page.scan(barcode(spec.lines[0].product))
    page.see(re.compile("take 2 photo"))
    page.see("Photos: 0 of 2 needed")
    page.page.get_by_role("img", name="Camera preview").wait_for(timeout=15_000)
    page.press("Capture photo")
    page.see("Photos: 1 of 2 needed")
    page.page.get_by_role("img", name="photo 1").wait_for(timeout=15_000)
    # the scan field (the only field on this screen) has the focus back after the press
    page.page.wait_for_function(SCAN_FIELD_FOCUSED, timeout=5_000)
    page.screenshot("inspect-camera")
    page.resize(HANDHELD)
    page.page.mouse.move(180, 500)
    page.page.mouse.wheel(0, 420)  # down to the camera (the unit comes first on a handheld)
    page.screenshot("inspect-camera")
    page.resize(DESKTOP)

    photos = [p for p in station.settings.photos_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(photos) == 1
    data = photos[0].read_bytes()
    assert photos[0].name == hashlib.sha256(data).hexdigest()  # content-addressed
    assert data[:2] == b"\xff\xd8"  # a JPEG
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (360, 640)  # full size
    assert station.camera() is not None and station.camera().running is False  # the video is over
