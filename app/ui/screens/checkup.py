"""Scanner check-up, on the Settings screen: scan the check-up label and see what the scanner sent,
key by key, and what to change on it (app.scan.checkup says what; this shows it).

The browser hands the station each change of the field, batched on the way, not each key press
with its time: this screen shows the characters; ``station scan --check`` at a terminal has the
exact timing of each key. Enter shows as the field's submit; Tab as the field losing focus at once."""

from __future__ import annotations

import asyncio
import time

import flet as ft

from app.scan.checkup import CheckupReport, check_scanner, show
from app.ui import theme
from app.ui.model import StationModel
from app.ui.widgets import big_button, button_row, muted, section

QUIET_S = 1.0  # a scan with no suffix is over after this long without a key
TAB_S = 0.3  # focus lost this soon after the last key: the scanner sent Tab


@ft.component
def ScannerCheckup(model: StationModel) -> ft.Control:
    station = model.station
    generation, set_generation = ft.use_state(0)
    report, set_report = ft.use_state(None)
    keys = ft.use_ref(None)  # [(char, monotonic time)] for the scan being received

    def received() -> tuple[str, list[float]]:
        got = keys.current or []
        return "".join(c for c, _ in got), [t for _, t in got]

    def finish(suffix: str) -> None:
        if report is not None or not keys.current:
            return
        text, _ = received()
        keys.current = None
        # no key timing: the browser batches keys on their way here (station scan --check has it)
        set_report(
            check_scanner(
                text + suffix, gs_replacement=station.gs_replacement, station_suffix=station.scanner_suffix
            )
        )

    async def changed(e: ft.Event[ft.TextField]) -> None:
        value = e.control.value or ""
        text, _ = received()
        now = time.monotonic()
        if value.startswith(text):
            keys.current = [*(keys.current or []), *((c, now) for c in value[len(text) :])]
        else:  # edited by hand: start again from what the field holds
            keys.current = [(c, now) for c in value]
        await asyncio.sleep(QUIET_S)
        got = keys.current or []
        if got and got[-1][1] == now:
            finish("")

    def submitted(e: ft.Event[ft.TextField]) -> None:
        finish("\r")

    def blurred(e: ft.Event[ft.TextField]) -> None:
        got = keys.current or []
        if got and time.monotonic() - got[-1][1] < TAB_S:
            finish("\t")

    def again() -> None:
        keys.current = None
        set_report(None)
        set_generation(generation + 1)

    def save_gs(stand_in: str) -> None:
        model.say("good", station.save_gs_replacement(stand_in))
        again()

    controls: list[ft.Control] = [
        muted("Scan the 'Scanner check-up' label (printed with the labels) into this field."),
        ft.Row(
            [
                ft.TextField(
                    key=f"checkup-{generation}",
                    label="Check-up scan",
                    on_change=changed,
                    on_submit=submitted,
                    on_blur=blurred,
                    text_size=theme.TEXT,
                    expand=True,
                    autocorrect=False,
                    enable_suggestions=False,
                    prefix_icon=ft.Icons.QR_CODE_SCANNER,
                    read_only=report is not None,
                ),
            ]
        ),
    ]
    if report is not None:
        controls += _report_controls(report)
        buttons = [big_button("Scan the check-up again", again, icon=ft.Icons.REFRESH)]
        if report.gs_replacement and report.gs_replacement != station.gs_replacement:
            shown = show(report.gs_replacement)
            buttons.insert(
                0,
                big_button(
                    f"Use '{shown}' as GS replacement",
                    lambda: save_gs(report.gs_replacement),
                    icon=ft.Icons.SAVE,
                    primary=True,
                ),
            )
        controls.append(button_row(buttons))
    elif station.gs_replacement:
        controls.append(muted(f"This station reads '{show(station.gs_replacement)}' as the GS1 separator."))
    return section("Scanner check-up", controls)


def _report_controls(report: CheckupReport) -> list[ft.Control]:
    rows: list[ft.Control] = [
        ft.Text(f"Received: {report.received or '(nothing)'} ({len(report.keys)} keys)", size=16)
    ]
    for finding in report.findings:
        colour = theme.GOOD if finding.fine else theme.REFUSED
        words = finding.seen if finding.fine else f"{finding.seen}. {finding.fix}"
        rows.append(
            ft.Row(
                spacing=8,
                vertical_alignment=ft.CrossAxisAlignment.START,
                controls=[
                    ft.Icon(
                        ft.Icons.CHECK_CIRCLE if finding.fine else ft.Icons.BUILD_CIRCLE,
                        color=colour,
                        size=22,
                    ),
                    ft.Text(words, size=16, color=colour, expand=True),
                ],
            )
        )
    if report.all_fine:
        rows.append(
            ft.Text(
                "The scanner is set up right for this station.",
                size=16,
                color=theme.GOOD,
                weight=ft.FontWeight.W_600,
            )
        )
    return rows
