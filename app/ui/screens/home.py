"""Home: the signed-in person's jobs, one big button each, with what is waiting for it."""

from __future__ import annotations

import flet as ft

from app.ui import theme
from app.ui.model import SCREEN_TITLES, StationModel
from app.ui.widgets import Frame, muted

ICONS = {
    "receive": ft.Icons.MOVE_TO_INBOX,
    "inspect": ft.Icons.FACT_CHECK,
    "pack": ft.Icons.INVENTORY_2,
    "supervise": ft.Icons.SUPERVISOR_ACCOUNT,
    "settings": ft.Icons.SETTINGS,
}
WHAT = {
    "receive": "Open a returned parcel and scan what is in it",
    "inspect": "Grade a received item and get its disposition",
    "pack": "Scan an order's items into the box",
    "supervise": "Queues, approvals and this station's outbox",
    "settings": "ERP address, camera, scanner, station id",
}


@ft.component
def Home(model: StationModel) -> ft.Control:
    counts = model.station.work_counts()

    def tile(screen: str) -> ft.Control:
        waiting = counts.get(screen)
        subtitle = WHAT[screen] + (f" · {waiting} waiting" if waiting else "")
        return ft.Container(
            col={"xs": 12, "md": 6},
            key=screen,
            content=ft.Button(
                content=ft.Column(
                    spacing=2,
                    tight=True,
                    alignment=ft.MainAxisAlignment.CENTER,
                    controls=[
                        ft.Row([ft.Icon(ICONS[screen], size=30),
                                ft.Text(SCREEN_TITLES[screen], size=22, weight=ft.FontWeight.BOLD)]),
                        ft.Text(subtitle, size=15),
                    ],
                ),
                on_click=lambda: model.open(screen),
                height=96,
                style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=10),
                                     padding=ft.Padding.symmetric(horizontal=16, vertical=10)),
                expand=True,
            ),
        )

    def on_scan(text: str) -> None:
        target = model.station.job_for_scan(text)
        if isinstance(target, str) and target in model.screens():
            if model.open(target):  # type: ignore[arg-type]
                model.show(model.session.scan(text))
        else:
            model.say("refused", f"{text} is not a return or an order you can work on here")

    body = [
        muted("Choose a job, or scan a return label or an order to start."),
        ft.ResponsiveRow([tile(s) for s in model.screens()], spacing=12, run_spacing=12),
        ft.Text(" ", size=theme.TEXT),
    ]
    return Frame(model, body, on_scan=on_scan, scan_label="Scan", title=f"Hello {model.person['name']}")
