"""Reading codes from an image: zxing-cpp and pyzbar together, each where it earns its time.

``decode_frame`` is the one entry point. It works with either decoder alone — a ``flet build``
Android package has pyzbar but not zxing-cpp, and desktop Linux may lack pyzbar's libzbar0 — and
says once, in the log, which one is missing. Only what a warehouse prints is looked for (EAN/UPC,
Code 128, Code 39, ITF, DataBar, Data Matrix, QR): half of zxing-cpp's time on a camera frame
went to the other formats, and they add phantoms.

Text is always zxing-cpp's plain mode (GS1 separators as GS, not ``(01)…``), as the symbol
encodes it. How an image is read depends on where it comes from:

* A photo up to 800 px (a close-up, a cropped label) is read twice every time — zxing-cpp as is,
  and both decoders on a 2x upscale with local contrast equalised (CLAHE), which finds codes with
  modules 1–2 px wide, in poor light or glare, and second codes beside the first. Only while
  nothing is read: pyzbar as is, a 3x upscale, strong CLAHE, zxing-cpp's global binarizer; and on
  a photo up to 480 px, a vote over many sharpened versions plus OpenCV's curved-QR reader
  (``_voted``: a read that does not check itself needs two versions to agree and no rival).
* A camera frame (``source="camera"``, or any image over 800 px) gets one fast zxing-cpp pass on
  the whole frame (no 90°, inverted or downscaled search). Then boxes that look like labels
  (paper brighter than around it) or like codes (dense strong edges) and that no read lies in are
  cut out at full resolution; a linear code in one is turned upright by the direction of its
  edges (so a row crosses every bar, at any angle), its rows averaged four by four and sharpened
  across the bars, then restored across them (a Wiener filter for blur, one row filter), and bars
  under 2 px upscaled before they are turned. Every box gets these before any gets the dear pass
  (pyzbar on an equalised 2x upscale). The frame stops once it has used ``CAMERA_BUDGET_MS`` of
  CPU: the next frame comes a moment later.

Each code is reported once, without the phantoms decoders see in another code's bars: a piece of
a longer read of the same symbology, an EAN-8/UPC-E on the bars of an EAN-13/UPC-A, a read on a
sliver of a larger code, a second text read on the same code, and from a camera an ITF shorter
than ITF-14 (see ``_unique``).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.scan.scan import Point, Scan, make_scan
from sync.common.gtin import to_gtin14

log = logging.getLogger(__name__)

# Decoding runs in a worker thread beside the UI and the camera on small machines (2 cores):
# OpenCV's own thread pool for each resize or threshold there only adds contention. Measured on
# the bench frames: the same CPU time, 30-40% less wall time under load.
cv2.setNumThreads(1)

try:
    import zxingcpp
except ImportError:  # a flet build for Android ships no zxing-cpp
    zxingcpp = None

try:
    from pyzbar import pyzbar
except (ImportError, OSError):  # pyzbar installed but libzbar0 missing, or not installed at all
    pyzbar = None

_warned = False

# Whole images up to this size (longer side) get the full cascade; bigger ones are searched by region.
SMALL_IMAGE = 800
MAX_REGIONS = 4
MIN_EDGE_DENSITY = 0.09
MAX_UPSCALED = 960
MIN_CAMERA_ITF_LENGTH = 14


@dataclass
class _Read:
    """A decoder's answer before it becomes a Scan."""

    text: str
    symbology: str
    gs1: bool | None
    corners: np.ndarray  # 4x2 float, in the coordinates of the image given to decode_frame
    decoder: str = "zxing-cpp"  # or "pyzbar", "opencv"


def available_decoders() -> dict[str, bool]:
    """Which decoders this process can use: ``{"zxing-cpp": bool, "pyzbar": bool}``."""
    return {"zxing-cpp": zxingcpp is not None, "pyzbar": pyzbar is not None}


def _warn_missing_once() -> None:
    global _warned
    if _warned:
        return
    _warned = True
    missing = [name for name, ok in available_decoders().items() if not ok]
    if len(missing) == 2:
        log.error(
            "no barcode decoder: install zxing-cpp, or pyzbar with libzbar0; "
            "camera and image scans read nothing"
        )
    elif missing == ["zxing-cpp"]:
        log.warning("zxing-cpp is missing: reading with pyzbar alone (no DataMatrix, fewer damaged codes)")
    elif missing == ["pyzbar"]:
        log.warning("pyzbar (or its libzbar0) is missing: reading with zxing-cpp alone")


# --- zxing-cpp ---------------------------------------------------------------------------------

_ZXING_NAMES = {
    "EAN-13": "EAN-13", "EAN-8": "EAN-8", "UPC-A": "UPC-A", "UPC-E": "UPC-E", "Code 128": "Code128",
    "Code 39": "Code39", "ITF": "ITF", "ITF-14": "ITF", "Data Matrix": "DataMatrix", "QR Code": "QRCode",
    "DataBar": "DataBar", "DataBar Omni": "DataBar", "DataBar Limited": "DataBar",
    "DataBar Stacked": "DataBar", "DataBar Expanded": "DataBarExpanded",
    "DataBar Expanded Stacked": "DataBarExpanded",
}  # fmt: skip


# What a warehouse prints: retail, GS1 and shipping codes. Leaving out the rest (PDF417, Aztec,
# Codabar, MicroQR, …) halves zxing-cpp's time on a camera frame and gives phantoms fewer chances.
_FORMATS = (
    tuple(
        getattr(zxingcpp.BarcodeFormat, name)
        for name in (
            "EAN13",
            "EAN8",
            "UPCA",
            "UPCE",
            "Code128",
            "Code39",
            "ITF",
            "DataMatrix",
            "QRCode",
            "DataBar",
            "DataBarExpanded",
        )  # fmt: skip
    )
    if zxingcpp is not None
    else ()
)


def _zxing(
    grey: np.ndarray,
    *,
    binarizer: str = "LocalAverage",
    try_invert: bool = True,
    try_rotate: bool = True,
    try_downscale: bool = True,
) -> list[_Read]:
    if zxingcpp is None:
        return []
    found = zxingcpp.read_barcodes(
        grey,
        formats=_FORMATS,
        text_mode=zxingcpp.TextMode.Plain,
        binarizer=getattr(zxingcpp.Binarizer, binarizer),
        try_invert=try_invert,
        try_rotate=try_rotate,
        try_downscale=try_downscale,
    )
    reads = []
    for barcode in found:
        p = barcode.position
        corners = np.array(
            [[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
             [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float32
        )  # fmt: skip
        gs1 = barcode.content_type == zxingcpp.ContentType.GS1
        symbology = _ZXING_NAMES.get(str(barcode.format), "unknown")
        reads.append(_Read(barcode.text, symbology, gs1, corners))
    return reads


# --- pyzbar ------------------------------------------------------------------------------------

_ZBAR_NAMES = {
    "EAN13": "EAN-13", "EAN8": "EAN-8", "UPCA": "UPC-A", "UPCE": "UPC-E", "ISBN13": "EAN-13",
    "CODE128": "Code128", "CODE39": "Code39", "I25": "ITF", "QRCODE": "QRCode", "DATABAR": "DataBar",
    "DATABAR_EXP": "DataBarExpanded",
}  # fmt: skip


def _pyzbar(grey: np.ndarray) -> list[_Read]:
    if pyzbar is None:
        return []
    reads = []
    for symbol in pyzbar.decode(np.ascontiguousarray(grey)):
        try:
            text = symbol.data.decode("utf-8")
        except UnicodeDecodeError:
            text = symbol.data.decode("latin-1")
        points = np.array([(p.x, p.y) for p in symbol.polygon], np.float32)
        if len(points) != 4:
            x, y, w, h = cv2.boundingRect(points) if len(points) else tuple(symbol.rect)
            points = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
        symbology = _ZBAR_NAMES.get(symbol.type, "unknown")
        # zbar drops the leading FNC1 without telling: GS1 is guessed from the text for Code 128.
        gs1 = True if symbology.startswith("DataBar") else None
        reads.append(_Read(text, symbology, gs1, points, decoder="pyzbar"))
    return reads


# --- preprocessing and regions -----------------------------------------------------------------

_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
_CLAHE_STRONG = cv2.createCLAHE(clipLimit=4.0, tileGridSize=(4, 4))


def _upscaled(grey: np.ndarray, factor: float) -> np.ndarray:
    # Upscaling helps codes whose modules are a pixel or two wide; past this size they are not,
    # and the decoders' time grows with the square of the factor.
    factor = min(factor, MAX_UPSCALED / max(grey.shape))
    if factor < 1.5:
        return grey
    return cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def _same(grey: np.ndarray) -> np.ndarray:
    return grey


def _equalised_2x(grey: np.ndarray) -> np.ndarray:
    return _CLAHE.apply(_upscaled(grey, 2))


def _upscaled_3x(grey: np.ndarray) -> np.ndarray:
    return _upscaled(grey, 3)


def _equalised_strong(grey: np.ndarray) -> np.ndarray:
    return _CLAHE_STRONG.apply(grey)


def _upscaled_2x(grey: np.ndarray) -> np.ndarray:
    return _upscaled(grey, 2)


def _zxing_global(grey: np.ndarray) -> list[_Read]:
    return _zxing(grey, binarizer="GlobalHistogram")


_Decoder = Callable[[np.ndarray], list[_Read]]
# (transform, the factor it scales coordinates by, decoders to run on the result)
_Step = tuple[Callable[[np.ndarray], np.ndarray], float, tuple[_Decoder, ...]]

# Always, on a small image or a region: both are cheap there, and the second finds codes with
# modules 1-2 pixels wide, in poor light or glare, and second codes in the same photo.
_ALWAYS: tuple[_Step, ...] = ((_same, 1.0, (_zxing,)), (_equalised_2x, 2.0, (_zxing, _pyzbar)))
# Then, only while nothing has been read, one step at a time.
_FALLBACK: tuple[_Step, ...] = (
    (_same, 1.0, (_pyzbar,)),
    (_upscaled_3x, 3.0, (_zxing, _pyzbar)),
    (_equalised_strong, 1.0, (_zxing, _pyzbar)),
    (_upscaled_2x, 2.0, (_zxing_global,)),
)


def _run(step: _Step, grey: np.ndarray) -> list[_Read]:
    transform, factor, decoders = step
    if factor > 1 and MAX_UPSCALED / max(grey.shape) < 0.75 * factor:
        return []  # too big to upscale this far: the step would repeat a smaller one, slowly
    image = transform(grey)
    reads = [read for decoder in decoders for read in decoder(image)]
    factor = image.shape[1] / grey.shape[1]
    for read in reads:
        read.corners /= factor
    return reads


def _cascade(grey: np.ndarray, always: tuple[_Step, ...] = _ALWAYS,
             fallback: tuple[_Step, ...] = _FALLBACK) -> list[_Read]:  # fmt: skip
    reads = [read for step in always for read in _run(step, grey)]
    for step in fallback:
        if reads:
            break
        reads = _run(step, grey)
    return reads


def candidate_regions(
    grey: np.ndarray, limit: int = MAX_REGIONS, half: np.ndarray | None = None
) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) in ``grey`` that look like labels: paper brighter than its surroundings,
    roughly rectangular, at least a little of the frame. Largest first, at most ``limit``.

    Works on a copy 480 pixels wide: a few milliseconds on a 720p frame (less given ``half``, the
    frame at half size, as the camera path has it).
    """
    h, w = grey.shape
    scale = min(1.0, 480 / max(w, h))
    small = _smaller(grey, scale, half)
    mask = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 61, -12)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area = small.shape[0] * small.shape[1]
    # A label with a code on it is busy: bars and modules make many strong edges. Blank paper,
    # a lit box side or a patch of glare is not worth a decoder's time.
    edges = cv2.Canny(small, 60, 160)
    boxes = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True):
        size = cv2.contourArea(contour)
        if size < 0.004 * area:
            break
        _, (rw, rh), _ = cv2.minAreaRect(contour)
        if size < 0.6 * rw * rh or size > 0.5 * area:  # not a rectangle, or the whole background
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        if cv2.countNonZero(edges[y : y + bh, x : x + bw]) < MIN_EDGE_DENSITY * bw * bh:
            continue
        x0, y0 = max(0, int((x - 4) / scale)), max(0, int((y - 4) / scale))
        x1, y1 = min(w, int((x + bw + 4) / scale)), min(h, int((y + bh + 4) / scale))
        boxes.append((x0, y0, x1 - x0, y1 - y0))
        if len(boxes) == limit:
            break
    return boxes


def _smaller(grey: np.ndarray, scale: float, half: np.ndarray | None) -> np.ndarray:
    if scale >= 1:
        return grey
    if half is not None and scale <= 0.5:  # from the half-size copy: ten times cheaper than from the frame
        size = (round(grey.shape[1] * scale), round(grey.shape[0] * scale))
        return half if size == half.shape[::-1] else cv2.resize(half, size, interpolation=cv2.INTER_LINEAR)
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def code_regions(
    grey: np.ndarray, limit: int = 6, half: np.ndarray | None = None
) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) in ``grey`` dense with strong edges — codes, and print — whatever the
    paper around them: finds labels too big or too pale for ``candidate_regions``. Largest first.

    Works on a copy 640 pixels wide: about a millisecond on a 720p frame.
    """
    h, w = grey.shape
    scale = min(1.0, 640 / max(w, h))
    small = _smaller(grey, scale, half)
    gx = cv2.convertScaleAbs(cv2.Sobel(small, cv2.CV_16S, 1, 0))
    gy = cv2.convertScaleAbs(cv2.Sobel(small, cv2.CV_16S, 0, 1))
    edges = cv2.threshold(cv2.addWeighted(gx, 0.5, gy, 0.5, 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[
        1
    ]
    mask = cv2.threshold(cv2.blur(edges, (13, 13)), 100, 255, cv2.THRESH_BINARY)[1]
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:limit]:
        if cv2.contourArea(contour) < 300:
            break
        x, y, bw, bh = cv2.boundingRect(contour)
        m = int(0.1 * max(bw, bh)) + 4
        x0, y0 = max(0, int((x - m) / scale)), max(0, int((y - m) / scale))
        x1, y1 = min(w, int((x + bw + m) / scale)), min(h, int((y + bh + m) / scale))
        boxes.append((x0, y0, x1 - x0, y1 - y0))
    return boxes


def _inside(box: tuple[int, int, int, int], other: tuple[int, int, int, int]) -> bool:
    """True when most of ``box`` lies in ``other``."""
    x, y, w, h = box
    ox, oy, ow, oh = other
    iw = max(0, min(x + w, ox + ow) - max(x, ox))
    ih = max(0, min(y + h, oy + oh) - max(y, oy))
    return iw * ih >= 0.7 * w * h


def _covered(box: tuple[int, int, int, int], reads: Sequence[_Read]) -> bool:
    """True when a read lies in ``box``. A short ITF from a camera does not count: it is a piece of
    a blurred ITF-14 that ``_unique`` drops, and the box still holds the whole code to read."""
    x, y, w, h = box
    for read in reads:
        if read.symbology == "ITF" and len(read.text) < MIN_CAMERA_ITF_LENGTH:
            continue
        cx, cy = read.corners.mean(axis=0)
        if x <= cx <= x + w and y <= cy <= y + h:
            return True
    return False


# --- the last try on a small photo ----------------------------------------------------------------

HARD_IMAGE = 480  # longer side: small enough for a 2x upscale, which these passes rely on
MIN_VOTES = 2
_SELF_CHECKED = ("QRCode", "DataMatrix")  # Reed-Solomon: a wrong read does not come out


def _unsharp(grey: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    return cv2.addWeighted(grey, 1 + amount, cv2.GaussianBlur(grey, (0, 0), sigma), -amount, 0)


def _hard_variants(grey: np.ndarray):
    """Strong sharpening at 1x, 1.5x and 2x (defocus, soft print), the same after averaging along
    upright bars (noise, a curved or crumpled label), and a blur (speckled QR codes)."""
    yield cv2.GaussianBlur(grey, (0, 0), 2)
    for scale in (1.0, 1.5, 2.0):
        scaled = grey if scale == 1 else _upscaled(grey, scale)
        for sigma in (1, 2, 3):
            for amount in (2, 4):
                yield _unsharp(scaled, sigma * scale, amount)
        if scale > 1:
            for length in (11, 21):
                along = cv2.blur(scaled, (1, int(length * scale)))
                for sigma, amount in ((1, 2), (2, 1)):
                    yield _unsharp(along, sigma * scale, amount)


def _curved_qr(grey: np.ndarray) -> list[_Read]:
    """OpenCV's QR reader for a code on a curved surface (a bottle, a bent sticker)."""
    reads = []
    detector = cv2.QRCodeDetector()
    h, w = grey.shape
    binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 5)
    for image in (grey, binary):
        try:
            text, points, _ = detector.detectAndDecodeCurved(image)
        except cv2.error:
            continue
        if text:
            corners = (
                np.asarray(points, np.float32).reshape(-1, 2)[:4]
                if points is not None and np.asarray(points).size >= 8
                else np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
            )
            reads.append(_Read(text, "QRCode", None, corners, decoder="opencv"))
            break
    return reads


def _voted(grey: np.ndarray) -> list[_Read]:
    """The last try on a small photo nothing else could read: zxing-cpp on many sharpened and
    averaged versions of it, and OpenCV's curved-QR reader. Strong sharpening makes decoders see
    codes that are not there, so a read is kept only when it checks itself (QR, Data Matrix) or
    when at least two versions agree on it and no version read anything else of that kind."""
    votes: dict[str, int] = {}
    first: dict[str, _Read] = {}
    for image in _hard_variants(grey):
        factor = image.shape[1] / grey.shape[1]
        texts = set()
        for read in _zxing(image) + _zxing(image, binarizer="GlobalHistogram"):
            read.corners /= factor
            first.setdefault(read.text, read)
            texts.add(read.text)
        for text in texts:  # one vote per version, whatever number of binarizers read it
            votes[text] = votes.get(text, 0) + 1
    strong = [r for r in first.values() if r.symbology in _SELF_CHECKED]
    weak = [r for r in first.values() if r.symbology not in _SELF_CHECKED]
    kept = strong + (weak if len(weak) == 1 and votes[weak[0].text] >= MIN_VOTES else [])
    return kept or _curved_qr(grey)


# --- a region of a camera frame ---------------------------------------------------------------

# A camera frame stops trying regions once it has used this much CPU: the next frame comes in
# a fraction of a second and may be sharper; the 95th percentile stays under 40 ms.
CAMERA_BUDGET_MS = 28.0
MIN_REGION_FRAME = 32
ANGLE_SIZE = 640  # thin bars vanish on a smaller copy, leaving the label's outline and print
MIN_COHERENCE = 0.2  # below this a region's edges have no one direction: a 2D code, or print
# A box found by its edges alone holds a code only if they nearly all run one way: lines of print
# stay under 0.5, the codes read there were over 0.8 (on the bench frames).
MIN_CODE_COHERENCE = 0.5


def _bar_angle(grey: np.ndarray) -> tuple[float, float]:
    """The direction (degrees) across the bars of a linear code in ``grey``, and how strongly the
    edges agree on it (0: no direction at all, 1: all edges parallel): the structure tensor of
    the gradients, on a copy at most ``ANGLE_SIZE`` px wide."""
    scale = min(1.0, ANGLE_SIZE / max(grey.shape))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    if jxx + jyy <= 0:
        return 0.0, 0.0
    coherence = float(np.hypot(jxx - jyy, 2 * jxy) / (jxx + jyy))
    return float(np.degrees(0.5 * np.arctan2(2 * jxy, jxx - jyy))), coherence


def _rotated(grey: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """``grey`` turned by ``angle`` degrees on a canvas that holds all of it, and the 2x3 matrix
    from ``grey``'s coordinates to the canvas's."""
    h, w = grey.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = int(h * sin + w * cos + 0.5), int(h * cos + w * sin + 0.5)
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    # A constant border (the image's mean grey): three times faster than replicating the edge.
    canvas = cv2.warpAffine(
        grey, matrix, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
        borderValue=int(cv2.mean(grey)[0]),
    )  # fmt: skip
    return canvas, matrix


def _across_bars(grey: np.ndarray, sharpen: float) -> np.ndarray:
    """For upright bars: sharpen across them (undoes some defocus and motion blur), not along."""
    soft = cv2.GaussianBlur(grey, (0, 0), sigmaX=sharpen, sigmaY=0.1)
    return cv2.addWeighted(grey, 2.5, soft, -1.5, 0)


@functools.cache
def _wiener_taps(sigma: float, noise: float, reach: int = 16) -> np.ndarray:
    """A row filter (1 x (2 reach + 1)) undoing a Gaussian blur of ``sigma`` px: the Wiener
    filter's kernel, cut to ``reach`` taps either side and scaled to keep the mean grey."""
    size = 256
    x = np.arange(size)
    x = np.minimum(x, size - x)
    blur = np.exp(-0.5 * (x / sigma) ** 2)
    spectrum = np.fft.rfft(blur / blur.sum())
    taps = np.roll(np.fft.irfft(np.conj(spectrum) / (np.abs(spectrum) ** 2 + noise), size), size // 2)
    taps = taps[size // 2 - reach : size // 2 + reach + 1]
    return (taps / taps.sum()).reshape(1, -1).astype(np.float32)


def _deconvolved(upright: np.ndarray, sigma: float, noise: float = 0.005) -> np.ndarray:
    """For upright bars: each row restored by a Wiener filter for a Gaussian blur of ``sigma`` px
    across the bars (defocus, a lens's softness, a short shake across the bars). Sharper edges than
    unsharp masking where bars 1.5-2 px wide run into each other."""
    return cv2.filter2D(upright, -1, _wiener_taps(sigma, noise), borderType=cv2.BORDER_REPLICATE)


def _upscaled_2x_cubic(grey: np.ndarray) -> np.ndarray:
    return cv2.resize(grey, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


def _both(upright: np.ndarray) -> list[_Read]:
    """zxing-cpp on an image whose bars stand upright; pyzbar only where zxing-cpp is missing (on
    the bench frames pyzbar read nothing more there and took 3 times zxing-cpp's time)."""
    if zxingcpp is None:
        return _pyzbar(upright)
    return _zxing(upright, try_rotate=False, try_invert=False, try_downscale=False)


def _read_region(grey: np.ndarray, box: tuple[int, int, int, int], deadline: float,
                 need_direction: bool = False, dear: bool = False) -> list[_Read]:  # fmt: skip
    """Codes in one box of a camera frame, read harder than the whole frame was: a linear code
    turned upright first (a row then crosses all of its bars, whatever its angle), then averaged
    along its bars and sharpened or restored across them, upscaled before it is turned when its
    bars are thin; a 2D code equalised and upscaled. ``need_direction``: a box found by its edges
    alone, tried only if they nearly all run one way, and only on averaged rows. ``dear``: only the
    costly last attempt (pyzbar on the equalised 2x upscale), once every box had the others."""
    x, y, w, h = box
    crop = grey[y : y + h, x : x + w]
    angle, coherence = _bar_angle(crop)
    linear = coherence >= MIN_COHERENCE
    if need_direction and coherence < MIN_CODE_COHERENCE:
        return []
    identity = np.array([[1, 0, 0], [0, 1, 0]], np.float64)

    def upright(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if linear and abs(angle) > 3:
            return _rotated(image, angle)
        return image, identity

    def attempts():
        if dear:
            if linear and max(crop.shape) <= MAX_UPSCALED / 2 and pyzbar is not None:
                # Bars a pixel or two wide, in poor light: pyzbar on the equalised 2x upscale reads
                # some that zxing-cpp does not (thin Code 39 at the frame's edge). On labels only,
                # and last: it costs as much as all the other attempts on a label together.
                yield np.array([[2, 0, 0], [0, 2, 0]], np.float64), lambda: _pyzbar(_equalised_2x(crop))
            return
        image, matrix = upright(crop)
        if not linear:
            yield matrix, lambda: _zxing(image, try_invert=False)
        else:
            # Rows averaged four by four first: noise, grain and JPEG blocks cancel, the bars do
            # not, and the decoder has a quarter of the rows to scan (most codes read here).
            flat = cv2.resize(
                image, (image.shape[1], max(8, image.shape[0] // 4)), interpolation=cv2.INTER_AREA
            )
            fy = flat.shape[0] / image.shape[0]
            squash = np.array([[1, 0, 0], [0, fy, 0]], np.float64) @ np.vstack([matrix, [0, 0, 1]])
            yield squash, lambda: _both(_across_bars(flat, 1.2))
            if need_direction:
                return  # a box of edges: the other attempts never read one (bench frames)
            yield squash, lambda: _both(_across_bars(flat, 2.5))
            # Every row: a code whose bars lean (perspective) loses them in the averaged rows.
            yield matrix, lambda: _zxing(image, try_rotate=False, try_invert=False)
            wide = np.array([[2, 0, 0], [0, 1, 0]], np.float64) @ np.vstack([squash, [0, 0, 1]])
            stretched = cv2.resize(flat, None, fx=2, fy=1, interpolation=cv2.INTER_CUBIC)
            yield wide, lambda: _both(_across_bars(stretched, 2.0))
            yield wide, lambda: _both(_deconvolved(stretched, 2.0))
            if max(crop.shape) <= MAX_UPSCALED / 2:
                # Bars 1.3-1.8 px wide: turning them upright smears them into each other unless the
                # label is upscaled first; then averaged eight rows by eight, and restored.
                big, turn = _rotated(_upscaled_2x_cubic(crop), angle)
                rows = max(8, big.shape[0] // 8)
                thin = cv2.resize(big, (big.shape[1], rows), interpolation=cv2.INTER_AREA)
                to_thin = (
                    np.array([[1, 0, 0], [0, thin.shape[0] / big.shape[0], 0], [0, 0, 1]], np.float64)
                    @ np.vstack([turn, [0, 0, 1]])
                    @ np.diag([2.0, 2.0, 1.0])
                )[:2]
                yield to_thin, lambda: _both(thin)
                yield to_thin, lambda: _both(_deconvolved(thin, 2.0))
        if not linear and max(crop.shape) <= MAX_UPSCALED / 2:
            # A 2D code the whole frame missed is small or faint: equalised and upscaled.
            yield (
                np.array([[2, 0, 0], [0, 2, 0]], np.float64),
                lambda: _zxing(_equalised_2x(crop), try_invert=False),
            )

    for matrix, attempt in attempts():
        if time.thread_time() > deadline:
            break
        reads = attempt()
        if reads:
            back = cv2.invertAffineTransform(matrix)
            for read in reads:  # from the attempt's image to the frame
                ones = np.ones((len(read.corners), 1), np.float32)
                read.corners = (np.hstack([read.corners, ones]) @ back.T + (x, y)).astype(np.float32)
            return reads
    return []


def _camera(grey: np.ndarray, budget_ms: float) -> list[_Read]:
    """A camera frame: one whole-frame pass, then the label-like regions no read lies in, while
    the frame's CPU budget lasts."""
    deadline = time.thread_time() + budget_ms / 1000
    reads = _zxing(grey, try_invert=False, try_rotate=False, try_downscale=False)
    if min(grey.shape) < MIN_REGION_FRAME:
        return reads  # a sliver: no label-sized box to look for (and no half-size copy to make)
    half = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    labels = candidate_regions(grey, half=half)
    boxes = [(box, False) for box in labels]
    boxes += [
        (box, True)
        for box in code_regions(grey, half=half)
        if not any(_inside(box, label) for label in labels)
    ]
    # Every box gets the cheap attempts before any gets the dear one: a frame with three labels
    # reads all three rather than spending its budget on the first.
    for dear in (False, True):
        for box, need_direction in boxes:
            if time.thread_time() > deadline:
                break
            if not (dear and need_direction) and not _covered(box, reads):
                reads += _read_region(grey, box, deadline, need_direction, dear)
    return reads


# --- the pipeline -------------------------------------------------------------------------------


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _in_bars_of(point: np.ndarray, corners: np.ndarray) -> bool:
    """True when ``point`` lies on the bars of a linear code: within its length, and above or below
    its scan line by no more than the code is tall (or a third of its length, for a thin line)."""
    along = corners[1] - corners[0]
    length = float(np.hypot(*along))
    if length < 1:
        return False
    along /= length
    across = np.array([-along[1], along[0]], np.float32)
    a = float(np.dot(point - corners[0], along))
    b = float(np.dot(point - corners[0], across))
    spread = (corners - corners[0]) @ across
    margin = max(float(spread.max() - spread.min()), length / 3)
    return 0 <= a <= length and spread.min() - margin <= b <= spread.max() + margin


_SHORT_RETAIL = ("EAN-8", "UPC-E")
# Symbologies without a check character: a damaged one can read as another valid text.
_UNCHECKED = ("Code39", "Codabar", "ITF")
_LONG_RETAIL = ("EAN-13", "UPC-A")


def _unique(reads: list[_Read], *, camera: bool) -> list[_Read]:
    """Each code once, without the phantoms decoders see in the bars of another code:

    * a read that is a piece of a longer read of the same symbology (a partial ITF or Code 39);
    * an EAN-8 or UPC-E read on the bars of an EAN-13 or UPC-A (a skewed EAN-13 can hold one);
    * from a camera, an ITF shorter than ITF-14: a partial ITF of a blurred ITF-14 is the classic
      misread of moving cameras, and ITF on the warehouse floor is ITF-14;
    * two different texts of the same symbology and length read on the same bars of a code without
      a check character (a damaged Code 39 read as ``LOC-G27-6`` and ``LOC-G27B6``): one of them is
      a misread and nothing tells which, so neither is kept — a misread is worse than no read;
    * a read on a sliver of another, much larger read (codes do not overlap): an EAN-13 read along
      one slanted line through a UPC-A's bars (``9074932437075`` on ``0023942431015``), an ITF in a
      QR code's modules;
    * two texts of one symbology on the same place, as large as each other: pyzbar's and zxing-cpp's
      readings of a QR code in Shift JIS or of a Code 128 with FNC4, where zxing-cpp's is kept (it
      follows the symbol's character set); two EAN/UPC texts on the same bars, one read by both
      decoders three times or more over the passes and the other once: the first is kept;
      otherwise neither.
    """
    seen: dict[str, _Read] = {}
    votes: dict[str, int] = {}
    decoders: dict[str, set[str]] = {}
    for read in reads:
        seen.setdefault(read.text, read)
        votes[read.text] = votes.get(read.text, 0) + 1
        decoders.setdefault(read.text, set()).add(read.decoder)
    kept = list(seen.values())

    def outreads(a: _Read, b: _Read) -> bool:
        """``a`` read by both decoders, three times or more over the passes; ``b`` once."""
        return votes[a.text] >= 3 and len(decoders[a.text]) >= 2 and votes[b.text] == 1

    def phantom(r: _Read) -> bool:
        if camera and r.symbology == "ITF" and len(r.text) < MIN_CAMERA_ITF_LENGTH:
            return True
        if r.symbology == "ITF" and decoders[r.text] == {"pyzbar"} and to_gtin14(r.text) is None:
            return True  # pyzbar alone, no check digit to hold it: its ITF in damaged bars
        for o in kept:
            if o is r:
                continue
            if o.symbology == r.symbology and r.text in o.text:
                return True
            if r.symbology in _SHORT_RETAIL and o.symbology in _LONG_RETAIL:
                if _in_bars_of(r.corners.mean(axis=0), o.corners):
                    return True
        return False

    def rival(r: _Read) -> bool:
        return r.symbology in _UNCHECKED and any(
            o is not r and o.symbology == r.symbology and len(o.text) == len(r.text) and _overlap(r, o)
            for o in kept
        )

    def on_another(r: _Read) -> bool:
        """A sliver of a larger code, or one of two texts read on the same code."""
        centre = r.corners.mean(axis=0)
        for o in kept:
            if o is r:
                continue
            larger = _thick(o) and _area(o) >= SLIVER_RATIO * _area(r)
            if r.symbology in _SELF_CHECKED:
                # A QR code can hold another (a "double QR"); only the same symbol read twice
                # (as large, on the same place) is two readings of one code.
                same = o.symbology == r.symbology and _holds(o, centre) and _holds(r, o.corners.mean(axis=0))
                if not same or max(_area(o), _area(r)) > 2 * min(_area(o), _area(r)):
                    continue
            elif _family(o) != _family(r):
                if larger and _holds(o, centre):
                    return True  # an ITF in a QR code's modules
                continue
            elif not (_holds(o, centre) or _on_bars(centre, o) or _on_bars(o.corners.mean(axis=0), r)):
                continue
            if larger:
                return True
            if _thick(r) and _area(r) >= SLIVER_RATIO * _area(o):
                continue  # o is the sliver
            if outreads(r, o):
                continue
            same_symbol = (
                o.symbology == r.symbology and _holds(o, centre) and _holds(r, o.corners.mean(axis=0))
            )
            if outreads(o, r) or not (same_symbol and r.decoder == "zxing-cpp" and o.decoder == "pyzbar"):
                return True  # outread, pyzbar's reading of zxing-cpp's symbol, or nothing tells: neither
        return False

    kept = [r for r in kept if not phantom(r) and not rival(r)]
    return [r for r in kept if not on_another(r)]  # among the reads left: a piece of one is no rival


# A read whose box is this many times smaller than another's it lies on is a sliver of that one.
SLIVER_RATIO = 4.0


def _area(read: _Read) -> float:
    return max(1.0, abs(float(cv2.contourArea(read.corners.astype(np.float32)))))


def _holds(read: _Read, point: np.ndarray) -> bool:
    """True when ``point`` lies in ``read``'s box (on its edge included)."""
    contour = read.corners.astype(np.float32).reshape(-1, 1, 2)
    return cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0


def _thick(read: _Read) -> bool:
    """A box, not a line: a decoder that read a code on one scan line gives a sliver of it."""
    (_, _), (w, h), _ = cv2.minAreaRect(read.corners.astype(np.float32))
    return min(w, h) >= 0.15 * max(w, h, 1.0)


def _on_bars(point: np.ndarray, read: _Read) -> bool:
    return read.symbology not in _SELF_CHECKED and _in_bars_of(point, read.corners)


def _family(read: _Read) -> str:
    """EAN and UPC are one family: decoders read any of them on the others' bars."""
    return "EAN/UPC" if read.symbology in _SHORT_RETAIL + _LONG_RETAIL else read.symbology


def _overlap(a: _Read, b: _Read) -> bool:
    """True when two reads' boxes meet, each grown by a tenth of the larger one (a decoder may give
    a code as a single point at its edge)."""
    lo_a, hi_a = a.corners.min(axis=0), a.corners.max(axis=0)
    lo_b, hi_b = b.corners.min(axis=0), b.corners.max(axis=0)
    grow = max(8.0, 0.1 * float(max((hi_a - lo_a).max(), (hi_b - lo_b).max())))
    return bool(np.all(lo_a - grow <= hi_b) and np.all(lo_b - grow <= hi_a))


def decode_frame(image: np.ndarray, *, source: str = "image") -> list[Scan]:
    """Every code in a grey or BGR(A) image, each once, with its corners in image coordinates.

    ``source`` is recorded on each Scan; ``"camera"`` also means "another frame follows in a few
    milliseconds": every frame then gets the fast path, whatever its size, instead of the
    thorough one a single photo gets.

    Never raises for an image without codes (returns []); raises ValueError for something that
    is not an image (wrong dtype or shape).
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError("decode_frame needs an 8-bit grey or BGR image as a numpy array")
    _warn_missing_once()
    if image.size == 0:
        return []
    grey = _grey(image)
    h, w = grey.shape
    if max(h, w) <= SMALL_IMAGE and source != "camera":
        reads = _cascade(grey)
        if not reads and max(h, w) <= HARD_IMAGE:
            reads = _voted(grey)
    else:
        reads = _camera(grey, CAMERA_BUDGET_MS)
    return [_to_scan(read, source) for read in _unique(reads, camera=source == "camera")]


def _to_scan(read: _Read, source: str) -> Scan:
    corners: tuple[Point, ...] = tuple((int(round(px)), int(round(py))) for px, py in read.corners)
    return make_scan(read.text, read.symbology, gs1=read.gs1, position=corners, source=source)
