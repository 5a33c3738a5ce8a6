"""The camera worker on video files written in the test: each code once, in order; preview,
stills and a camera that is not there yet."""

import random
import threading

import cv2
import numpy as np
import pytest

from app.scan.camera import Camera, list_cameras
from app.scan.synth import Code, render_label

SIZE = (640, 480)
CODES = [
    Code("EAN13", "4006381333931", "4006381333931"),
    Code("QRCode", "RMA-100234", "RMA-100234"),
    Code("DataMatrix", "(01)05901234123457(17)270131(10)L42", "01059012341234571727013110L42", gs1=True),
]


def frame_with(code: Code | None, rng: random.Random, shift: int = 0) -> np.ndarray:
    frame = np.full((SIZE[1], SIZE[0], 3), (90, 120, 150), np.uint8)
    if code is not None:
        label = render_label(code, rng, module_px=3)
        h, w = label.shape
        y, x = 40 + shift, 60 + shift
        frame[y : y + h, x : x + w] = label[..., None]
    return frame


def write_video(path, scenes, fps=10):
    """scenes: [(code or None, number of frames)]; the label moves a little from frame to frame."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, SIZE)
    assert writer.isOpened()
    rng = random.Random(1)
    for code, count in scenes:
        for i in range(count):
            writer.write(frame_with(code, rng, shift=2 * (i % 3)))
    writer.release()


def collect(camera: Camera):
    out = []
    while (item := camera.results(timeout=30)) is not None:
        out.extend((item.frame, scan.text) for scan in item.scans)
    return out


def test_codes_in_a_video_come_out_once_each_in_order(tmp_path):
    video = tmp_path / "labels.avi"
    a, b, c = CODES
    write_video(video, [(a, 6), (None, 2), (b, 5), (None, 2), (c, 5), (None, 1), (a, 3)])
    with Camera(str(video), forget_frames=20) as camera:  # A is away for 15 frames: still the same A
        got = collect(camera)
    assert [text for _, text in got] == [a.text, b.text, c.text]
    assert [frame for frame, _ in got] == [0, 8, 15]
    assert camera.status.state == "ended"


def test_a_code_that_left_the_view_long_enough_is_scanned_again(tmp_path):
    video = tmp_path / "again.avi"
    a = CODES[0]
    write_video(video, [(a, 3), (None, 5), (a, 3)])
    scans = []
    with Camera(str(video), forget_frames=4, on_scan=scans.append) as camera:
        collect(camera)
    assert [s.text for s in scans] == [a.text, a.text]
    assert all(s.source == "camera" and s.gtin == "04006381333931" for s in scans)


def test_gs1_datamatrix_from_the_camera_gives_lot_and_expiry(tmp_path):
    video = tmp_path / "gs1.avi"
    write_video(video, [(CODES[2], 3)])
    scans = []
    with Camera(str(video), on_scan=scans.append) as camera:
        collect(camera)
    (scan,) = scans
    assert (scan.gtin, scan.lot, str(scan.expiry)) == ("05901234123457", "L42", "2027-01-31")


def test_preview_is_a_small_jpeg_and_still_is_full_resolution(tmp_path):
    video = tmp_path / "preview.avi"
    write_video(video, [(CODES[0], 4)])
    previews = []
    with Camera(str(video), preview_width=320, preview_fps=0, on_preview=previews.append) as camera:
        collect(camera)
        still = camera.still(timeout=5)
    small = cv2.imdecode(np.frombuffer(camera.latest_preview(), np.uint8), cv2.IMREAD_COLOR)
    full = cv2.imdecode(np.frombuffer(still, np.uint8), cv2.IMREAD_COLOR)
    assert small.shape[:2] == (240, 320)
    assert full.shape[:2] == (SIZE[1], SIZE[0])
    assert len(previews) == 4


def test_unreadable_video_is_reported_not_raised(tmp_path):
    bad = tmp_path / "not-a-video.avi"
    bad.write_bytes(b"this is not a video")
    with Camera(str(bad)) as camera:
        assert camera.results(timeout=10) is None
    assert camera.status.state == "ended"
    assert "cannot be read" in camera.status.message


def test_live_source_that_is_missing_is_reported_and_opened_when_it_appears(tmp_path):
    # A live source (realtime) that cannot be opened: the same path a unplugged USB camera takes.
    video = tmp_path / "later.avi"
    states = []
    live = threading.Event()

    def on_status(status):
        states.append(status.state)
        if status.state == "live":
            live.set()

    camera = Camera(str(video), realtime=True, reopen_seconds=0.1, on_status=on_status)
    with camera:
        for _ in range(100):
            if camera.status.state == "reconnecting":
                break
            threading.Event().wait(0.05)
        assert camera.status.state == "reconnecting"
        assert "trying again" in camera.status.message
        write_video(video, [(CODES[1], 40)])
        assert live.wait(10), f"camera never came back: {states}"
        item = camera.results(timeout=10)
    assert item is not None and [s.text for s in item.scans] == [CODES[1].text]
    assert states[0] == "reconnecting" and "live" in states


@pytest.mark.parametrize(
    "source, name", [(0, "camera 0"), ("rtsp://user:secret@10.0.0.5/s1", "stream 10.0.0.5/s1")]
)
def test_camera_names_never_show_stream_credentials(source, name):
    assert Camera(source).name == name


def test_list_cameras_returns_only_cameras_that_open():
    # This machine may have no camera at all: the list is then empty, never an exception.
    cameras = list_cameras()
    assert isinstance(cameras, list)
    assert all(": camera " in name for name in cameras)
