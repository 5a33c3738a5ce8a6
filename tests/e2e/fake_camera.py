"""A camera for the browser tests: Chromium's fake capture device playing an MJPEG file the test
writes from the demo's own labels (sync/erp/tryton/labels.py), each label held in front of the
camera for a while, blank bench between them and a long blank tail (Chromium loops the file)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sync.erp.tryton.labels import Label, demo_labels, symbol_matrix
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS

SIZE = (1280, 720)  # what a phone's camera gives at the station's scanning resolution
FPS = 30  # Chromium plays an MJPEG file at 30 frames a second
BENCH = 110  # the grey of the bench the labels are held over


def demo_label(text: str) -> Label:
    """The demo sheet's label whose symbol reads as ``text`` (an RMA, a pick list, a product)."""
    for _title, labels, _columns in demo_labels():
        for label in labels:
            if text in (label.content, label.decoded):
                return label
    raise KeyError(f"no demo label reads {text}")


def label_picture(label: Label, module_px: int = 3) -> np.ndarray:
    """The label as the camera sees it held up: white paper, the symbol, its quiet zone."""
    matrix = symbol_matrix(label)
    if matrix.shape[0] == 1:  # linear: bars as tall as a printed label's
        matrix = np.repeat(matrix, 40, axis=0)
    symbol = np.where(np.repeat(np.repeat(matrix, module_px, 0), module_px, 1), 20, 245).astype(np.uint8)
    pad = 12 * module_px
    h, w = symbol.shape
    paper = np.full((h + 2 * pad, w + 2 * pad), 245, np.uint8)
    paper[pad : pad + h, pad : pad + w] = symbol
    return paper


def scene(label: Label | None, shift: int = 0, colour: tuple[int, int, int] | None = None) -> np.ndarray:
    frame = np.full((SIZE[1], SIZE[0], 3), colour or (BENCH, BENCH + 10, BENCH + 20), np.uint8)
    if label is not None:
        paper = label_picture(label)
        h, w = paper.shape
        y, x = (SIZE[1] - h) // 2 + shift, (SIZE[0] - w) // 2 + shift
        frame[y : y + h, x : x + w] = paper[..., None]
    return frame


def write_mjpeg(
    path: Path,
    codes: Sequence[str | None],
    *,
    lead_s: float = 2.0,
    hold_s: float = 2.0,
    gap_s: float = 1.5,
    tail_s: float = 240.0,
    colour: tuple[int, int, int] | None = None,
) -> Path:
    """Each of ``codes`` (a demo label's text; None for a gap) held ``hold_s`` seconds with
    ``gap_s`` of empty bench after it, after ``lead_s`` of empty bench; then ``tail_s`` of bench."""
    blank = cv2.imencode(".jpg", scene(None, colour=colour), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    with open(path, "wb") as out:
        out.write(blank * int(lead_s * FPS))
        for code in codes:
            if code is not None:
                label = demo_label(code)
                for i in range(int(hold_s * FPS)):
                    picture = scene(label, shift=i % 3, colour=colour)
                    out.write(cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
            out.write(blank * int(gap_s * FPS))
        out.write(blank * int(tail_s * FPS))
    return path


def write_item_video(path: Path, seconds: float = 240.0) -> Path:
    """An item on the bench, moving a little (no two pictures of it are the same bytes)."""
    with open(path, "wb") as out:
        for i in range(int(seconds * FPS)):
            frame = scene(None)
            x = 400 + (i * 7) % 300
            cv2.rectangle(frame, (x, 200), (x + 380, 520), (40, 40, 160), -1)
            cv2.putText(frame, f"{i:05d}", (40, 680), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (240, 240, 240), 2)
            out.write(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    return path


def spki_pin(cert_path: Path) -> str:
    """What Chromium's --ignore-certificate-errors-spki-list takes: base64 SHA-256 of the public key."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@contextmanager
def browser_with_camera(
    chromium,
    video: Path | None,
    *,
    permission: bool = True,
    cert: Path | None = None,
    extra: Sequence[str] = (),
) -> Iterator[object]:
    """A Chromium of its own (launched through the session's Playwright) whose camera plays
    ``video``; None: a machine without a camera. ``permission=False``: the person refused the
    camera. ``cert``: the station's certificate is accepted (as on a handheld that trusts the CA)."""
    args = list(CHROMIUM_ARGS)
    if video is not None:
        args += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
    if permission:
        args.append("--use-fake-ui-for-media-stream")
    if cert is not None:
        args.append(f"--ignore-certificate-errors-spki-list={spki_pin(cert)}")
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, args=[*args, *extra])
    try:
        yield browser
    finally:
        browser.close()
