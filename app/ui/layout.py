"""Screens sized for the device: one column in the hand, panes side by side at the desk.

Below :data:`WIDE` logical pixels (a handheld, a phone, a tablet held upright) a screen is one
column: its top (app bar, scan field, banner) stays in place and the job scrolls under it, so the
banner of the last scan is always in sight. From :data:`WIDE` up (a desk's monitor) the job splits
into two panes that scroll each on its own: the scan field, its feedback and the unit on the left,
the lines (or the inspector's form) on the right. A screen marks what goes to the right pane with
:func:`beside`; on a handheld those controls stay where they are in the one column.

The width comes from the browser (or window): :func:`use_viewport` at the app's root follows its
resizes and :data:`Viewport` hands the width down to every screen; :func:`use_wide` reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import flet as ft

WIDE = 1024  # from this width up, panes side by side
PAD_NARROW = 12  # the screen's side margins in the hand: every pixel counts at 360
PAD_WIDE = 20

Viewport = ft.create_context(0.0)  # the page's width in logical pixels (0: not known yet)


def use_viewport() -> float:
    """The page's width, kept up to date as the browser or window is resized (call it once, at the
    root, and hand the value down with ``Viewport(width, render)``)."""
    page = ft.context.page
    width, set_width = ft.use_state(float(page.width or 0))

    def follow() -> None:
        page.on_resize = lambda e: set_width(float(e.width))

    ft.use_effect(follow, [])
    return width


def use_wide() -> bool:
    """True at the desk (the page is :data:`WIDE` px wide or more), False in the hand."""
    return ft.use_context(Viewport) >= WIDE


@dataclass(frozen=True)
class Beside:
    """A control for the second pane at the desk (see :func:`beside`)."""

    control: ft.Control


def beside(control: ft.Control) -> Beside:
    """Put ``control`` in the right-hand pane at the desk; in the hand it stays in its place."""
    return Beside(control)


def one_column(body: Sequence[ft.Control | Beside]) -> list[ft.Control]:
    """The body as one column, in its written order."""
    return [part.control if isinstance(part, Beside) else part for part in body]


def split(body: Sequence[ft.Control | Beside]) -> tuple[list[ft.Control], list[ft.Control]]:
    """The body's left-pane and right-pane controls, each in its written order."""
    left = [part for part in body if not isinstance(part, Beside)]
    right = [part.control for part in body if isinstance(part, Beside)]
    return left, right


def scrolling(
    controls: Sequence[ft.Control], *, expand: int | bool = True, key: str | None = None, spacing: int = 12
) -> ft.Control:
    """A column that scrolls on its own and fills the height it is given."""
    return ft.Column(list(controls), expand=expand, spacing=spacing, scroll=ft.ScrollMode.AUTO, key=key)


def screen(
    top: Sequence[ft.Control],
    body: Sequence[ft.Control | Beside],
    *,
    wide: bool,
    ahead: Sequence[ft.Control] = (),
    fill: bool = False,
) -> ft.Control:
    """The part of a screen under the status strip.

    ``ahead`` (the app bar) and ``top`` (scan field, camera, banner) stay in place and the body
    scrolls under them; at the desk, what the body marks :func:`beside` goes to a right pane that
    scrolls on its own (left 5 parts of the width, right 7). With ``fill`` the body takes the height
    left and scrolls by itself (panels side by side, :func:`side_by_side`)."""
    pad = PAD_WIDE if wide else PAD_NARROW
    left, right = split(body)
    fixed: list[ft.Control] = [*ahead]
    if fill:
        fixed.extend(top)
        rest: ft.Control = ft.Column(one_column(body), expand=True, spacing=10)
    else:
        # ``top`` sits at the same place of the tree in the hand and at the desk, with or without a
        # right pane: a window crossing WIDE keeps the scan field and the camera as they are
        two = wide and bool(right)
        main = left if two else one_column(body)
        panes: list[ft.Control] = [
            ft.Column(expand=5, spacing=8 if wide else 4, controls=[*top, scrolling(main, key="main-pane")])
        ]
        if two:
            panes += [ft.VerticalDivider(width=1), scrolling(right, expand=7, key="right-pane")]
        rest = ft.Row(panes, expand=True, spacing=pad, vertical_alignment=ft.CrossAxisAlignment.STRETCH)
    return ft.Container(
        expand=True,
        padding=ft.Padding.only(left=pad, right=pad, top=0 if not wide else 4, bottom=8),
        content=ft.Column(expand=True, spacing=10 if wide else 4, controls=[*fixed, rest]),
    )


def side_by_side(
    panels: Sequence[tuple[str, Sequence[ft.Control]]], tools: Sequence[ft.Control] = ()
) -> ft.Control:
    """Panels as columns of equal width, each under its title and scrolling on its own (the desk's
    Supervise: queues, outbox and approvals at once instead of one tab at a time). ``tools`` (a
    refresh button) sit beside the first title."""
    columns: list[ft.Control] = []
    for i, (title, controls) in enumerate(panels):
        if i:
            columns.append(ft.VerticalDivider(width=1))
        heading: ft.Control = ft.Text(title, size=22, weight=ft.FontWeight.BOLD, expand=True)
        columns.append(
            ft.Column(
                expand=True,
                spacing=8,
                key=f"panel-{i}",
                controls=[
                    # one height for every title, with or without tools, so the panels line up
                    ft.Container(height=56, content=ft.Row([heading, *(tools if i == 0 else ())])),
                    scrolling(controls),
                ],
            )
        )
    return ft.Row(columns, expand=True, spacing=12, vertical_alignment=ft.CrossAxisAlignment.STRETCH)
