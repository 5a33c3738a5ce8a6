"""decode_frame on the shared sample photos (a few per symbology, and photos with no code at all),
on generated warehouse frames, and with one decoder missing."""

import importlib
import logging
import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.scan import decode
from app.scan.synth import Code, render_label, warehouse_frame

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "barcodes"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"the shared sample photos are not at {SAMPLES} (see bench/bench_scan.py)"
)

# A few photos per symbology, (folder, file); the expected text is the .txt beside each.
READABLE = [
    ("code128-1", "3.webp"), ("code128-2", "17.webp"), ("code39-1", "1.png"),
    ("datamatrix-2", "02.webp"), ("datamatrix-3", "#794.png"), ("datamatrix-4", "abcd-36x20.png"),
    ("ean13-1", "15.webp"), ("ean13-3", "14.webp"), ("ean13-4", "04.webp"), ("ean8-1", "2.png"),
    ("itf-1", "#853.png"), ("itf-2", "01.webp"), ("qrcode-2", "#128.png"), ("qrcode-3", "03.webp"),
    ("qrcode-5", "01.webp"), ("rss14-1", "13.webp"), ("rssexpanded-1", "13.png"),
    ("upca-2", "03.webp"), ("upca-3", "16.webp"), ("upce-1", "1.png"), ("upce-2", "02.webp"),
]  # fmt: skip
# Every photo of the two folders without a code (except two 1-pixel-wide WebPs OpenCV cannot open).
NO_CODE = sorted(
    (path.parent.name, path.name)
    for path in SAMPLES.glob("falsepositives-*/*")
    if path.suffix in (".png", ".jpg", ".webp") and path.name not in ("1x1.webp", "1x100.webp")
)


def sample(folder: str, name: str) -> np.ndarray:
    path = SAMPLES / folder / name
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, f"cannot read {path}"
    return image


def expected(folder: str, name: str) -> str:
    return (SAMPLES / folder / name).with_suffix(".txt").read_text(encoding="utf-8")


@needs_samples
@pytest.mark.parametrize("folder, name", READABLE)
def test_sample_photo_is_read(folder, name):
    texts = [scan.text for scan in decode.decode_frame(sample(folder, name))]
    assert expected(folder, name) in texts


@needs_samples
@pytest.mark.parametrize("folder, name", NO_CODE)
def test_photo_without_a_code_reads_nothing(folder, name):
    assert decode.decode_frame(sample(folder, name)) == []


@needs_samples
def test_gs1_datamatrix_photo_gives_gtin_lot_serial_and_expiry():
    (scan,) = decode.decode_frame(sample("datamatrix-1", "gs1-figure-4.15.1-2-32x32.png"))
    assert scan.symbology == "DataMatrix"
    assert (scan.gtin, scan.serial, scan.lot) == ("09504000059101", "12345678p901", "1234567p")
    assert scan.expiry == date(2014, 11, 20)


@needs_samples
def test_upc_e_photo_gives_the_gtin_of_its_upc_a():
    (scan,) = decode.decode_frame(sample("upce-2", "02.webp"))
    assert scan.symbology == "UPC-E"
    assert scan.gtin == scan.text.zfill(14)


def test_generated_label_is_read_with_its_corners():
    rng = __import__("random").Random(3)
    label = render_label(Code("EAN13", "4006381333931", "4006381333931"), rng, module_px=3)
    canvas = np.full((400, 600), 120, np.uint8)
    canvas[50 : 50 + label.shape[0], 80 : 80 + label.shape[1]] = label
    (scan,) = decode.decode_frame(canvas)
    assert (scan.text, scan.symbology, scan.gtin) == ("4006381333931", "EAN-13", "04006381333931")
    xs = [x for x, _ in scan.position]
    ys = [y for _, y in scan.position]
    assert 80 <= min(xs) and max(xs) <= 80 + label.shape[1]
    assert 50 <= min(ys) and max(ys) <= 50 + label.shape[0]


def test_the_same_code_twice_in_one_image_is_one_scan():
    rng = __import__("random").Random(4)
    label = render_label(Code("QRCode", "RMA-100234", "RMA-100234"), rng, module_px=4)
    scans = decode.decode_frame(np.hstack([label, label]))
    assert [s.text for s in scans] == ["RMA-100234"]


@pytest.mark.parametrize(
    "seed, condition",
    [(100003, "clean"), (100089, "motion blur"), (100094, "tilt"), (100102, "glare"), (100014, "clean")],
)
def test_camera_frames_give_no_phantom_reads(seed, condition):
    # Frames where a decoder alone reads a UPC-E in the bars of a skewed EAN-13, or a piece of a
    # blurred ITF-14: nothing that is not on the frame may come out.
    frame = warehouse_frame(seed=seed, condition=condition)
    texts = {s.text for s in decode.decode_frame(frame.image, source="camera")}
    assert texts <= set(frame.texts)


def test_bgr_grey_and_bgra_give_the_same_codes():
    frame = warehouse_frame(seed=11, condition="clean")
    assert frame.texts, "seed 11 must put a label in the frame"
    grey = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(frame.image, cv2.COLOR_BGR2BGRA)
    texts = [sorted(s.text for s in decode.decode_frame(img)) for img in (frame.image, grey, bgra)]
    assert texts[0] == texts[1] == texts[2] == sorted(frame.texts)


def test_720p_warehouse_frame_labels_are_read():
    frame = warehouse_frame(seed=21, condition="tilt")
    found = {s.text for s in decode.decode_frame(frame.image, source="camera")}
    assert set(frame.texts) <= found
    assert all(s.source == "camera" for s in decode.decode_frame(frame.image, source="camera"))


@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (1, 100), (100, 1), (3, 3, 3)])
def test_degenerate_images_read_nothing(shape):
    assert decode.decode_frame(np.full(shape, 128, np.uint8)) == []


def test_something_that_is_not_an_image_is_refused():
    with pytest.raises(ValueError, match="8-bit"):
        decode.decode_frame(np.zeros((10, 10), np.float32))


@pytest.fixture
def without(monkeypatch):
    """Reload app.scan.decode as if a decoder package could not be imported, then restore it."""

    def reload_without(module_name: str):
        monkeypatch.setitem(sys.modules, module_name, None)  # import now raises ImportError
        return importlib.reload(decode)

    yield reload_without
    monkeypatch.undo()
    importlib.reload(decode)


@pytest.mark.parametrize("missing, other", [("zxingcpp", "pyzbar"), ("pyzbar", "zxing-cpp")])
def test_decodes_with_either_decoder_alone_and_says_once_which_is_missing(without, caplog, missing, other):
    rng = __import__("random").Random(5)
    label = render_label(Code("EAN13", "4006381333931", "4006381333931"), rng, module_px=3)
    module = without(missing)
    assert module.available_decoders()[other] is True
    assert list(module.available_decoders().values()).count(False) == 1
    with caplog.at_level(logging.WARNING, logger="app.scan.decode"):
        first = module.decode_frame(label)
        module.decode_frame(label)
    assert [s.gtin for s in first] == ["04006381333931"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "app.scan.decode"]
    assert len(warnings) == 1 and "missing" in warnings[0]
