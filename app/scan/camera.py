"""A camera as a source of scans: OpenCV capture from a device index, a video file or a stream URL,
decoded in a background thread.

* Live sources (a device, a stream URL) are read at the camera's rate by one thread and decoded by
  another, always on the newest frame: when decoding is slower than the camera, frames are
  skipped, never queued up, so a scan is never late by more than one decode.
* A video file is read and decoded frame by frame, none skipped (tests, replaying a recording).
* The same code seen in consecutive frames is one scan: it is reported again only after it has
  been out of view for ``forget_frames`` decoded frames.
* The UI gets a downscaled JPEG preview (``latest_preview()`` or ``on_preview``), a full
  resolution JPEG still for inspection photos (``still()``), and a ``CameraStatus`` it can show;
  a live camera that disappears is reported and reopened every ``reopen_seconds``.

Nothing here blocks the caller: ``start()`` returns at once; callbacks run on the worker threads
(a callback that raises is logged and the camera carries on).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import cv2
import numpy as np

from app.scan.decode import decode_frame
from app.scan.scan import Scan

log = logging.getLogger(__name__)
# OpenCV warns on stderr for every failed open of a missing device; CameraStatus says it better.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

Source = int | str


@dataclass(frozen=True)
class CameraStatus:
    """What the camera is doing, for a status line. ``state`` is one of:
    ``"opening"``, ``"live"``, ``"reconnecting"`` (lost, or never found: trying again),
    ``"ended"`` (a video file is over, or cannot be read), ``"stopped"``."""

    state: str
    message: str
    frames: int = 0


@dataclass(frozen=True)
class FrameScans:
    """The new scans of one frame (``frame`` counts from 0 in the order frames were read)."""

    frame: int
    scans: tuple[Scan, ...]


def describe(source: Source) -> str:
    """How a worker names this source: ``camera 0``, ``video returns.avi``, ``stream rtsp://…``."""
    if isinstance(source, int):
        return f"camera {source}"
    if "://" in source:
        return f"stream {source.split('@')[-1]}"  # never show credentials in a stream URL
    return f"video {os.path.basename(source)}"


def list_cameras(max_index: int = 8) -> list[str]:
    """The cameras this machine offers, as ``"N: camera N (WIDTHxHEIGHT)"`` (N is the ``--camera``
    index). On Linux only the /dev/video* devices that exist are tried; a camera in use by another
    program cannot be opened and is not listed. Never raises."""
    if os.path.isdir("/dev"):
        indexes = sorted(
            int(name[5:]) for name in os.listdir("/dev") if name.startswith("video") and name[5:].isdigit()
        )
        if not indexes and os.path.exists("/proc"):
            return []  # Linux without any video device: do not probe blindly
    else:
        indexes = list(range(max_index))
    found = []
    for index in indexes[:max_index]:
        capture = cv2.VideoCapture(index)
        try:
            if capture.isOpened():
                w = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
                h = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
                found.append(f"{index}: camera {index} ({w}x{h})")
        finally:
            capture.release()
    return found


class Camera:
    """Scans from a camera, a stream or a video file. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        source: Source,
        *,
        on_scan: Callable[[Scan], None] | None = None,
        on_status: Callable[[CameraStatus], None] | None = None,
        on_preview: Callable[[bytes], None] | None = None,
        preview_width: int = 640,
        preview_fps: float = 15.0,
        forget_frames: int = 15,
        reopen_seconds: float = 2.0,
        realtime: bool | None = None,
        decoder: Callable[..., list[Scan]] = decode_frame,
    ) -> None:
        self.source = source
        self.name = describe(source)
        self.realtime = (isinstance(source, int) or "://" in source) if realtime is None else realtime
        self._on_scan, self._on_status, self._on_preview = on_scan, on_status, on_preview
        self.preview_width = preview_width
        self._preview_interval = 1.0 / preview_fps if preview_fps > 0 else 0.0
        self.forget_frames = forget_frames
        self.reopen_seconds = reopen_seconds
        self._decode = decoder
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._latest: tuple[int, np.ndarray] | None = None
        self._preview: bytes | None = None
        self._last_preview_at = 0.0
        self._frames = 0
        self._last_seen: dict[str, int] = {}
        self._decoded_frames = 0
        self._results: queue.Queue[FrameScans | None] = queue.Queue()
        self._listeners: list[Callable[[Scan], None]] = []
        self._reader: FrameReader | None = None
        self._threads: list[threading.Thread] = []
        self._status = CameraStatus("opening", f"Opening {self.name}…")

    # --- public surface -------------------------------------------------------------------------

    def start(self) -> Camera:
        """Open the source and start reading in the background; returns at once."""
        if self._threads:
            return self
        if self.realtime:
            targets = [self._capture_loop, self._decode_loop]
        else:
            targets = [self._file_loop]
        self._threads = [threading.Thread(target=t, name=f"{self.name} {t.__name__}", daemon=True)
                         for t in targets]  # fmt: skip
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading and release the device; waits up to ``timeout`` seconds for the threads."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        if self._status.state != "ended":
            self._set_status("stopped", f"{self.name} stopped")
        self._results.put(None)

    def __enter__(self) -> Camera:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def status(self) -> CameraStatus:
        return self._status

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def results(self, timeout: float | None = None) -> FrameScans | None:
        """The next frame's new scans, waiting up to ``timeout`` s; None when there will be no more
        (the camera stopped or the video ended) or on timeout."""
        try:
            return self._results.get(timeout=timeout)
        except queue.Empty:
            return None

    def add_scan_listener(self, listener: Callable[[Scan], None]) -> Callable[[], None]:
        """Send the codes this camera reads, one at a time as a hand scanner reads them (see
        :class:`FrameReader`), to ``listener`` (called on the camera's thread). Only the listener
        added last gets them: the screen on show at the desk, never two at once. Returns the
        function that removes it."""
        with self._cond:
            if self._reader is None:
                self._reader = FrameReader(decoder=self._decode)
            self._listeners.append(listener)

        def remove() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def latest_preview(self) -> bytes | None:
        """The newest frame as a JPEG at most ``preview_width`` pixels wide (None before the first)."""
        return self._preview

    def still(self, timeout: float = 3.0, quality: int = 92) -> bytes:
        """A full-resolution JPEG of the next frame, for an inspection photo.

        Raises TimeoutError when no frame arrives within ``timeout`` (the camera is lost)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = self._latest[0] if self._latest else -1
            while not self._latest or self._latest[0] == seen:
                if self._latest and not self.running:
                    break  # a finished video: its last frame is the newest there will be
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    raise TimeoutError(f"no picture from {self.name}: {self._status.message}")
                self._cond.wait(remaining)
            frame = self._latest[1]
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return jpeg.tobytes()

    # --- threads --------------------------------------------------------------------------------

    def _open(self) -> cv2.VideoCapture | None:
        capture = cv2.VideoCapture(self.source)
        if capture.isOpened():
            return capture
        capture.release()
        return None

    def _capture_loop(self) -> None:
        capture = None
        try:
            while not self._stop.is_set():
                if capture is None:
                    capture = self._open()
                    if capture is None:
                        self._set_status(
                            "reconnecting",
                            f"{self.name} is not available — trying again every {self.reopen_seconds:g} s",
                        )
                        self._stop.wait(self.reopen_seconds)
                        continue
                    self._set_status("live", f"{self.name} is live")
                ok, frame = capture.read()
                if not ok:
                    capture.release()
                    capture = None
                    self._set_status("reconnecting", f"{self.name} was lost — reconnecting")
                    self._stop.wait(min(self.reopen_seconds, 0.5))
                    continue
                self._publish(frame)
        finally:
            if capture is not None:
                capture.release()

    def _decode_loop(self) -> None:
        done = -1
        while not self._stop.is_set():
            with self._cond:
                while not self._stop.is_set() and (self._latest is None or self._latest[0] == done):
                    self._cond.wait(0.5)
                if self._stop.is_set():
                    return
                index, frame = self._latest  # type: ignore[misc]
            done = index
            self._decode_one(index, frame)

    def _file_loop(self) -> None:
        capture = self._open()
        if capture is None:
            self._set_status("ended", f"{self.name} cannot be read (missing, or not a video)")
            self._results.put(None)
            return
        self._set_status("live", f"reading {self.name}")
        try:
            while not self._stop.is_set():
                ok, frame = capture.read()
                if not ok:
                    break
                index = self._publish(frame)
                self._decode_one(index, frame)
        finally:
            capture.release()
        if not self._stop.is_set():
            self._set_status("ended", f"{self.name} is over ({self._frames} frames)")
            self._results.put(None)

    # --- per frame ------------------------------------------------------------------------------

    def _publish(self, frame: np.ndarray) -> int:
        with self._cond:
            index = self._frames
            self._frames += 1
            self._latest = (index, frame)
            self._cond.notify_all()
        now = time.monotonic()
        if now - self._last_preview_at >= self._preview_interval:
            self._last_preview_at = now
            self._preview = self._encode_preview(frame)
            if self._on_preview:
                self._call(self._on_preview, self._preview)
        return index

    def _encode_preview(self, frame: np.ndarray) -> bytes:
        h, w = frame.shape[:2]
        if w > self.preview_width:
            frame = cv2.resize(frame, (self.preview_width, round(h * self.preview_width / w)),
                               interpolation=cv2.INTER_AREA)  # fmt: skip
        return cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes()

    def _decode_one(self, index: int, frame: np.ndarray) -> None:
        try:
            scans = self._decode(frame, source="camera")
        except Exception:  # a decoder bug must not kill the camera; it is logged with its traceback
            log.exception("decoding frame %d of %s failed", index, self.name)
            return
        listener = self._listeners[-1] if self._listeners else None
        if listener is not None and self._reader is not None:
            chosen = self._reader.take(scans, frame.shape[1], frame.shape[0])
            if chosen is not None:
                self._call(listener, chosen)
        fresh = self._debounce(scans)
        if fresh:
            self._results.put(FrameScans(index, tuple(fresh)))
            if self._on_scan:
                for scan in fresh:
                    self._call(self._on_scan, scan)

    def _debounce(self, scans: list[Scan]) -> list[Scan]:
        """The scans not seen in the last ``forget_frames`` decoded frames."""
        self._decoded_frames += 1
        now = self._decoded_frames
        fresh = [s for s in scans if now - self._last_seen.get(s.text, -(10**9)) > self.forget_frames]
        for scan in scans:
            self._last_seen[scan.text] = now
        if len(self._last_seen) > 256:  # forget codes long gone
            self._last_seen = {t: n for t, n in self._last_seen.items() if now - n <= self.forget_frames}
        return fresh

    def _set_status(self, state: str, message: str) -> None:
        if (state, message) == (self._status.state, self._status.message):
            return
        if state == "reconnecting" and self._status.state != "reconnecting":
            log.warning("%s", message)
        elif state == "live" and self._status.state == "reconnecting":
            log.info("%s is back", self.name)
        self._status = CameraStatus(state, message, self._frames)
        if self._on_status:
            self._call(self._on_status, self._status)

    def _call(self, callback: Callable[..., None], *args: object) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("a camera listener failed; the camera carries on")


# --- frames from a camera in a worker's hand ----------------------------------------------------

# Symbologies without a check digit worth the name: a misread of one frame looks like a code.
WEAK_SYMBOLOGIES = ("ITF", "Code39", "Codabar", "unknown")
# What a wedge scanner with AIM identifiers on sends before GS1 data, per symbology.
_GS1_AIM = {
    "Code128": "]C1",
    "DataMatrix": "]d2",
    "QRCode": "]Q3",
    "DataBar": "]e0",
    "DataBarExpanded": "]e0",
}


def wedge_text(scan: Scan) -> str:
    """What a keyboard-wedge scanner set up as the README says would type for ``scan``: GS1 data
    behind its AIM identifier (so the scan path knows it is GS1), anything else as it reads."""
    prefix = _GS1_AIM.get(scan.symbology) if scan.gs1 else None
    return (prefix or "") + scan.text


@dataclass(frozen=True)
class Guide:
    """The centre guide drawn over the preview, as fractions of the frame: a code is taken when its
    centre lies inside it."""

    width: float = 0.5
    height: float = 0.5

    def holds(self, scan: Scan, frame_w: int, frame_h: int) -> bool:
        if not scan.position:
            return True  # a decoder that gives no corners: the only read there is
        cx = sum(x for x, _ in scan.position) / len(scan.position) / frame_w
        cy = sum(y for _, y in scan.position) / len(scan.position) / frame_h
        return abs(cx - 0.5) <= self.width / 2 and abs(cy - 0.5) <= self.height / 2

    @staticmethod
    def distance(scan: Scan, frame_w: int, frame_h: int) -> float:
        if not scan.position:
            return 0.0
        cx = sum(x for x, _ in scan.position) / len(scan.position) / frame_w
        cy = sum(y for _, y in scan.position) / len(scan.position) / frame_h
        return (cx - 0.5) ** 2 + (cy - 0.5) ** 2


class FrameReader:
    """Reads one code at a time from the frames of a camera someone aims (a handheld's, a phone's,
    a webcam's), the way a hand scanner reads:

    * of several codes in a frame, the one under the centre guide is taken (nearest the centre);
      a frame with none there gives nothing;
    * a code is read once while it stays in view: again only after it has been out of every frame
      for ``forget_s`` seconds and ``forget_frames`` frames (a blurred frame or two while the hand
      moves does not make a second read);
    * a weak symbology (ITF, Code 39, Codabar) or a code with a problem needs ``confirm`` frames in
      a row that agree before it is read.

    Not thread-safe: one reader per camera, fed one frame at a time (``read`` may run in a worker
    thread, as long as two frames of one camera are not read at once)."""

    def __init__(
        self,
        *,
        decoder: Callable[..., list[Scan]] = decode_frame,
        guide: Guide | None = None,
        forget_s: float = 1.0,
        forget_frames: int = 3,
        confirm: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._decode = decoder
        self.guide = guide or Guide()
        self.forget_s = forget_s
        self.forget_frames = forget_frames
        self.confirm = confirm
        self._clock = clock
        self._frame = 0
        self._seen: dict[str, tuple[int, float]] = {}  # read codes -> (frame, time) last in view
        self._streak: tuple[str, int] | None = None  # a weak code waiting for agreeing frames
        self.frames = 0  # frames read, for the benchmark and the status line
        self.failed = 0  # frames that could not be decoded as an image

    def read_jpeg(self, data: bytes) -> Scan | None:
        """The code to act on in this encoded picture (JPEG or PNG), or None."""
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) if data else None
        if image is None:
            self.failed += 1
            return None
        return self.read(image)

    def read(self, image: np.ndarray) -> Scan | None:
        """The code to act on in this frame (grey or BGR), or None: nothing under the guide, a code
        still in view since it was read, or a weak code not yet confirmed."""
        h, w = image.shape[:2]
        try:
            scans = self._decode(image, source="camera")
        except Exception:  # a decoder bug must not stop the camera: this frame reads nothing
            log.exception("decoding a camera frame failed")
            scans = []
        return self.take(scans, w, h)

    def take(self, scans: list[Scan], w: int, h: int) -> Scan | None:
        """The same choice as :meth:`read`, for a ``w`` x ``h`` frame someone else decoded."""
        self._frame += 1
        self.frames += 1
        now = self._clock()
        for text in [t for t, seen in self._seen.items() if self._gone(seen, now)]:
            del self._seen[text]
        for scan in scans:
            if scan.text in self._seen:  # read already and still in view: it stays read
                self._seen[scan.text] = (self._frame, now)
        aimed = sorted((s for s in scans if self.guide.holds(s, w, h)), key=lambda s: Guide.distance(s, w, h))
        if not aimed:
            self._streak = None
            return None
        scan = aimed[0]
        if scan.text in self._seen:
            return None
        if scan.symbology in WEAK_SYMBOLOGIES or scan.problem:
            count = self._streak[1] + 1 if self._streak and self._streak[0] == scan.text else 1
            self._streak = (scan.text, count)
            if count < self.confirm:
                return None
        self._streak = None
        self._seen[scan.text] = (self._frame, now)
        return scan

    def _gone(self, seen: tuple[int, float], now: float) -> bool:
        """True when a code last in view at ``seen`` (frame, time) has been out of view long enough."""
        frame, when = seen
        return self._frame - frame > self.forget_frames and now - when >= self.forget_s


class FramePipeline:
    """Frames from a device camera in, codes out, on an asyncio loop (the UI's): ``put`` each
    encoded frame as it arrives; ``run`` decodes the newest one waiting in ``executor`` (never on
    the loop) and awaits ``on_code(scan, arrived)`` for each code the :class:`FrameReader` takes,
    ``arrived`` being the ``time.monotonic()`` at which the frame holding it was put. A slow decode
    skips frames rather than queueing them, so a read is never later than one decode behind."""

    def __init__(
        self, reader: FrameReader, on_code: Callable[[Scan, float], object], executor: Executor | None = None
    ) -> None:
        self.reader = reader
        self.on_code = on_code
        self.executor = executor
        self._frame: tuple[float, bytes] | None = None
        self._ready: asyncio.Event | None = None
        self._running = False
        self.frames_in = 0
        self.frames_decoded = 0

    def put(self, data: bytes) -> None:
        """A frame has arrived (call on the loop ``run`` runs on)."""
        self.frames_in += 1
        self._frame = (time.monotonic(), data)
        if self._ready is not None:
            self._ready.set()

    def stop(self) -> None:
        self._running = False
        if self._ready is not None:
            self._ready.set()

    async def run(self) -> None:
        """Decode until :meth:`stop`."""
        loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._running = True
        if self._frame is not None:
            self._ready.set()
        while self._running:
            await self._ready.wait()
            self._ready.clear()
            frame, self._frame = self._frame, None
            if frame is None or not self._running:
                continue
            arrived, data = frame
            scan = await loop.run_in_executor(self.executor, self.reader.read_jpeg, data)
            self.frames_decoded += 1
            if scan is not None and self._running:
                result = self.on_code(scan, arrived)
                if asyncio.iscoroutine(result):
                    await result
