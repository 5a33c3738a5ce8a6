"""The station app's root: which screen shows, for whom, around the status strip and scan field."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.ui import theme


@ft.component
def StationApp() -> ft.Control:
    badge, set_badge = ft.use_state("")
    return ft.SafeArea(
        expand=True,
        content=ft.Column(
            expand=True,
            controls=[
                ft.Text("Returns Station", size=theme.TITLE, weight=ft.FontWeight.BOLD),
                ft.TextField(
                    label="Badge",
                    autofocus=True,
                    on_submit=lambda e: set_badge(e.control.value),
                    text_size=theme.TEXT,
                ),
                ft.Text(f"Badge {badge}" if badge else "Scan your badge to sign in"),
            ],
        ),
    )


def station_main(page: ft.Page) -> Any:
    page.title = "Returns Station"
    page.render(StationApp)
