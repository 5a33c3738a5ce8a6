"""Figures (supervisor): the ERP's operational figures for a window, as charts with their numbers in
words (each sentence is also the chart's accessible name). They come through the sync engine's
request port (sync.figures); offline the last figures of the same window show, with their as-of time."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import flet as ft
import flet_charts as fch

from app.runtime import ago
from app.ui import theme
from app.ui.model import StationModel
from app.ui.widgets import Frame, big_button, button_row, muted, section
from sync import figures as figs

FAMILIES = ["", "apparel", "footwear", "accessories", "electronics", "health"]
BUCKET_COLOURS = [ft.Colors.GREEN_400, ft.Colors.AMBER_400, ft.Colors.ORANGE_600, ft.Colors.RED_700]
CHART_HEIGHT = 170


def _card(key: str, title: str, sentences: list[str], chart: ft.Control | None = None) -> ft.Control:
    """One figure: its title, the chart (named by the first sentence) and every sentence as text."""
    controls: list[ft.Control] = [ft.Text(title, size=theme.TEXT, weight=ft.FontWeight.W_600)]
    if chart is not None:
        controls.append(
            ft.Semantics(
                label=sentences[0],
                container=True,
                content=ft.Container(padding=ft.Padding.only(top=14, right=8), content=chart),
            )
        )
    controls += [ft.Text(sentence, size=15, selectable=False) for sentence in sentences]
    return ft.Container(
        key=key,
        col={"xs": 12, "md": 6},
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
        border_radius=8,
        padding=10,
        content=ft.Column(spacing=6, controls=controls),
    )


def _scale(top: float) -> tuple[float, float]:
    """A round axis step and the top of the axis for values up to ``top``."""
    top = top or 1
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step, step * math.ceil(top / step)


def _axis(step: float) -> fch.ChartAxis:
    return fch.ChartAxis(label_size=40, label_spacing=step, show_max=True)


def _bars(values: list[tuple[str, float]], colour: str = ft.Colors.INDIGO_400) -> ft.Control:
    step, top = _scale(max((v for _, v in values), default=0))
    return fch.BarChart(
        height=CHART_HEIGHT,
        max_y=top,
        interactive=False,
        groups=[
            fch.BarChartGroup(x=i, rods=[fch.BarChartRod(to_y=v, width=18, color=colour, border_radius=2)])
            for i, (_, v) in enumerate(values)
        ],
        bottom_axis=fch.ChartAxis(
            label_size=36,
            labels=[
                fch.ChartAxisLabel(value=i, label=ft.Text(label[:10], size=11))
                for i, (label, _) in enumerate(values)
            ],
        ),
        left_axis=_axis(step),
        horizontal_grid_lines=fch.ChartGridLines(
            color=ft.Colors.OUTLINE_VARIANT, width=1, dash_pattern=[3, 3]
        ),
    )


def _stacked(rows: list[tuple[str, list[float]]], colours: list[str]) -> ft.Control:
    step, top = _scale(max((sum(parts) for _, parts in rows), default=0))
    groups = []
    for i, (_, parts) in enumerate(rows):
        items, start = [], 0.0
        for value, colour in zip(parts, colours, strict=False):
            items.append(fch.BarChartRodStackItem(from_y=start, to_y=start + value, color=colour))
            start += value
        groups.append(
            fch.BarChartGroup(
                x=i, rods=[fch.BarChartRod(to_y=start, width=22, stack_items=items, border_radius=0)]
            )
        )
    return fch.BarChart(
        height=CHART_HEIGHT,
        max_y=top,
        interactive=False,
        groups=groups,
        bottom_axis=fch.ChartAxis(
            label_size=36,
            labels=[
                fch.ChartAxisLabel(value=i, label=ft.Text(label[:12], size=11))
                for i, (label, _) in enumerate(rows)
            ],
        ),
        left_axis=_axis(step),
    )


def _cards(f: dict[str, Any]) -> list[ft.Control]:
    words = figs.in_words(f)
    reasons = f["reasons"]["by_reason"]
    stages = f["cycle"]["stages"]
    recovery = f["recovery"]
    backlog = f["backlog"]
    cards = [
        _card(
            "reasons",
            "Return reasons",
            [words["reasons"]],
            _bars([(row["key"], row["units"]) for row in reasons]) if reasons else None,
        ),
        _card(
            "cycle",
            "Cycle time per stage (median, then up to the 90th percentile)",
            [words[f"cycle.{row['stage']}"] for row in stages],
            _stacked(
                [
                    (
                        figs.STAGE_WORDS[row["stage"]].split(" to ")[0] + "…",
                        [
                            row["median_hours"] or 0,
                            max(0, (row["p90_hours"] or 0) - (row["median_hours"] or 0)),
                        ],
                    )
                    for row in stages
                ],
                [ft.Colors.INDIGO_400, ft.Colors.INDIGO_100],
            ),
        ),
        _card("sla", "Put away within the target", [words["sla"]]),
        _card(
            "recovery",
            "Recovery by disposition path",
            [words["recovery"], *(words[f"recovery.path.{row['path']}"] for row in recovery["by_path"])],
            _stacked(
                [
                    (
                        row["path"].replace("_", " "),
                        [row["value_recovered"], max(0, row["value_returned"] - row["value_recovered"])],
                    )
                    for row in recovery["by_path"]
                ],
                [ft.Colors.GREEN_400, ft.Colors.GREY_300],
            ),
        ),
        _card(
            "recovery-family",
            "Recovery by family",
            [words[f"recovery.family.{row['family']}"] for row in recovery["by_family"]]
            or ["No units disposed"],
            _bars(
                [(row["family"], (row["rate"] or 0) * 100) for row in recovery["by_family"]],
                ft.Colors.GREEN_400,
            )
            if recovery["by_family"]
            else None,
        ),
        _card("exposure", "Refunded before receipt", [words["exposure"]]),
        _card(
            "backlog",
            "Backlog by age",
            [words[f"backlog.{kind}"] for kind in ("quarantine", "approvals", "mismatched_receipts")],
            _stacked(
                [
                    (kind.split("_")[0], [backlog[kind]["buckets"].get(b, 0) for b in figs.BUCKET_WORDS])
                    for kind in ("quarantine", "approvals", "mismatched_receipts")
                ],
                BUCKET_COLOURS,
            ),
        ),
        _card("pack", "Packing", [words["pack"]]),
    ]
    stations = [words[f"station.{row['station']}"] for row in f.get("stations", [])]
    if stations:
        cards.append(_card("stations", "Stations", stations))
    return cards


@ft.component
def Figures(model: StationModel) -> ft.Control:
    station = model.station
    days, set_days = ft.use_state(30)
    family, set_family = ft.use_state("")
    node, set_node = ft.use_state("")
    answer, set_answer = ft.use_state(None)
    loading, set_loading = ft.use_state(True)
    tick, set_tick = ft.use_state(0)

    async def load() -> None:
        set_loading(True)
        spec = figs.window(days, node=node.strip() or None, family=family or None)
        cache = figs.cache_for(station.settings.data_dir)
        got = await asyncio.to_thread(figs.request_figures, figs.ask_through(station.engine), spec, cache)
        set_answer(got)
        set_loading(False)

    ft.use_effect(load, [days, family, node, tick])

    windows = button_row(
        [
            big_button(label.capitalize(), lambda d=d: set_days(d), primary=days == d, key=f"win-{d}")
            for label, d in figs.WINDOWS.items()
        ]
        + [big_button("Refresh", lambda: set_tick(tick + 1), icon=ft.Icons.REFRESH)]
    )
    filters = ft.Row(
        wrap=True,
        spacing=10,
        controls=[
            ft.Dropdown(
                label="Family",
                value=family,
                width=200,
                options=[ft.DropdownOption(key=f, text=f.capitalize() or "All families") for f in FAMILIES],
                on_select=lambda e: set_family(e.control.value or ""),
            ),
            ft.TextField(
                label="Warehouse",
                value=node,
                width=160,
                hint_text="all",
                on_submit=lambda e: set_node(e.control.value or ""),
            ),
        ],
    )
    body: list[ft.Control] = [windows, filters]
    if answer is None:
        body.append(muted("Asking the ERP for its figures…"))
        return Frame(model, body, keep_focus=False)
    f = answer.figures
    if answer.live:
        state = f"Figures {f['window']['from']} to {f['window']['to']}, as of {ago(answer.as_of)}"
        body.append(ft.Text(state, size=15, color=theme.GOOD))
    elif f is not None:
        body.append(
            ft.Text(
                f"Offline: the last figures, as of {ago(answer.as_of)} ({answer.problem})",
                size=15,
                color=theme.WARN,
            )
        )
    else:
        body.append(ft.Text(f"No figures yet: {answer.problem}", size=15, color=theme.WARN))
    if loading:
        body.append(muted("Updating…"))
    if f is not None:
        for note in f["notes"]:
            body.append(muted(note[0].upper() + note[1:]))
        words = figs.in_words(f)
        alerts = [
            ft.Text(words[f"alert.{a['key']}"], size=15, color=theme.REFUSED, key=a["key"])
            for a in f["alerts"]
        ]
        if alerts:
            body.append(section(f"Open alerts: {len(alerts)}", alerts))
        body.append(ft.ResponsiveRow(_cards(f), spacing=12, run_spacing=12))
    return Frame(model, body, keep_focus=False)
