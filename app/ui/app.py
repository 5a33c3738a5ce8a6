"""The station app's root: which screen shows, for whom, around the status strip and scan field.

``station_main(station)`` gives the function Flet calls for each browser tab or window. Each tab
gets its own :class:`StationModel`; everything that must survive a reload lives in the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import flet as ft

from app.runtime import Station
from app.ui.camera_scan import use_device_feedback
from app.ui.layout import Viewport, use_viewport
from app.ui.model import StationModel
from app.ui.screens.home import Home
from app.ui.screens.signin import SignIn

STATUS_POLL_S = 1.0  # the strip re-reads status this often even if the engine says nothing


def _screens() -> dict[str, Callable[[StationModel], ft.Control]]:
    from app.ui.screens import figures, inspect, pack, receive, settings, supervise

    return {
        "signin": SignIn,
        "home": Home,
        "receive": receive.Receive,
        "inspect": inspect.Inspect,
        "pack": pack.Pack,
        "supervise": supervise.Supervise,
        "figures": figures.Figures,
        "settings": settings.Settings,
    }


@ft.component
def StationApp(station: Station) -> ft.Control:
    model, _ = ft.use_state(lambda: StationModel(station=station, status=station.status()))

    async def watch_status() -> None:
        """Render the sync engine's status: woken by its listener, else every STATUS_POLL_S."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        unsubscribe = station.on_change(lambda: loop.call_soon_threadsafe(wake.set))
        try:
            while True:
                model.refresh_status()
                session = model.session
                if model.person is not None and session is not None and session.expire_if_idle():
                    # the session keeps the job as a draft; the next sign-in resumes it
                    model.person = None
                    model.screen = "signin"
                    model.say("info", "Signed out after a while without activity: your work is kept")
                try:
                    await asyncio.wait_for(wake.wait(), STATUS_POLL_S)
                except TimeoutError:
                    pass
                wake.clear()
        finally:
            unsubscribe()

    ft.use_effect(watch_status, [])
    sounds = ft.use_memo(_sounds, [])
    serial = model.feedback.serial if model.feedback else 0

    async def beep() -> None:
        """A good scan chirps; a refusal or an unexpected item buzzes (info messages stay quiet)."""
        feedback = model.feedback
        if feedback is None or sounds is None or feedback.kind == "info":
            return
        try:
            await sounds["good" if feedback.kind == "good" else "refused"].play()
        except Exception:  # no audio device, or the browser blocks it: the colour still says it
            pass

    ft.use_effect(beep, [serial])
    use_device_feedback(model)  # vibration on a refusal, screen kept awake during a job
    width = use_viewport()  # one column in the hand, panes at the desk (app/ui/layout.py)
    screens = _screens()
    # Without a sign-in, Settings opens only on a new station: no ERP yet, nothing pulled.
    first_setup = model.first_setup()
    screen = model.screen if model.person or (model.screen == "settings" and first_setup) else "signin"
    if screen == "settings" and not model.may_open_settings():  # a receiver never sees the ERP login
        screen = "home"
    return Viewport(width, lambda: ft.SafeArea(expand=True, content=screens[screen](model, key=screen)))


def _sounds() -> dict[str, Any] | None:
    """The two feedback sounds (assets/sounds), or None when flet-audio is not installed."""
    try:
        import flet_audio
    except ImportError:
        return None
    return {name: flet_audio.Audio(src=f"sounds/{name}.wav") for name in ("good", "refused")}


def station_main(station: Station) -> Callable[[ft.Page], Any]:
    """The function Flet runs for each new tab or window on this station."""

    def main(page: ft.Page) -> None:
        page.title = f"Returns Station · {station.station_id}"
        page.padding = 0
        page.theme_mode = ft.ThemeMode.LIGHT
        page.theme = ft.Theme(color_scheme_seed=ft.Colors.INDIGO)
        page.render(StationApp, station)

    return main
