"""Reading codes from the frames of a camera someone aims: one read per code while it stays in
view, the code under the centre guide, two agreeing frames for weak symbologies, and what a
wedge scanner would have typed for it."""

from __future__ import annotations

import random

import cv2
import numpy as np

from app.scan.camera import FrameReader, wedge_text
from app.scan.scan import Scan, make_scan
from app.scan.synth import Code, render_label
from app.workflows.scanning import read_scan

W, H = 1280, 720
EAN = Code("EAN13", "4006381333931", "4006381333931")
RMA = Code("Code128", "RMA-000101", "RMA-000101")
ITF14 = Code("ITF", "15400141288763", "15400141288763")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def frame(*placed: tuple[Code, float, float]) -> np.ndarray:
    """A grey bench with each code's label centred at (fx, fy), fractions of the frame."""
    image = np.full((H, W), 120, np.uint8)
    for code, fx, fy in placed:
        label = render_label(code, random.Random(3), module_px=3)
        h, w = label.shape
        x, y = int(fx * W - w / 2), int(fy * H - h / 2)
        image[y : y + h, x : x + w] = label
    return image


def reader_with_clock(**kwargs) -> tuple[FrameReader, Clock]:
    clock = Clock()
    return FrameReader(clock=clock, **kwargs), clock


def feed(reader: FrameReader, clock: Clock, image: np.ndarray, times: int, dt: float = 0.1) -> list[str]:
    out = []
    for _ in range(times):
        scan = reader.read(image)
        clock.now += dt
        if scan is not None:
            out.append(scan.text)
    return out


def test_a_code_held_in_view_is_read_once_and_again_after_it_left():
    reader, clock = reader_with_clock()
    item = frame((EAN, 0.5, 0.5))
    blank = frame()
    assert feed(reader, clock, item, 20) == [EAN.text]
    assert feed(reader, clock, blank, 2) == []  # a blurred frame or two: still the same item
    assert feed(reader, clock, item, 5) == []
    assert feed(reader, clock, blank, 12) == []  # taken away for over a second
    assert feed(reader, clock, item, 5) == [EAN.text]  # the next item of the same product


def test_of_two_codes_the_one_under_the_guide_is_read_and_one_at_the_edge_alone_is_not():
    reader, clock = reader_with_clock()
    assert feed(reader, clock, frame((RMA, 0.2, 0.25)), 5) == []  # at the edge: not aimed at
    both = frame((RMA, 0.2, 0.25), (EAN, 0.6, 0.6))
    assert feed(reader, clock, both, 5) == [EAN.text]
    # the label that stood at the edge all along is read once the worker centres it
    assert feed(reader, clock, frame((RMA, 0.5, 0.5)), 3) == [RMA.text]


def test_a_weak_symbology_needs_two_agreeing_frames():
    calls = iter(
        [
            [itf("15400141288763")],
            [itf("15400141288769")],
            [itf("15400141288763")],
            [itf("15400141288763")],
            [itf("15400141288763")],
        ]
    )
    reader, clock = reader_with_clock(decoder=lambda image, source: next(calls))
    image = np.zeros((H, W), np.uint8)
    # a misread between two reads of the same code breaks the streak: it takes two in a row
    assert feed(reader, clock, image, 3) == []
    assert feed(reader, clock, image, 2) == ["15400141288763"]


def itf(text: str) -> Scan:
    centre = ((600, 340), (680, 340), (680, 380), (600, 380))
    return make_scan(text, "ITF", position=centre, source="camera")


def test_a_real_itf14_label_is_read_on_the_second_frame():
    reader, clock = reader_with_clock()
    image = frame((ITF14, 0.5, 0.5))
    assert reader.read(image) is None
    assert reader.read(image).text == ITF14.text


def test_a_jpeg_from_the_browser_is_read_and_garbage_is_not():
    reader, _ = reader_with_clock()
    ok, jpeg = cv2.imencode(".jpg", frame((RMA, 0.5, 0.5)), [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert reader.read_jpeg(jpeg.tobytes()).text == RMA.text
    assert reader.read_jpeg(b"not a picture") is None and reader.failed == 1


def test_gs1_from_the_camera_reaches_the_scan_path_as_a_wedge_scanner_with_aim_types_it():
    code = Code(
        "DataMatrix", "(01)05901234123457(17)270131(10)L42", "01059012341234571727013110L42", gs1=True
    )
    reader, _ = reader_with_clock()
    scan = reader.read(frame((code, 0.5, 0.5)))
    typed = read_scan(wedge_text(scan))
    assert (typed.gtin, typed.lot, str(typed.expiry)) == ("05901234123457", "L42", "2027-01-31")
    assert wedge_text(make_scan("RMA-000101", "Code128", source="camera")) == "RMA-000101"
