"""The screen of a job in progress (receive, inspect, pack): it renders the workflows' TaskView and
hands every scan and button press to the session. It computes nothing itself: expected/scanned
counts, refusals, the disposition and whether it may be confirmed all come from the view."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import flet as ft

from app.ui import theme
from app.ui.camera_scan import is_desk
from app.ui.layout import Beside, beside, use_wide
from app.ui.model import StationModel
from app.ui.order_queue import order_queue
from app.ui.screens.tote import tote_controls
from app.ui.widgets import Frame, big_button, bind, button_row, icon_button, muted, section, use_latest

GRADE_LABELS = {"A": "like new", "B": "good", "C": "fair", "D": "damaged", "F": "unsaleable"}
LINE_STYLE = {
    # receive
    "matched": (theme.GOOD, ft.Icons.CHECK_CIRCLE),
    "partial": (theme.WARN, ft.Icons.TIMELAPSE),
    "missing": (theme.MUTED, ft.Icons.RADIO_BUTTON_UNCHECKED),
    # pack
    "packed": (theme.GOOD, ft.Icons.CHECK_CIRCLE),
    "open": (theme.MUTED, ft.Icons.RADIO_BUTTON_UNCHECKED),
    # inspect
    "inspected": (theme.GOOD, ft.Icons.CHECK_CIRCLE),
    "waiting": (theme.MUTED, ft.Icons.RADIO_BUTTON_UNCHECKED),
}


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def line_row(line: Any) -> ft.Control:
    colour, icon = LINE_STYLE.get(line.outcome, (theme.MUTED, ft.Icons.CIRCLE_OUTLINED))
    counts = f"{_count(line.scanned)} of {_count(line.expected)}"
    detail = [line.sku]
    if line.lot:
        detail.append(f"lot {line.lot}")
    if line.lots_scanned:
        detail.append("scanned " + ", ".join(line.lots_scanned))
    if line.message and line.message not in (counts, line.outcome) and not line.message.startswith(counts):
        detail.append(line.message)
    return ft.Container(
        key=line.key,
        border=ft.Border.all(2 if line.outcome in ("matched", "packed", "inspected") else 1, colour),
        border_radius=8,
        padding=10,
        content=ft.Row(
            spacing=10,
            controls=[
                ft.Icon(icon, color=colour, size=30),
                ft.Column(
                    expand=True,
                    spacing=2,
                    controls=[
                        ft.Text(line.product, size=theme.TEXT, weight=ft.FontWeight.W_600),
                        ft.Text(" · ".join(detail), size=15, color=theme.MUTED),
                    ],
                ),
                ft.Text(counts, size=22, weight=ft.FontWeight.BOLD, color=colour),
            ],
        ),
    )


def extra_row(extra: Any) -> ft.Control:
    return ft.Container(
        key=extra.key,
        border=ft.Border.all(2, theme.REFUSED),
        bgcolor=theme.REFUSED_BG,
        border_radius=8,
        padding=10,
        content=ft.Row(
            spacing=10,
            controls=[
                ft.Icon(ft.Icons.REPORT, color=theme.REFUSED, size=30),
                ft.Column(
                    expand=True,
                    spacing=2,
                    controls=[
                        ft.Text(
                            extra.product or extra.barcode,
                            size=theme.TEXT,
                            weight=ft.FontWeight.W_600,
                            color=theme.REFUSED,
                        ),
                        ft.Text(extra.message, size=15, color=theme.REFUSED),
                    ],
                ),
            ],
        ),
    )


@ft.component
def _DaysField(name: str, question: str, value: str, answer: Callable[[str, Any], None]) -> ft.Control:
    return ft.TextField(
        label=question,
        value=value,
        keyboard_type=ft.KeyboardType.NUMBER,
        on_submit=lambda e: answer(name, e.control.value),
        on_blur=lambda e: answer(name, e.control.value) if e.control.value else None,
        width=200,
        text_size=theme.TEXT,
    )


# memoised like the scan field: a re-render of the screen must not reset digits being typed
DaysField = ft.memo(_DaysField)


def check_control(check: Any, answer: Callable[[str, Any], None], *, inline: bool = False) -> ft.Control:
    """One checklist question: yes/no or choice buttons (the chosen one filled), or a days field;
    the answers under the question, or beside it when ``inline`` (at the desk, where the whole
    form fits the height). ``answer`` must be a stable function (widgets.use_latest) for the days
    field's memo to hold."""

    def laid_out(question: str, answers: ft.Control) -> ft.Control:
        text = ft.Text(question, size=16, expand=inline)
        if inline:
            return ft.Row(
                [text, answers], key=check.name, spacing=12, vertical_alignment=ft.CrossAxisAlignment.CENTER
            )
        return ft.Column(spacing=4, key=check.name, controls=[text, answers])

    if check.kind == "days":
        return laid_out(
            check.question,
            DaysField(check.name, check.question, "" if check.answer is None else str(check.answer), answer),
        )
    options: list[tuple[str, Any]] = (
        [("Yes", True), ("No", False)] if check.kind == "yes_no" else [(c, c) for c in check.choices]
    )
    buttons = [
        big_button(
            f"{label}",
            bind(answer, check.name, value),
            primary=check.answer == value,
            label=f"{check.question}: {label}",
            key=f"{check.name}-{label}",
        )
        for label, value in options
    ]
    derived = " (from the scan)" if check.derived else ""
    return laid_out(check.question + derived, ft.Row(buttons, spacing=10) if inline else button_row(buttons))


def _call(session: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    method = getattr(session, name, None)
    if method is None:
        from app.workflows.results import Refusal

        return Refusal("not_available", f"This station cannot {name.replace('_', ' ')} yet")
    return method(*args, **kwargs)


PREVIEW_EVERY_S = 0.3  # how often the live preview is redrawn (a few times a second)
CAMERA_STATES = {
    "opening": "Opening the camera…",
    "reconnecting": "Camera lost, reconnecting…",
    "ended": "The camera's video is over: this is its last picture",
    "stopped": "The camera is stopped",
}


@ft.component
def CameraPanel(camera: Any, capture: Callable[[], Any]) -> ft.Control:
    """The live preview of the station's camera, its state in words when it is not live, and the
    capture button. The preview is redrawn from ``camera.latest_preview()`` while this is on screen."""
    preview, set_preview = ft.use_state(None)
    state, set_state = ft.use_state("opening")
    running = ft.use_ref(None)  # the token of the loop that should be running; None: none

    async def watch() -> None:
        token = running.current = object()
        shown = None
        while running.current is token:
            jpeg = camera.latest_preview()
            if jpeg is not None and jpeg is not shown:
                shown = jpeg
                set_preview(base64.b64encode(jpeg).decode("ascii"))
            set_state(camera.status.state)
            await asyncio.sleep(PREVIEW_EVERY_S)

    def stop() -> None:
        running.current = None  # the screen was left (or the camera changed): the loop ends

    ft.use_effect(watch, [camera], cleanup=stop)
    words = CAMERA_STATES.get(state)
    controls: list[ft.Control] = [
        # as wide as the screen on a handheld, half of it at the desk; the picture keeps its shape
        ft.ResponsiveRow(
            [
                ft.Container(
                    col={"xs": 12, "md": 8, "lg": 6},
                    height=240,
                    bgcolor=ft.Colors.BLACK,
                    border_radius=8,
                    alignment=ft.Alignment.CENTER,
                    content=ft.Image(
                        src=preview,
                        fit=ft.BoxFit.CONTAIN,
                        semantics_label="Camera preview",
                        gapless_playback=True,
                        height=240,
                    )
                    if preview
                    else ft.Text("No picture yet", color=ft.Colors.WHITE, size=16),
                )
            ]
        ),
    ]
    if words:
        controls.append(ft.Text(words, size=16, color=theme.WARN, semantics_label=f"Camera: {words}"))
    controls.append(
        button_row([big_button("Capture photo", capture, icon=ft.Icons.CAMERA_ALT, primary=True)])
    )
    return ft.Column(controls, spacing=8)


@ft.component
def TaskScreen(model: StationModel, kind: str) -> ft.Control:
    station = model.station
    session = model.session
    _version, set_version = ft.use_state(0)
    reason, set_reason = ft.use_state("")
    stable_search = use_latest(lambda text: search_sale(text))
    # hooks before any early return: the checklist's days field needs a stable callback
    stable_answer = use_latest(lambda name, value: answer(name, value))
    wide = use_wide()
    ended, set_ended = ft.use_state(0)  # jobs ended by a button here: each gives a fresh scan field
    if session is None:
        return Frame(model, [muted("Sign in again: this station lost your session")])

    view = session.view()
    if view is None or view.kind != kind:
        return Frame(model, [muted("No job open here: go Home and choose one")], title=kind.capitalize())

    def done(outcome: Any) -> Any:
        if outcome is not None:
            model.show(outcome)
        set_version(_version + 1)
        return outcome

    def on_scan(text: str) -> None:
        done(_call(session, "scan", text))
        model.refresh_status()

    def confirm() -> None:
        outcome = _call(session, "confirm", reason=reason.strip() or None)
        done(outcome)
        if getattr(outcome, "ok", False):
            set_reason("")
            set_ended(ended + 1)
            station.request_sync()
            model.refresh_status()

    def cancel() -> None:
        if getattr(done(_call(session, "cancel")), "ok", False):
            set_ended(ended + 1)

    def answer(name: str, value: Any) -> None:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        done(_call(session, "check", {name: value}))

    async def add_photo() -> None:
        files = await ft.FilePicker().pick_files(
            dialog_title="Photos of the item",
            allowed_extensions=["jpg", "jpeg", "png"],
            allow_multiple=True,
            with_data=True,
        )
        for picked in files or []:
            if picked.bytes:
                mime = "image/png" if picked.name.lower().endswith(".png") else "image/jpeg"
                done(_call(session, "photo", picked.bytes, mime=mime))

    def device_photo(data: bytes) -> None:
        done(_call(session, "photo", data, mime="image/jpeg"))

    async def capture_photo() -> None:
        camera = station.camera()
        if camera is None:
            model.say("refused", "No camera on this station: add photos from files")
            return
        try:
            jpeg = await asyncio.to_thread(camera.still)
        except (TimeoutError, RuntimeError) as exc:
            model.say("refused", f"No picture from the camera: {exc}. Try again, or add a photo from a file")
            return
        done(_call(session, "photo", jpeg, mime="image/jpeg"))

    def search_sale(text: str) -> None:
        done(_call(session, "search_sales", text))

    blind = bool(view.extra.get("blind"))
    # a parcel nobody announced, no sale chosen yet: the search field needs the keyboard
    searching = (
        kind == "receive"
        and view.subject is None
        and not blind
        and bool(view.extra.get("parcel_code") or view.extra.get("sales"))
    )
    actions: ft.Control | None = None
    if view.kind != "idle" and (view.lines or view.unit is not None or blind):
        controls: list[ft.Control] = []
        if view.confirm_needs_reason:
            controls.append(
                ft.TextField(
                    label="Reason",
                    value=reason,
                    text_size=theme.TEXT,
                    hint_text="why it is confirmed incomplete",
                    on_change=lambda e: set_reason(e.control.value),
                )
            )
        controls.append(
            action_row(view, confirm, lambda: done(_call(session, "undo")), cancel, compact=not wide)
        )
        actions = ft.Column(controls, spacing=10)

    unit = view.unit
    # the host's USB camera is the desk's own; a handheld takes photos with the camera in its hand
    desk_camera = station.camera_source is not None and is_desk(ft.context.page)
    # At the desk (app/ui/layout.py) what is marked beside() goes to the right pane: the lines beside
    # the scan feedback when receiving and packing; the form beside the unit when inspecting.
    inspecting = kind == "inspect"
    lines_pane = (lambda c: c) if inspecting else beside
    body: list[ft.Control | Beside] = []
    if view.subject:
        body.append(ft.Text(view.subject, size=20, weight=ft.FontWeight.BOLD))
    body.append(ft.Text(view.prompt, size=theme.TEXT if wide else 16, color=theme.INFO))
    if (sorting := tote_controls(view, session, done)) is not None:
        body.append(sorting)  # Inspect at a station that sorts: the tote for the unit (screens/tote.py)
    if actions is not None and unit is None:
        # receiving and packing: the worker scans and does not scroll, so Confirm sits up here,
        # in sight on a handheld; inspecting ends at the bottom of the form, so it goes there
        body.append(actions)
    if unit is not None:
        # the unit in hand comes first: on a handheld the return's other lines are below it
        shown, form = unit_controls(
            unit,
            station,
            session,
            done,
            stable_answer,
            add_photo,
            capture_photo if desk_camera else None,
            inline=wide,
        )
        body.extend([*shown, *(beside(c) for c in form)])
    elif inspecting and wide:
        body.append(
            beside(muted("Scan an item of this return: its grade, checklist and disposition show here"))
        )
    if searching:
        body.append(unannounced_controls(view, stable_search, session, done))
    if view.orders:
        body.append(order_queue(view.orders))
    if view.lines:
        body.append(lines_pane(section("Items", [line_row(line) for line in view.lines])))
    elif wide and not inspecting and not blind:
        body.append(beside(muted("The items to scan show here once the job is open")))
    if view.extras:
        body.append(lines_pane(section("Not expected", [extra_row(extra) for extra in view.extras])))
    if view.approvals:
        body.append(
            lines_pane(
                section(
                    "Approvals",
                    [
                        ft.Text(
                            f"{a.summary}: {a.state}" + ("" if a.synced else " (not yet sent)"),
                            size=16,
                            key=a.request_id,
                        )
                        for a in view.approvals
                    ],
                )
            )
        )
    if view.finished:
        body.append(lines_pane(section("Done here", [muted(text) for text in view.finished])))
    if actions is not None and unit is not None:
        body.append(beside(actions))
    return Frame(
        model,
        body,
        on_scan=on_scan,
        scan_label="Scan",
        title=view.title,
        keep_focus=not view.confirm_needs_reason and not _has_days(unit) and not searching,
        on_photo=device_photo if unit is not None and not desk_camera else None,
        fresh=ended,
    )


def action_row(
    view: Any,
    confirm: Callable[[], Any],
    undo: Callable[[], Any],
    cancel: Callable[[], Any],
    *,
    compact: bool,
) -> ft.Control:
    """Confirm, Undo last scan, Cancel job. In the hand one row: Confirm takes the width (its words on
    up to two lines) and the other two are icons, named for a screen reader and a tooltip."""
    disabled = not view.can_confirm and not view.confirm_needs_reason
    if not compact:
        return button_row(
            [
                big_button(
                    view.confirm_label, confirm, icon=ft.Icons.DONE_ALL, primary=True, disabled=disabled
                ),
                big_button("Undo last scan", undo, icon=ft.Icons.UNDO),
                big_button("Cancel job", cancel, icon=ft.Icons.DELETE_SWEEP),
            ]
        )
    primary = ft.FilledButton(
        content=ft.Text(
            view.confirm_label,
            size=16,
            weight=ft.FontWeight.W_600,
            max_lines=2,
            text_align=ft.TextAlign.CENTER,
        ),
        on_click=confirm,
        disabled=disabled,
        height=theme.TARGET,
        expand=True,
        style=ft.ButtonStyle(
            padding=ft.Padding.symmetric(horizontal=12, vertical=4), shape=ft.RoundedRectangleBorder(radius=8)
        ),
    )
    return ft.Row(
        spacing=8,
        controls=[
            primary,
            icon_button("Undo last scan", ft.Icons.UNDO, undo),
            icon_button("Cancel job", ft.Icons.DELETE_SWEEP, cancel),
        ],
    )


@ft.component
def _SaleSearch(search: Callable[[str], None]) -> ft.Control:
    """The sale search field and its button; memoised like the scan field, so a re-render of the
    screen does not touch what is being typed."""
    typed = ft.use_ref("")
    return ft.Column(
        spacing=8,
        controls=[
            ft.TextField(
                label="Order number, customer email or name, or a serial sold",
                text_size=theme.TEXT,
                on_change=lambda e: setattr(typed, "current", e.control.value or ""),
                on_submit=lambda e: search(e.control.value or ""),
            ),
            button_row(
                [big_button("Search sale", lambda: search(typed.current), icon=ft.Icons.SEARCH, primary=True)]
            ),
        ],
    )


SaleSearch = ft.memo(_SaleSearch)


def unannounced_controls(
    view: Any, search: Callable[[str], None], session: Any, done: Callable[[Any], Any]
) -> ft.Control:
    """A parcel nobody announced: search its sale (order, email, name, serial), choose one of the
    sales found (customer data masked by the ERP), or receive it blind to quarantine."""
    sales = [
        big_button(
            " · ".join(
                str(b)
                for b in (s["number"], s.get("reference"), s.get("customer"), s.get("email"), s.get("date"))
                if b
            ),
            bind(lambda number: done(_call(session, "choose_sale", number)), s["number"]),
            icon=ft.Icons.RECEIPT_LONG,
            key=f"sale-{s['number']}",
        )
        for s in view.extra.get("sales") or ()
    ]
    return section(
        "Parcel without a return",
        [
            SaleSearch(search, key="sale-search"),
            button_row(
                [
                    big_button(
                        "Receive blind",
                        lambda: done(_call(session, "receive_blind")),
                        icon=ft.Icons.INVENTORY_2,
                    ),
                ]
            ),
            *([muted("Sales found: choose the one this parcel comes from"), *sales] if sales else []),
        ],
    )


def _has_days(unit: Any) -> bool:
    return unit is not None and any(c.kind == "days" for c in unit.checklist)


def unit_controls(
    unit: Any,
    station: Any,
    session: Any,
    done: Callable[[Any], Any],
    answer: Callable[[str, Any], None],
    add_photo: Callable[[], Any],
    capture_photo: Callable[[], Any] | None = None,
    *,
    inline: bool = False,
) -> tuple[list[ft.Control], list[ft.Control]]:
    """The inspect part, as (the unit and its photos, the form: grade buttons, the checklist, the
    rules' decision). ``inline`` (at the desk): each checklist question beside its answers."""
    facts = [unit.sku, unit.family, f"value {unit.unit_value:.2f}"]
    if unit.lot:
        facts.append(f"lot {unit.lot}")
    if unit.serial:
        facts.append(f"serial {unit.serial}")
    if unit.expiry:
        facts.append(f"expires {unit.expiry}")
    photos = [
        ft.Image(
            src=url,
            width=88,
            height=88,
            fit=ft.BoxFit.COVER,
            border_radius=6,
            semantics_label=f"photo {i + 1}",
            key=sha,
        )
        for i, sha in enumerate(unit.photos)
        if (url := station.photo(sha))
    ]
    grades = [
        big_button(
            f"{grade} {GRADE_LABELS.get(grade, '')}".strip(),
            bind(lambda g: done(_call(session, "grade", g)), grade),
            primary=unit.grade == grade,
            key=f"grade-{grade}",
        )
        for grade in GRADE_LABELS
    ]
    shown: list[ft.Control] = [
        section(unit.product, [muted(" · ".join(facts))]),
        section(
            f"Photos: {len(unit.photos)} of {unit.photos_required} needed",
            [
                *(
                    [CameraPanel(camera, capture_photo, key="camera")]
                    if capture_photo is not None and (camera := station.camera()) is not None
                    else []
                ),
                ft.Row(photos, wrap=True, spacing=8) if photos else muted("No photo yet"),
                button_row([big_button("Add photo", add_photo, icon=ft.Icons.ADD_A_PHOTO)]),
                muted(station.camera_note()),
            ],
        ),
    ]
    form: list[ft.Control] = [section("Grade", [button_row(grades)])]
    if unit.checklist:
        form.append(
            section("Checklist", [check_control(check, answer, inline=inline) for check in unit.checklist])
        )
    decision = unit.decision
    if decision is not None:
        colour = theme.WARN if decision.approval_required else theme.GOOD
        lines = [ft.Text(decision.describe(), size=theme.TEXT, color=colour, weight=ft.FontWeight.W_600)]
        if decision.approval_required:
            lines.append(
                ft.Text(
                    "Needs supervisor approval: " + "; ".join(decision.approval_reasons),
                    size=16,
                    color=theme.WARN,
                )
            )
        form.append(section("Disposition", lines))
    if unit.still_needed:
        form.append(muted("Still needed: " + "; ".join(unit.still_needed)))
    return shown, form
