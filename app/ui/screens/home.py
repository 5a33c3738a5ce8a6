"""Home: the signed-in person's jobs, one big button each, with what is waiting for it."""

from __future__ import annotations

import flet as ft

from app.ui import theme
from app.ui.model import SCREEN_TITLES, StationModel
from app.ui.order_queue import late_badge
from app.ui.widgets import Frame, muted

ICONS = {
    "receive": ft.Icons.MOVE_TO_INBOX,
    "inspect": ft.Icons.FACT_CHECK,
    "pack": ft.Icons.INVENTORY_2,
    "supervise": ft.Icons.SUPERVISOR_ACCOUNT,
    "figures": ft.Icons.INSIGHTS,
    "settings": ft.Icons.SETTINGS,
}
WHAT = {
    "receive": "Open a returned parcel and scan what is in it",
    "inspect": "Grade a received item and get its disposition",
    "pack": "Scan an order's items into the box",
    "supervise": "Queues, approvals and this station's outbox",
    "figures": "Return reasons, cycle times, recovery, backlog and alerts",
    "settings": "ERP address, camera, scanner, station id",
}


@ft.component
def Home(model: StationModel) -> ft.Control:
    counts = model.station.work_counts()

    def tile(screen: str) -> ft.Control:
        waiting = counts.get(screen)
        late = counts.get("pack_late", 0) if screen == "pack" else 0
        subtitle = WHAT[screen] + (f" · {waiting} waiting" if waiting else "")
        subtitle += f" · {late} late" if late else ""
        return ft.Container(
            col={"xs": 12, "md": 6},
            key=screen,
            content=ft.Button(
                content=ft.Column(
                    spacing=2,
                    tight=True,
                    alignment=ft.MainAxisAlignment.CENTER,
                    controls=[
                        ft.Row(
                            [
                                ft.Icon(ICONS[screen], size=30),
                                ft.Text(SCREEN_TITLES[screen], size=22, weight=ft.FontWeight.BOLD),
                                *([late_badge(late)] if late else []),
                            ]
                        ),
                        ft.Text(subtitle, size=15),
                    ],
                ),
                on_click=lambda: model.open(screen),
                height=96,
                style=ft.ButtonStyle(
                    shape=ft.RoundedRectangleBorder(radius=10),
                    padding=ft.Padding.symmetric(horizontal=16, vertical=10),
                ),
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
        *_alerts(model),
        muted("Choose a job, or scan a return label or an order to start."),
        ft.ResponsiveRow([tile(s) for s in model.screens()], spacing=12, run_spacing=12),
        ft.Text(" ", size=theme.TEXT),
    ]
    # Home renders once more while a sign-out takes it away: there is nobody to greet then.
    title = f"Hello {model.person['name']}" if model.person else None
    return Frame(model, body, on_scan=on_scan, scan_label="Scan", title=title)


def _alerts(model: StationModel) -> list[ft.Control]:
    """A supervisor's open alerts, from the last figures this station fetched (no ERP call here)."""
    if "figures" not in model.screens():
        return []
    from app.runtime import ago
    from sync.figures import cache_for, last_alerts

    alerts, as_of = last_alerts(cache_for(model.station.settings.data_dir))
    if not alerts:
        return []
    lines = [
        ft.Text(f"Alert {a['number']}: {a['title']}", size=15, color=theme.REFUSED, key=a["key"])
        for a in alerts
    ]
    return [
        ft.Text(
            f"Open alerts: {len(alerts)} (as of {ago(as_of)})",
            size=theme.TEXT,
            weight=ft.FontWeight.W_600,
            color=theme.REFUSED,
        ),
        *lines,
    ]
