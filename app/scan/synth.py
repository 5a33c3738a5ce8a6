"""Generated warehouse camera frames: labels as a handheld camera sees them on the move.

For the benchmark and the tests: every frame comes from a seed, so a run can be repeated exactly,
and knows what a decoder should find in it — each code's text, symbology, size in pixels per
module, tilt and contrast as it ended up in the frame. Labels are drawn with zxing-cpp's barcode
writer; nothing here decodes.

A frame is a 1280x720 view of boxes and shelves with 0-2 paper labels, each turned in its plane
(mostly upright, now and then sideways) and tilted away from the camera, then spoiled by one
*condition* (``CONDITIONS``):

* ``clean``: a steady camera, a little lens softness;
* ``motion blur``: the camera moving while the shutter is open, a streak of 3-10 px at any angle;
* ``defocus``: too close or too far for the focus, a disc of radius 1.2-2.6 px;
* ``tilt``: the label turned 25-45 degrees away from the camera (perspective, foreshortened);
* ``glare``: a lamp's reflection on the glossy label, up to white;
* ``low light``: a dark aisle: dim, low contrast, grainy, a slower shutter (a little streak);
* ``small at edge``: a code far away, 1.3-1.9 px per module, near the frame's edge, where the lens
  is darker and softer.

Every frame also gets sensor noise and JPEG compression. Elsewhere, modules are 1.6-3.5 px (a
label at most 60% of the frame's width) and tilts up to 20 degrees.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from biip.checksums import gs1_standard_check_digit

from app.scan.gs1 import GS

CONDITIONS = ("clean", "motion blur", "defocus", "tilt", "glare", "low light", "small at edge")
_BOX_PRINT = ("FRAGILE", "THIS SIDE UP", "KEEP DRY", "12/24", "MADE IN EU", "|||| ||| ||")
_FOCAL_PX = 1000.0  # a 720p phone or webcam: about 65 degrees across


@dataclass(frozen=True)
class Code:
    """A code to print: ``content`` as the writer wants it, ``text`` as a decoder reads it."""

    format: str  # a zxingcpp.BarcodeFormat name
    content: str
    text: str
    gs1: bool = False


@dataclass(frozen=True)
class Placed:
    """One code as it ended up in a frame: what a miss table groups by."""

    text: str
    format: str  # the Code's format (zxing-cpp's name)
    module_px: float  # pixels per module before tilt
    tilt: float  # degrees the label is turned away from the camera
    rotation: float  # degrees turned in its own plane
    contrast: int  # paper minus ink grey level in the finished frame (5th to 95th percentile)
    corners: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR
    texts: tuple[str, ...]  # what is on it, in reading order (top to bottom)
    labels: tuple[tuple[tuple[int, int], ...], ...]  # each text's label corners, in the same order
    condition: str
    seed: int
    codes: tuple[Placed, ...] = ()  # each text's details, in the same order
    blur_px: float = 0.0  # length of the motion streak, or twice the defocus radius


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _with_check(payload: str) -> str:
    return payload + str(gs1_standard_check_digit(payload))


_KINDS = ["EAN13", "EAN13", "UPCA", "EAN8", "UPCE", "GS1-128", "GS1-DataMatrix", "QRCode", "ITF14",
          "Code128", "Code39", "DataBar", "DataBarExp"]  # fmt: skip


def random_code(rng: random.Random) -> Code:
    """One label code of the kinds a returns desk sees, with random but valid data."""
    kind = rng.choice(_KINDS)
    gtin = _with_check("0" + rng.choice("4567") + _digits(rng, 11))
    lot = "L" + _digits(rng, rng.randint(3, 6))
    expiry = f"{rng.randint(26, 30)}{rng.randint(1, 12):02d}{rng.choice(['00', '15', '28'])}"
    if kind == "EAN13":
        code = _with_check(rng.choice("4579") + _digits(rng, 11))
        return Code("EAN13", code, code)
    if kind == "UPCA":
        code = _with_check(rng.choice("0123") + _digits(rng, 10))
        return Code("UPCA", code, "0" + code)
    if kind == "EAN8":
        code = _with_check(rng.choice("4579") + _digits(rng, 6))
        return Code("EAN8", code, code)
    if kind == "UPCE":
        # UPC-E of a UPC-A 0MMMMM0000P (manufacturer code ending in 000, item 00-99... simplified:
        # the zero-suppressed form "0" + 5 digits + "0"-"2"); decoders read it expanded to 13 digits.
        body = _digits(rng, 5) + rng.choice("012")
        m, last = body[:2], body[5]
        upca = "0" + m + last + "0000" + body[2:5]
        upca += str(gs1_standard_check_digit(upca))
        return Code("UPCE", "0" + body + upca[-1], "0" + upca)
    if kind in ("GS1-128", "GS1-DataMatrix"):
        serial = f"S{_digits(rng, 6)}"
        hri = f"(01){gtin}(17){expiry}(10){lot}(21){serial}"
        text = f"01{gtin}17{expiry}10{lot}{GS}21{serial}"
        return Code("Code128" if kind == "GS1-128" else "DataMatrix", hri, text, gs1=True)
    if kind == "QRCode":
        text = f"RMA-{_digits(rng, 6)}"
        return Code("QRCode", text, text)
    if kind == "ITF14":
        code = _with_check(rng.choice("123") + _digits(rng, 12))
        return Code("ITF", code, code)
    if kind == "Code128":
        text = f"1Z{_digits(rng, 4)}X{_digits(rng, 6)}"
        return Code("Code128", text, text)
    if kind == "Code39":
        text = f"LOC-{rng.choice('ABCDEFGH')}{rng.randint(1, 40):02d}-{rng.randint(1, 6)}"
        return Code("Code39", text, text)
    if kind == "DataBar":
        return Code("DataBar", f"(01){gtin}", f"01{gtin}")
    return Code("DataBarExp", f"(01){gtin}(10){lot}", f"01{gtin}10{lot}")


def render_label(code: Code, rng: random.Random, module_px: int = 4) -> np.ndarray:
    """A white paper label (grey image) with the code and a few lines of print around it."""
    import zxingcpp

    fmt = getattr(zxingcpp.BarcodeFormat, code.format)
    options = {"gs1": True} if code.gs1 else {}
    symbol = np.asarray(zxingcpp.create_barcode(code.content, fmt, **options).to_image(scale=module_px))
    if code.format in ("QRCode", "DataMatrix") and symbol.shape[0] < 8 * module_px * 4:
        symbol = cv2.resize(symbol, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    if symbol.shape[0] < symbol.shape[1] / 6:  # DataBar Expanded is flat: give it some height
        symbol = cv2.resize(symbol, (symbol.shape[1], symbol.shape[1] // 5), interpolation=cv2.INTER_NEAREST)
    h, w = symbol.shape
    pad = 12 * module_px
    label = np.full((h + 2 * pad + 30 * module_px, w + 2 * pad), 250, np.uint8)
    label[pad : pad + h, pad : pad + w] = symbol
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = module_px * 0.28
    for i, line in enumerate(("RETURNS / RMA", f"SKU {rng.randint(10000, 99999)}  QTY {rng.randint(1, 9)}")):
        y = pad + h + (10 + 11 * i) * module_px
        cv2.putText(label, line, (pad, y), font, scale, 30, max(1, module_px // 2), cv2.LINE_AA)
    return label


def _background(rng: random.Random, np_rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    base = np.array([rng.randint(70, 150), rng.randint(100, 170), rng.randint(130, 200)], np.float32)
    ramp = np.linspace(0.75, 1.15, w, dtype=np.float32)[None, :, None]
    img = np.ones((h, w, 3), np.float32) * base * ramp
    img += np_rng.normal(0, 6, (h // 8, w // 8, 1)).repeat(8, 0).repeat(8, 1)[:h, :w]
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.randint(2, 5)):  # box edges, shelf rails, tape
        colour = tuple(int(c) for c in np_rng.integers(20, 200, 3))
        p1 = (rng.randint(0, w), rng.randint(0, h))
        p2 = (p1[0] + rng.randint(-w // 2, w // 2), p1[1] + rng.randint(-h // 3, h // 3))
        cv2.rectangle(img, p1, p2, colour, rng.choice([2, 6, -1]))
    for _ in range(rng.randint(6, 16)):  # printing on the boxes: text has edges a decoder must reject
        colour = tuple(int(c) for c in np_rng.integers(0, 90, 3))
        org = (rng.randint(0, w - 100), rng.randint(20, h))
        words = " ".join(rng.choice(_BOX_PRINT) for _ in range(rng.randint(1, 3)))
        cv2.putText(
            img, words, org, cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.5, 1.6), colour, rng.randint(1, 3)
        )
    fibres = np_rng.normal(0, 7, (h, w, 1)).astype(np.float32)  # cardboard grain
    return np.clip(img + fibres, 0, 255).astype(np.uint8)


def _project(label_size: tuple[int, int], width: float, rotation: float, tilt: float,
             tilt_axis: float) -> np.ndarray:  # fmt: skip
    """The label's 4 corners, seen by a pinhole camera, around (0, 0): ``width`` pixels wide when
    facing the camera, turned ``rotation`` degrees in its plane, then ``tilt`` degrees away from
    the camera about an axis at ``tilt_axis`` degrees."""
    w, h = label_size
    height = width * h / w
    corners = np.array([[-width / 2, -height / 2], [width / 2, -height / 2],
                        [width / 2, height / 2], [-width / 2, height / 2]], np.float64)  # fmt: skip
    a = np.deg2rad(rotation)
    corners = corners @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]).T
    points = np.hstack([corners, np.zeros((4, 1))])
    ux, uy = np.cos(np.deg2rad(tilt_axis)), np.sin(np.deg2rad(tilt_axis))
    t = np.deg2rad(tilt)
    k = np.array([[0, 0, uy], [0, 0, -ux], [-uy, ux, 0]])  # the cross-product matrix of (ux, uy, 0)
    rot = np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)  # Rodrigues
    points = points @ rot.T
    z = _FOCAL_PX + points[:, 2]
    return (points[:, :2] * (_FOCAL_PX / z)[:, None]).astype(np.float32)


def _place(frame: np.ndarray, label: np.ndarray, corners: np.ndarray) -> None:
    h, w = label.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    fh, fw = frame.shape[:2]
    warped = cv2.warpPerspective(label, matrix, (fw, fh), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full_like(label, 255), matrix, (fw, fh), flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255)[..., None]
    frame[:] = (frame * (1 - alpha) + warped[..., None] * alpha).astype(np.uint8)


def _code_corners(label: np.ndarray, module_px: int) -> np.ndarray:
    """The code's own box inside a rendered label (label coordinates)."""
    pad = 12 * module_px
    h, w = label.shape
    return np.array([[pad, pad], [w - pad, pad], [w - pad, h - pad - 30 * module_px],
                     [pad, h - pad - 30 * module_px]], np.float32)  # fmt: skip


def warehouse_frame(seed: int, size: tuple[int, int] = (1280, 720), condition: str | None = None,
                    max_labels: int = 2) -> Frame:  # fmt: skip
    """One camera frame with 0..``max_labels`` labels (about one frame in ten has none)."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    condition = condition or CONDITIONS[seed % len(CONDITIONS)]
    w, h = size
    frame = _background(rng, np_rng, size)
    count = 0 if rng.random() < 0.1 else rng.randint(1, max_labels)
    slots = rng.sample([(x, y) for x in (0.3, 0.7) for y in (0.3, 0.7)], count)
    small = condition == "small at edge"
    pending = []
    taken = np.zeros((h, w), np.uint8)
    for sx, sy in slots:
        code = random_code(rng)
        render_px = 4
        label = render_label(code, rng, render_px)
        module = rng.uniform(1.3, 1.9) if small else rng.uniform(1.6, 3.5)
        width = min(label.shape[1] * module / render_px, 0.6 * w)
        module = width * render_px / label.shape[1]
        # Mostly upright, turned by hand; now and then a label stuck on sideways.
        rotation = rng.uniform(-30, 30) + (90 if rng.random() < 0.15 else 0)
        tilt = rng.uniform(25, 45) if condition == "tilt" else rng.uniform(0, 20)
        corners = _project((label.shape[1], label.shape[0]), width, rotation, tilt, rng.uniform(0, 180))
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        if small:  # pushed out to the nearer side, 4-30 px from the edge
            cx = (4 + rng.uniform(0, 26) - lo[0]) if sx < 0.5 else (w - 4 - rng.uniform(0, 26) - hi[0])
            cy = sy * h + rng.uniform(-0.1, 0.1) * h
        else:
            cx = sx * w + rng.uniform(-0.05, 0.05) * w
            cy = sy * h + rng.uniform(-0.05, 0.05) * h
        # Keep the whole label in the frame.
        cx = float(np.clip(cx, 2 - lo[0], w - 2 - hi[0]))
        cy = float(np.clip(cy, 2 - lo[1], h - 2 - hi[1]))
        corners += np.array([cx, cy], np.float32)
        footprint = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(footprint, corners.astype(np.int32), 1)
        if (footprint & taken).any():
            continue  # it would cover another label: leave it out
        taken |= footprint
        _place(frame, label, corners)
        matrix = cv2.getPerspectiveTransform(
            np.array([[0, 0], [label.shape[1], 0], [label.shape[1], label.shape[0]], [0, label.shape[0]]],
                     np.float32), corners)  # fmt: skip
        code_box = cv2.perspectiveTransform(_code_corners(label, render_px)[None], matrix)[0]
        pending.append((cy, code, module, tilt, rotation, corners, code_box))
    frame, blur_px = _degrade(frame, condition, rng, np_rng)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    placed = []
    for _, code, module, tilt, rotation, corners, code_box in sorted(pending, key=lambda p: p[0]):
        mask = np.zeros(grey.shape, np.uint8)
        cv2.fillConvexPoly(mask, code_box.astype(np.int32), 255)
        values = grey[mask > 0]
        contrast = int(np.percentile(values, 95) - np.percentile(values, 5)) if values.size else 0
        label_corners = tuple((int(x), int(y)) for x, y in corners)
        placed.append(
            Placed(code.text, code.format, round(module, 2), round(tilt, 1), round(rotation % 360, 1),
                   contrast, label_corners)
        )  # fmt: skip
    return Frame(image=frame, texts=tuple(p.text for p in placed), labels=tuple(p.corners for p in placed),
                 condition=condition, seed=seed, codes=tuple(placed), blur_px=blur_px)  # fmt: skip


def _motion_kernel(length: int, angle: float) -> np.ndarray:
    k = length if length % 2 else length + 1
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, (k - length) // 2 : (k - length) // 2 + length] = 1
    rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), angle, 1)
    kernel = cv2.warpAffine(kernel, rot, (k, k))
    return kernel / max(float(kernel.sum()), 1e-6)


def _disc_kernel(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    kernel = np.clip(radius + 0.5 - np.hypot(xx, yy), 0, 1)
    return kernel / kernel.sum()


def _degrade(frame: np.ndarray, condition: str, rng: random.Random,
             np_rng: np.random.Generator) -> tuple[np.ndarray, float]:  # fmt: skip
    img = frame.astype(np.float32)
    h, w = frame.shape[:2]
    blur_px = 0.0
    if condition == "motion blur":
        length = rng.randint(3, 10)
        img = cv2.filter2D(img, -1, _motion_kernel(length, rng.uniform(0, 180)))
        blur_px = float(length)
    elif condition == "defocus":
        radius = rng.uniform(1.2, 2.6)
        img = cv2.filter2D(img, -1, _disc_kernel(radius))
        blur_px = round(2 * radius, 1)
    elif condition == "glare":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        r = rng.uniform(0.06, 0.16) * w
        img += rng.uniform(120, 230) * np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))[..., None]
    elif condition == "low light":
        img = 255 * (img / 255) ** 1.3 * rng.uniform(0.2, 0.4)
        length = rng.randint(2, 4)  # a slower shutter
        img = cv2.filter2D(img, -1, _motion_kernel(length, rng.uniform(0, 180)))
        blur_px = float(length)
        img += np_rng.normal(0, rng.uniform(3, 6), img.shape)
    elif condition == "small at edge":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d = np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)) / np.sqrt(2)
        img *= (1 - 0.45 * d**2)[..., None]  # vignetting
        img = cv2.GaussianBlur(img, (0, 0), 0.8)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)  # every lens is a little soft
    img += np_rng.normal(0, rng.uniform(2, 5), img.shape)  # sensor noise
    img = np.clip(img, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(70, 90)])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR), blur_px


def warehouse_frames(count: int, seed: int = 1, size: tuple[int, int] = (1280, 720)) -> Iterator[Frame]:
    """``count`` frames, deterministic for a given ``seed``, cycling through every condition."""
    for i in range(count):
        yield warehouse_frame(seed * 100_003 + i, size, CONDITIONS[i % len(CONDITIONS)])


def label_frame(code: Code, seed: int = 1, *, module_px: float = 2.5, rotation: float = 0.0,
                tilt: float = 0.0, centre: tuple[float, float] = (0.5, 0.5), condition: str = "clean",
                size: tuple[int, int] = (1280, 720)) -> Frame:  # fmt: skip
    """One frame with one given code, placed as told (``centre`` as fractions of the frame, kept
    inside it), spoiled by ``condition``: for a test that needs one particular kind of frame."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    w, h = size
    frame = _background(rng, np_rng, size)
    label = render_label(code, rng, 4)
    width = label.shape[1] * module_px / 4
    corners = _project((label.shape[1], label.shape[0]), width, rotation, tilt, 30.0)
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    cx = float(np.clip(centre[0] * w, 2 - lo[0], w - 2 - hi[0]))
    cy = float(np.clip(centre[1] * h, 2 - lo[1], h - 2 - hi[1]))
    corners += np.array([cx, cy], np.float32)
    _place(frame, label, corners)
    frame, blur_px = _degrade(frame, condition, rng, np_rng)
    label_corners = tuple((int(x), int(y)) for x, y in corners)
    placed = Placed(code.text, code.format, module_px, tilt, rotation, 0, label_corners)
    return Frame(image=frame, texts=(code.text,), labels=(label_corners,), condition=condition, seed=seed,
                 codes=(placed,), blur_px=blur_px)  # fmt: skip
