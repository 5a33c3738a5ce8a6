"""Scanning with the camera of the device in the worker's hand: a handheld's or phone's browser, a
desktop's webcam, or a native build (``flet build apk``), through Flet's client-side camera
(``flet-camera``).

**Scan with camera** shows the device's preview (the back camera first) with a centre guide and
**Stop camera**. Frames come from ``start_image_stream()`` where the device streams (native
builds), else from ``take_picture()`` in a loop at :data:`FPS` frames a second (the web). Each
frame is decoded by :class:`app.scan.camera.FrameReader` in a worker thread, never on the UI loop,
and a code read goes to ``on_scan`` as the text a keyboard-wedge scanner would have typed: the same
function the scan field calls, so the same banner, sound, refusal and audit follow.

What can go wrong is said in words on the scan screen (no camera, permission refused, a page not
served over HTTPS on a network address, the camera lost mid-job); the scan field keeps working.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import flet as ft

from app.scan.camera import FramePipeline, FrameReader, wedge_text
from app.tls import is_loopback
from app.ui import theme
from app.ui.widgets import ScanField, icon_button  # widgets.Frame imports this module when drawn

log = logging.getLogger(__name__)

FPS = 10  # frames asked for a second on the web (take_picture in a loop); 8 or more reads well
PREVIEW_W, PREVIEW_H = 256, 144  # with its buttons beside it, fits a 360 px wide handheld
BLOCKED = "Camera blocked: allow it in the browser's site settings"
NO_CAMERA = "No camera found on this device: scan with the scanner or type the code"
LOST = "Camera lost: press Scan with camera to try again"

# Decoding is CPU work in OpenCV/zxing-cpp (which release the GIL): a few threads for every camera
# session of this station, so many handhelds share the cores instead of queueing on the UI loop.
_decoders = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="camera-decode")


def needs_https(page_url: str | None) -> str | None:
    """The "needs HTTPS" line for a page served over plain HTTP on a network address (browsers give
    the camera only to secure pages), else None. ``page_url`` is Flet's ``page.url``
    (``ws://host:port`` or ``wss://…``; None in a desktop or native app)."""
    if not page_url:
        return None
    parts = urlsplit(page_url)
    if parts.scheme in ("https", "wss") or is_loopback(parts.hostname or ""):
        return None
    return f"This page needs HTTPS for the camera: open https://{parts.netloc}/"


def is_desk(page: Any) -> bool:
    """True for the station host's own session: its desktop window, or a browser on this machine.
    Only that session may use the host's USB camera (``STATION_CAMERA``), never a remote handheld."""
    return not page.web or is_loopback(page.client_ip or "")


def device_camera_possible(page: Any) -> bool:
    """flet-camera runs in browsers and native Android/iOS builds, not in the desktop window."""
    return bool(page.web) or page.platform in (ft.PagePlatform.ANDROID, ft.PagePlatform.IOS)


def camera_words(exc: BaseException) -> str:
    """What a worker reads when the camera cannot start."""
    text = str(exc)
    lowered = text.lower()
    if "denied" in lowered or "notallowed" in lowered or "permission" in lowered:
        return BLOCKED
    if "notfound" in lowered or "no camera" in lowered or "not found" in lowered:
        return NO_CAMERA
    if "notreadable" in lowered or "in use" in lowered:
        return "The camera is in use by another app: close it and press Scan with camera again"
    return f"The camera could not start ({text[:80]}): scan with the scanner or type the code"


def _pick(cameras: list[Any]) -> Any:
    """The back camera first (a phone's front camera shows the worker, not the parcel)."""
    import flet_camera as fc

    for wanted in (fc.CameraLensDirection.BACK, fc.CameraLensDirection.EXTERNAL):
        for camera in cameras:
            if camera.lens_direction == wanted:
                return camera
    return cameras[0]


@ft.component
def _CameraScan(
    model: Any,
    on_scan: Callable[[str], Any],
    on_photo: Callable[[bytes], Any] | None = None,
    *,
    label: str = "Scan",
    keep_focus: bool = True,
    hint: str | None = None,
    tab_submits: bool = False,
    compact: bool = False,
    fresh: int = 0,
) -> ft.Control:
    """The scan field with the camera's button beside it (an icon, so the field keeps its line in
    the hand), and under them the camera's preview while it scans. ``label`` to ``tab_submits`` and
    ``fresh`` are the scan field's (widgets.ScanField); ``compact`` makes both smaller for a handheld."""
    import flet_camera as fc

    page = ft.context.page
    field = ScanField(
        on_scan,
        label=label,
        keep_focus=keep_focus,
        hint=hint,
        tab_submits=tab_submits,
        dense=compact,
        fresh=fresh,
    )
    if not device_camera_possible(page):
        return ft.Row([field])
    phase, set_phase = ft.use_state("starting" if model.camera else "off")  # off, starting, on
    wanted, set_wanted = ft.use_state(1 if model.camera else 0)  # bumps on each start
    line, set_line = ft.use_state(None)
    torch, set_torch = ft.use_state(False)
    busy, set_busy = ft.use_state(False)  # a photo is being taken
    ref = ft.use_ref(None)  # the flet_camera.Camera on screen
    running = ft.use_ref(None)  # the token of the loop that should run; None: none
    chosen = ft.use_ref(None)  # the CameraDescription in use
    paused = ft.use_ref(False)  # frames stop while a photo re-initialises the camera
    streaming = ft.use_ref(None)  # where streamed frames go (native builds), else None
    reader = ft.use_memo(FrameReader, [])

    async def live() -> Any:
        """The camera control on screen now. Each render of this widget builds a new one, which
        takes over the old one's place (and client-side camera) once the render is applied."""
        for _ in range(100):
            camera = ref.current
            try:
                if camera is not None and camera.page is not None:
                    return camera
            except RuntimeError:  # built, not yet on the page
                pass
            await asyncio.sleep(0.05)
        return ref.current

    def start() -> None:
        secure = needs_https(page.url if page.web else None)
        if secure:
            set_line(secure)
            return
        set_line(None)
        model.camera = True
        set_phase("starting")
        set_wanted(wanted + 1)

    def stop(words: str | None = None) -> None:
        running.current = None
        model.camera = False
        set_phase("off")
        set_torch(False)
        set_line(words)

    async def frames(token: object, feed: FramePipeline) -> None:
        interval = 1.0 / FPS
        failures = 0
        while running.current is token:
            began = time.monotonic()
            if paused.current:
                await asyncio.sleep(0.1)
                continue
            try:
                # the control on screen now: each render of this widget makes a new one
                data = await (await live()).take_picture()
                failures = 0
            except Exception as exc:
                failures += 1
                if failures >= 10 and running.current is token:
                    log.warning("camera lost: %s", exc)
                    stop(LOST)
                    return
                await asyncio.sleep(0.3)
                continue
            if data:
                feed.put(bytes(data))
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))

    async def submit(scan: Any, _arrived: float) -> None:
        result = on_scan(wedge_text(scan))
        if asyncio.iscoroutine(result):
            await result

    async def run() -> None:
        if not wanted:
            return
        token = running.current = object()
        try:
            # each call asks for the control on screen now (a render in between replaces it)
            cameras = await (await live()).get_available_cameras()
            if not cameras:
                stop(NO_CAMERA)
                return
            chosen.current = _pick(cameras)
            await (await live()).initialize(chosen.current, fc.ResolutionPreset.HIGH, enable_audio=False)
        except Exception as exc:
            if running.current is token:
                stop(camera_words(exc))
            return
        if running.current is not token:
            return
        set_phase("on")
        feed = FramePipeline(reader, submit, _decoders)
        try:
            streams = await (await live()).supports_image_streaming()
        except Exception:
            streams = False
        if streams:
            streaming.current = feed.put
            await (await live()).start_image_stream()
        tasks = [asyncio.create_task(feed.run())]
        if not streams:
            tasks.append(asyncio.create_task(frames(token, feed)))
        try:
            while running.current is token:
                await asyncio.sleep(0.2)
        finally:
            feed.stop()
            for task in tasks:
                task.cancel()

    def cleanup() -> None:
        running.current = None  # the screen was left: the loops end, the camera goes with its control

    ft.use_effect(run, [wanted], cleanup=cleanup)

    async def toggle_torch() -> None:
        try:
            await (await live()).set_flash_mode(fc.FlashMode.OFF if torch else fc.FlashMode.TORCH)
            set_torch(not torch)
        except Exception:
            set_line("This camera has no torch")

    async def photo() -> None:
        """A full-resolution picture for inspection: the camera is opened at its highest resolution
        for the shot, then goes back to scanning."""
        if on_photo is None:
            return
        if phase != "on" or chosen.current is None:
            set_line("Press Scan with camera first, then Capture photo")
            return
        set_busy(True)
        paused.current = True
        try:
            await (await live()).initialize(chosen.current, fc.ResolutionPreset.MAX, enable_audio=False)
            data = await (await live()).take_picture()
        except Exception as exc:
            set_line(f"No picture from the camera ({str(exc)[:60]}): try again, or add a photo from a file")
            data = None
        finally:
            try:
                await (await live()).initialize(chosen.current, fc.ResolutionPreset.HIGH, enable_audio=False)
            except Exception as exc:
                stop(camera_words(exc))
            paused.current = False
            set_busy(False)
        if data:
            result = on_photo(bytes(data))
            if asyncio.iscoroutine(result):
                await result

    # in the hand the camera's button is as high as the dense field beside it (Apple's 44 pt minimum)
    size = theme.TARGET_COMPACT - 4 if compact else theme.TARGET
    if phase == "off":
        toggle = icon_button("Scan with camera", ft.Icons.PHOTO_CAMERA, start, size)
    else:
        toggle = icon_button("Stop camera", ft.Icons.VIDEOCAM_OFF, lambda: stop(), size)
    controls: list[ft.Control] = [ft.Row([field, toggle], spacing=6)]
    if phase != "off":
        guide = ft.Container(
            alignment=ft.Alignment.CENTER,
            content=ft.Container(
                width=PREVIEW_W // 2,
                height=PREVIEW_H // 2,
                border_radius=6,
                border=ft.Border.all(2, ft.Colors.RED_ACCENT_200),
            ),
        )
        preview = ft.Container(
            width=PREVIEW_W,
            height=PREVIEW_H,
            bgcolor=ft.Colors.BLACK,
            border_radius=8,
            clip_behavior=ft.ClipBehavior.HARD_EDGE,
            content=fc.Camera(
                ref=ref,
                preview_enabled=True,
                content=guide,
                expand=True,
                on_stream_image=lambda e: streaming.current and streaming.current(e.bytes),
            ),
        )
        # the torch and the photo beside the preview, not under it: on a handheld the job stays in sight
        side: list[ft.Control] = []
        if phase == "on":
            icon = ft.Icons.FLASHLIGHT_OFF if torch else ft.Icons.FLASHLIGHT_ON
            side.append(icon_button("Torch off" if torch else "Torch on", icon, toggle_torch, size))
        if on_photo is not None:
            side.append(
                icon_button(
                    "Capture photo",
                    ft.Icons.CAMERA_ALT,
                    photo,
                    size,
                    primary=True,
                    disabled=busy or phase != "on",
                )
            )
        controls.append(
            ft.Row(
                [preview, ft.Column(side, spacing=8)],
                spacing=8,
                vertical_alignment=ft.CrossAxisAlignment.START,
            )
        )
        if phase == "starting":
            controls.append(ft.Text("Opening the camera…", size=16, color=theme.MUTED))
    if line:
        controls.append(ft.Text(line, size=16, color=theme.WARN, weight=ft.FontWeight.W_600))
    return ft.Column(controls, spacing=4 if compact else 8)


# Re-rendered only when its props change (pass stable callbacks: widgets.use_latest): a screen
# re-renders on every scan, and that must not restart the camera.
CameraScan = ft.memo(_CameraScan)


@ft.component
def _DeskCamera(station: Any, on_scan: Callable[[str], Any]) -> ft.Control:
    """The host's own USB camera (``STATION_CAMERA``, Settings) scanning for the desk's session: its
    codes go to ``on_scan`` like the wedge scanner's. Nothing on screen; a remote handheld's
    session never gets them (it scans with its own camera)."""
    page = ft.context.page
    desk = is_desk(page)
    running = ft.use_ref(None)  # the token of the loop that should run; None: none

    async def listen() -> None:
        if not desk:
            return
        token = running.current = object()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        camera, remove = None, None
        try:
            while running.current is token:
                current = station.camera()  # may change from Settings while the screen shows
                if current is not camera:
                    if remove is not None:
                        remove()
                    camera, remove = current, None
                    if camera is not None:
                        remove = camera.add_scan_listener(
                            lambda scan: loop.call_soon_threadsafe(queue.put_nowait, scan)
                        )
                try:
                    scan = await asyncio.wait_for(queue.get(), 0.5)
                except TimeoutError:
                    continue
                result = on_scan(wedge_text(scan))
                if asyncio.iscoroutine(result):
                    await result
        finally:
            if remove is not None:
                remove()

    def stop() -> None:
        running.current = None  # the screen was left: the loop ends and lets go of the camera

    ft.use_effect(listen, [], cleanup=stop)
    return ft.Container(height=0)


DeskCamera = ft.memo(_DeskCamera)


JOB_SCREENS = ("receive", "inspect", "pack")


def use_device_feedback(model: Any) -> None:
    """What the device in hand does beside the sounds: it vibrates with the refusal buzz (where it can), and
    keeps its screen awake while a job is open, so a handheld does not lock between two parcels."""
    services = ft.use_memo(_device_services, [])
    feedback = model.feedback
    serial = feedback.serial if feedback else 0
    job_open = bool(model.person) and model.screen in JOB_SCREENS

    async def buzz() -> None:
        # the same moments the refusal sound plays: a refusal, or something not expected
        if services is None or feedback is None or feedback.kind not in ("refused", "warning"):
            return
        try:
            await services["haptics"].vibrate()
        except Exception:  # no vibration motor, or the browser refuses: the red and the buzz say it
            pass

    async def keep_awake() -> None:
        if services is None:
            return
        try:
            await (services["wakelock"].enable() if job_open else services["wakelock"].disable())
        except Exception:  # not supported here: the device's own screen timeout applies
            pass

    ft.use_effect(buzz, [serial])
    ft.use_effect(keep_awake, [job_open])


def _device_services() -> dict[str, Any] | None:
    try:
        return {"haptics": ft.HapticFeedback(), "wakelock": ft.Wakelock()}
    except Exception:  # no page to register them with (a test rendering without a client)
        return None
