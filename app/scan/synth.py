"""Generated warehouse camera frames: labels under perspective, blur, glare, low light and noise.

For the benchmark and the camera tests: every frame comes from a seed, so a run can be repeated
exactly, and knows the texts a decoder should find in it. Labels are drawn with zxing-cpp's
barcode writer; nothing here decodes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from biip.checksums import gs1_standard_check_digit

from app.scan.gs1 import GS

CONDITIONS = ("clean", "perspective", "blur", "glare", "low light", "noise")
_BOX_PRINT = ("FRAGILE", "THIS SIDE UP", "KEEP DRY", "12/24", "MADE IN EU", "|||| ||| ||")


@dataclass(frozen=True)
class Code:
    """A code to print: ``content`` as the writer wants it, ``text`` as a decoder reads it."""

    format: str  # a zxingcpp.BarcodeFormat name
    content: str
    text: str
    gs1: bool = False


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR
    texts: tuple[str, ...]  # what is on it, in reading order (top to bottom)
    labels: tuple[tuple[tuple[int, int], ...], ...]  # each text's label corners, in the same order
    condition: str
    seed: int


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _with_check(payload: str) -> str:
    return payload + str(gs1_standard_check_digit(payload))


def random_code(rng: random.Random) -> Code:
    """One label code of the kinds a returns desk sees, with random but valid data."""
    kind = rng.choice(
        ["EAN13", "EAN13", "UPCA", "EAN8", "GS1-128", "GS1-DataMatrix", "QRCode", "ITF14", "Code128",
         "DataBar", "DataBarExp"]
    )  # fmt: skip
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


def _place(frame: np.ndarray, label: np.ndarray, centre: tuple[float, float], width: float,
           rng: random.Random, skew: float) -> tuple[tuple[int, int], ...]:  # fmt: skip
    h, w = label.shape
    height = width * h / w
    # Mostly upright, tilted by hand; now and then a label stuck on sideways.
    angle = np.deg2rad(rng.uniform(-25, 25) + (90 if rng.random() < 0.15 else 0))
    cx, cy = centre
    corners = np.array([[-width / 2, -height / 2], [width / 2, -height / 2],
                        [width / 2, height / 2], [-width / 2, height / 2]], np.float32)  # fmt: skip
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    dst = corners @ rot.T + np.array([cx, cy], np.float32)
    dst += np.array([[rng.uniform(-skew, skew) * width for _ in range(2)] for _ in range(4)], np.float32)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    fh, fw = frame.shape[:2]
    warped = cv2.warpPerspective(label, matrix, (fw, fh), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full_like(label, 255), matrix, (fw, fh), flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255)[..., None]
    frame[:] = (frame * (1 - alpha) + warped[..., None] * alpha).astype(np.uint8)
    return tuple((int(x), int(y)) for x, y in dst)


def warehouse_frame(seed: int, size: tuple[int, int] = (1280, 720), condition: str | None = None,
                    max_labels: int = 2) -> Frame:  # fmt: skip
    """One camera frame with 0..``max_labels`` labels (about one frame in ten has none)."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    condition = condition or CONDITIONS[seed % len(CONDITIONS)]
    w, h = size
    frame = _background(rng, np_rng, size)
    count = 0 if rng.random() < 0.1 else rng.randint(1, max_labels)
    placed: list[tuple[float, str, tuple[tuple[int, int], ...]]] = []
    slots = rng.sample([(x, y) for x in (0.3, 0.7) for y in (0.3, 0.7)], count)
    for sx, sy in slots:
        code = random_code(rng)
        module_px = 4
        label = render_label(code, rng, module_px)
        # Codes land at 1.4-3.0 pixels per module: a handheld camera 20-40 cm from the label.
        target_module = rng.uniform(1.4, 3.0)
        width = label.shape[1] * target_module / module_px
        width = min(width, 0.45 * w)
        centre = (sx * w + rng.uniform(-0.05, 0.05) * w, sy * h + rng.uniform(-0.05, 0.05) * h)
        skew = 0.08 if condition == "perspective" else 0.02
        corners = _place(frame, label, centre, width, rng, skew)
        placed.append((centre[1], code.text, corners))
    frame = _degrade(frame, condition, rng, np_rng)
    placed.sort()
    return Frame(image=frame, texts=tuple(p[1] for p in placed), labels=tuple(p[2] for p in placed),
                 condition=condition, seed=seed)  # fmt: skip


def _degrade(
    frame: np.ndarray, condition: str, rng: random.Random, np_rng: np.random.Generator
) -> np.ndarray:
    img = frame.astype(np.float32)
    h, w = frame.shape[:2]
    if condition == "blur":
        if rng.random() < 0.5:
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1.0, 1.8))
        else:
            k = rng.randint(5, 9)
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2, :] = 1 / k
            rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1)
            kernel = cv2.warpAffine(kernel, rot, (k, k))
            img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    elif condition == "glare":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        r = rng.uniform(0.08, 0.18) * w
        img += 200 * np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))[..., None]
    elif condition == "low light":
        img = 255 * (img / 255) ** 1.4 * rng.uniform(0.22, 0.4)
        img += np_rng.normal(0, 4, img.shape)
    elif condition == "noise":
        img += np_rng.normal(0, rng.uniform(10, 18), img.shape)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)  # every lens is a little soft
    img = np.clip(img, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(70, 90)])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def warehouse_frames(count: int, seed: int = 1, size: tuple[int, int] = (1280, 720)) -> Iterator[Frame]:
    """``count`` frames, deterministic for a given ``seed``, cycling through every condition."""
    for i in range(count):
        yield warehouse_frame(seed * 100_003 + i, size, CONDITIONS[i % len(CONDITIONS)])
