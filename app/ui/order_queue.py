"""The orders waiting to be packed, most urgent first (app.workflows.priority): each row says its
service class and due time, and a late one carries a "LATE" badge with an alarm icon (words and a
shape, not colour alone). A row's accessible name is the whole of it in words."""

from __future__ import annotations

from collections.abc import Sequence

import flet as ft

from app.ui import theme
from app.workflows.views import OrderView

SHOWN = 30  # a handheld scrolls; more than this is the supervisor's business


def late_badge(count: int | None = None) -> ft.Control:
    """A red "LATE" badge with an alarm icon ("3 LATE" with a count)."""
    words = "LATE" if count is None else f"{count} LATE"
    return ft.Container(
        bgcolor=theme.REFUSED,
        border_radius=6,
        padding=ft.Padding.symmetric(horizontal=8, vertical=2),
        content=ft.Row(
            tight=True,
            spacing=4,
            controls=[
                ft.Icon(ft.Icons.ALARM, color=ft.Colors.WHITE, size=18),
                ft.Text(words, color=ft.Colors.WHITE, size=15, weight=ft.FontWeight.BOLD),
            ],
        ),
    )


def order_row(order: OrderView) -> ft.Control:
    head: list[ft.Control] = [ft.Text(order.number, size=theme.TEXT, weight=ft.FontWeight.W_600)]
    if order.late:
        head.append(late_badge())
    head.append(ft.Text(order.service_class, size=15, color=theme.INFO))
    rest = order.label.split(" · ")[2 if order.late else 1 :]
    return ft.Semantics(
        key=order.key,
        label=order.label,
        container=True,
        exclude_semantics=True,
        content=ft.Container(
            border=ft.Border.all(2 if order.late else 1, theme.REFUSED if order.late else theme.MUTED),
            bgcolor=theme.REFUSED_BG if order.late else None,
            border_radius=8,
            padding=10,
            content=ft.Column(
                spacing=2,
                controls=[
                    ft.Row(head, spacing=8, wrap=True),
                    ft.Text(" · ".join(rest[1:]), size=15, color=theme.MUTED),
                ],
            ),
        ),
    )


def order_queue(orders: Sequence[OrderView]) -> ft.Control:
    """The section listing ``orders`` (already sorted), with how many are late in its title."""
    late = sum(1 for o in orders if o.late)
    title = f"Orders waiting: {len(orders)}" + (f", {late} late" if late else "") + " — most urgent first"
    rows = [order_row(o) for o in orders[:SHOWN]]
    if len(orders) > SHOWN:
        rows.append(ft.Text(f"and {len(orders) - SHOWN} more", size=15, color=theme.MUTED))
    return ft.Column(
        spacing=8,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        controls=[ft.Text(title, size=20, weight=ft.FontWeight.BOLD), *rows],
    )
