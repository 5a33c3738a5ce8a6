"""Each station's health for a supervisor, from the last figures this station fetched (no ERP call
here): last seen, outbox waiting and failed, clock offset from the ERP, app version, wrong items
stopped by scan. A station silent too long or whose clock is off is marked in words and with an
icon, not by colour alone."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.ui import theme

CLOCK_OFF_S = 60.0  # a clock further than this from the ERP's puts station times out of order
SILENT_MIN = 15.0  # three statuses missed at the default 5-minute interval


def problems(row: dict[str, Any]) -> list[str]:
    """What is wrong with a station, in words ("" items omitted)."""
    found = []
    offset = row.get("clock_offset_s")
    if offset is not None and abs(offset) > CLOCK_OFF_S:
        found.append(f"CLOCK OFF by {offset:+.0f} s")
    seen = row.get("minutes_since_seen")
    if seen is not None and seen > SILENT_MIN:
        found.append(f"SILENT for {seen:.0f} min")
    if row.get("outbox_failed"):
        found.append(f"{row['outbox_failed']} FAILED")
    return found


def station_rows(stations: list[dict[str, Any]]) -> list[ft.Control]:
    """One row per station: its sentence (sync.figures.station_words), and a marked line of its
    problems."""
    from sync.figures import station_words

    out: list[ft.Control] = []
    for row in stations:
        wrong = problems(row)
        sentence = station_words(row)
        label = sentence + (" — " + "; ".join(wrong) if wrong else " — healthy")
        out.append(
            ft.Semantics(
                key=f"station-{row['station']}",
                label=label,
                container=True,
                exclude_semantics=True,
                content=ft.Container(
                    border=ft.Border.all(2 if wrong else 1, theme.WARN if wrong else theme.MUTED),
                    bgcolor=theme.WARN_BG if wrong else None,
                    border_radius=8,
                    padding=10,
                    content=ft.Column(
                        spacing=2,
                        controls=[
                            ft.Text(sentence, size=15),
                            ft.Row(
                                spacing=6,
                                controls=[
                                    ft.Icon(
                                        ft.Icons.WARNING if wrong else ft.Icons.CHECK_CIRCLE,
                                        color=theme.WARN if wrong else theme.GOOD,
                                        size=20,
                                    ),
                                    ft.Text(
                                        "; ".join(wrong) if wrong else "healthy",
                                        size=15,
                                        weight=ft.FontWeight.W_600,
                                    ),
                                ],
                            ),
                        ],
                    ),
                ),
            )
        )
    return out


def station_health(data_dir: Any) -> list[ft.Control]:
    """The "Stations" section from the cached figures ([] when none were fetched yet)."""
    from app.runtime import ago
    from sync.figures import cache_for, last_stations

    stations, as_of = last_stations(cache_for(data_dir))
    if not stations:
        return []
    return [
        ft.Text(f"Stations: {len(stations)} (as of {ago(as_of)})", size=20, weight=ft.FontWeight.BOLD),
        *station_rows(stations),
    ]
