"""Sort to tote on the Inspect screen: which tote the unit in hand goes into, the tote last filled,
and the "Close tote" button (app/workflows/tasks/sorting.py decides; this only shows it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.ui import theme
from app.ui.widgets import big_button, button_row, muted
from sync.common.totes import TOTE_WORDS, disposition_words


def tote_controls(view: Any, session: Any, done: Callable[[Any], Any]) -> ft.Control | None:
    """The sort step when the station sorts (``view.extra["sorting"]``), else None."""
    extra = view.extra or {}
    if not extra.get("sorting"):
        return None
    wanted = extra.get("tote_for")
    controls: list[ft.Control] = []
    if wanted:
        word = TOTE_WORDS.get(wanted, wanted.upper())
        text = f"{disposition_words(wanted)} tote: TOTE-{word}-…"
        controls.append(
            ft.Container(
                bgcolor=theme.INFO_BG,
                border=ft.Border.all(2, theme.INFO),
                border_radius=8,
                padding=12,
                content=ft.Row(
                    spacing=10,
                    controls=[
                        ft.Icon(ft.Icons.INVENTORY_2, color=theme.INFO, size=34),
                        ft.Text(
                            text,
                            size=theme.TITLE,
                            weight=ft.FontWeight.BOLD,
                            color=theme.INFO,
                            expand=True,
                            semantics_label=text,
                        ),
                    ],
                ),
            )
        )
    elif extra.get("closing"):
        controls.append(
            ft.Text(
                "Scan the label of the tote to close",
                size=theme.TEXT,
                weight=ft.FontWeight.W_600,
                color=theme.WARN,
            )
        )
    if extra.get("last_tote") and not wanted:
        controls.append(muted(f"Last tote filled: {extra['last_tote']} (scan it again to close it)"))
    if not wanted:
        controls.append(
            button_row(
                [
                    big_button(
                        "Close tote",
                        lambda: done(session.close_tote()),
                        icon=ft.Icons.MOVE_TO_INBOX,
                        primary=bool(extra.get("closing")),
                        key="close-tote",
                    ),
                ]
            )
        )
    return ft.Column(controls, spacing=8, key="sort-to-tote")
