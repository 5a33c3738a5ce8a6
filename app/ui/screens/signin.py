"""Sign-in: scan (or type) the badge, then the PIN. The home screen follows."""

from __future__ import annotations

import flet as ft

from app.ui import theme
from app.ui.model import SETTINGS_NEED_A_SUPERVISOR, StationModel
from app.ui.widgets import Frame, ScanField, big_button, muted, sign_in, use_latest


@ft.component
def SignIn(model: StationModel) -> ft.Control:
    badge, set_badge = ft.use_state("")

    def take_badge(text: str) -> None:
        if model.station.store.is_empty():
            if model.station.erp_configured:
                model.say(
                    "refused",
                    "This station has no data from the ERP yet: wait for it to sync, "
                    "or fix its ERP address with `station settings` on this machine",
                )
            else:
                model.say(
                    "refused", "This station has no data from the ERP yet: connect it in Settings, then sync"
                )
            return
        set_badge(text.strip())
        model.say("info", "Now type your PIN and press Enter")

    def take_pin(pin: str) -> None:
        if not sign_in(model, badge, pin):
            set_badge("")

    stable_pin = use_latest(take_pin)

    def restart() -> None:
        set_badge("")
        model.feedback = None

    if not badge:
        body = [
            muted("Scan your badge, or type its number and press Enter."),
        ]

        def open_settings() -> None:
            if model.first_setup():
                model.go("settings")
                return
            model.wants_settings = True  # opens after a supervisor's sign-in
            model.say("info", SETTINGS_NEED_A_SUPERVISOR)

        settings = big_button("Settings", open_settings, icon=ft.Icons.SETTINGS)
        body.append(ft.Row([settings]))
        label = "Supervisor's badge" if model.wants_settings else "Badge"
        return Frame(model, body, on_scan=take_badge, scan_label=label, title="Sign in")
    body = [
        ft.Row([ScanField(stable_pin, label="PIN", keep_focus=False, password=True, key=f"pin-{badge}")]),
        ft.Row([big_button("Not me", restart, icon=ft.Icons.ARROW_BACK)]),
        ft.Text(f"Badge {badge}", size=theme.TEXT),
    ]
    return Frame(model, body, title="Sign in")
