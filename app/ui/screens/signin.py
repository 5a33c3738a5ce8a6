"""Sign-in: scan (or type) the badge, then the PIN. The home screen follows."""

from __future__ import annotations

import flet as ft

from app.ui import theme
from app.ui.model import StationModel
from app.ui.widgets import Frame, ScanField, big_button, muted, sign_in


@ft.component
def SignIn(model: StationModel) -> ft.Control:
    badge, set_badge = ft.use_state("")

    def take_badge(text: str) -> None:
        found = model.station.find_person(text)
        if isinstance(found, str):
            model.say("refused", found)
            return
        set_badge(found["badge"])
        model.say("info", f"Hello {found['name']}: enter your PIN")

    def take_pin(pin: str) -> None:
        found = model.station.check_pin(badge, pin)
        if isinstance(found, str):
            model.say("refused", found)
            return
        sign_in(model, found)

    def restart() -> None:
        set_badge("")
        model.feedback = None

    if not badge:
        body = [
            muted("Scan your badge, or type its number and press Enter."),
        ]
        if model.station.store.is_empty():
            settings = big_button("Settings", lambda: model.go("settings"), icon=ft.Icons.SETTINGS)
            body.append(ft.Row([settings]))
        return Frame(model, body, on_scan=take_badge, scan_label="Badge", title="Sign in")
    body = [
        ScanField(take_pin, label="PIN", keep_focus=False, password=True, key=f"pin-{badge}"),
        ft.Row([big_button("Not me", restart, icon=ft.Icons.ARROW_BACK)]),
        ft.Text(f"Badge {badge}", size=theme.TEXT),
    ]
    return Frame(model, body, title="Sign in")
