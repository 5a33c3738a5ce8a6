"""The pieces every screen is built from: status strip, scan field, feedback banner, big buttons,
and the frame that puts them around a screen's body."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import flet as ft

from app.runtime import StripStatus
from app.ui import layout, theme
from app.ui.layout import Beside, use_wide
from app.ui.model import SCREEN_TITLES, Feedback, StationModel

FEEDBACK_STYLE = {
    "good": (theme.GOOD, theme.GOOD_BG, ft.Icons.CHECK_CIRCLE),
    "warning": (theme.WARN, theme.WARN_BG, ft.Icons.WARNING_AMBER),
    "refused": (theme.REFUSED, theme.REFUSED_BG, ft.Icons.CANCEL),
    "info": (theme.INFO, theme.INFO_BG, ft.Icons.INFO_OUTLINE),
}


@ft.component
def StatusStrip(status: StripStatus | None) -> ft.Control:
    """Online/offline, last sync, operations waiting, failures: on every screen, one line."""
    if status is None:
        return ft.Container(height=0)
    if status.fault:
        return ft.Container(
            bgcolor=theme.REFUSED,
            padding=ft.Padding.symmetric(horizontal=12, vertical=10),
            content=ft.Row(
                spacing=8,
                controls=[
                    ft.Icon(ft.Icons.REPORT, color=ft.Colors.WHITE, size=24),
                    ft.Text(
                        status.fault,
                        color=ft.Colors.WHITE,
                        size=16,
                        weight=ft.FontWeight.W_600,
                        expand=True,
                        no_wrap=False,
                        semantics_label=status.fault,
                    ),
                ],
            ),
        )
    if status.failures:
        colour, icon = theme.REFUSED, ft.Icons.ERROR
    elif status.online:
        colour, icon = theme.GOOD, ft.Icons.CLOUD_DONE
    else:
        colour, icon = theme.WARN, ft.Icons.CLOUD_OFF
    return ft.Container(
        bgcolor=colour,
        padding=ft.Padding.symmetric(horizontal=12, vertical=2),
        content=ft.Row(
            spacing=8,
            controls=[
                ft.Icon(icon, color=ft.Colors.WHITE, size=16),
                ft.Text(
                    "Sync: " + status.label,
                    color=ft.Colors.WHITE,
                    size=14,
                    expand=True,
                    max_lines=1,  # one line on a handheld too; the whole text stays its name
                    overflow=ft.TextOverflow.ELLIPSIS,
                    semantics_label="Sync: " + status.label,
                ),
            ],
        ),
    )


def use_latest(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A function that stays the same object across renders and calls the latest ``fn``.

    Hand it to :data:`ScanField`: a memoised component re-renders only when its props change, and
    a re-rendered TextField is reset to its declared (empty) value, wiping a scan being typed."""
    latest = ft.use_ref(None)
    latest.current = fn
    return ft.use_callback(lambda *args, **kwargs: latest.current(*args, **kwargs), [])


@ft.control("TextField")
class _FocusedTextField(ft.TextField):
    """A TextField whose focus is asked declaratively: each new value of ``focus`` makes the
    browser focus it (Flet's client reads this property; the Python class does not declare it).
    ``TextField.focus()`` does the same by a call the browser answers, and Flet 1.0.5 drops the
    page's whole connection when that answer names a field a render has replaced meanwhile (a slow
    tap on a button over slow Wi-Fi, or a busy page, is enough): the scans typed until the page
    reconnects are lost. A property has no answer."""

    focus: str | None = None  # type: ignore[assignment]  # the property, not the method


@ft.component
def _ScanField(
    on_scan: Callable[[str], Any],
    label: str = "Scan",
    keep_focus: bool = True,
    hint: str | None = None,
    password: bool = False,
    tab_submits: bool = False,
    dense: bool = False,
    fresh: int = 0,
) -> ft.Control:
    """The field a keyboard-wedge scanner types into. It takes focus when it appears and, with
    ``keep_focus``, takes it back after any button press, so the next scan always lands here.
    Each scan gets a fresh field (a new ``key``): the text is gone and focus is back at once; so
    does each new ``fresh`` (a job confirmed or cancelled by a button: the next parcel is scanned
    at once, whether or not the click took the focus away)."""
    generation, set_generation = ft.use_state(0)
    asks, set_asks = ft.use_state(0)  # focus asked back after a blur (see _FocusedTextField)
    key = f"scan-{generation}-{fresh}" + ("" if keep_focus else "-free")
    on_screen = ft.use_ref(key)  # the key of the field on screen, as soon as a submit replaces it
    on_screen.current = key

    async def submit(e: ft.Event[ft.TextField]) -> None:
        text = (e.control.value or "").strip()
        on_screen.current = f"scan-{generation + 1}"  # no field has this key: the next render's
        set_generation(generation + 1)
        if text:
            result = on_scan(text)
            if asyncio.iscoroutine(result):
                await result

    async def refocus(e: ft.Event[ft.TextField]) -> None:
        tabbed = tab_submits and bool((e.control.value or "").strip())
        if tabbed:
            # a scanner set to send Tab after each code moves the focus away: that is its Enter;
            # the field that replaces this one asks for the focus (autofocus yields to the
            # control the Tab went to)
            await submit(e)
            set_asks(asks + 1)
            return
        if not keep_focus or on_screen.current != key:
            # not ours to keep, or this field was just submitted and its successor is on its way
            return
        # a moment for the press that took the focus: when it ends a job (a new ``fresh``) or
        # changes the screen, this field is replaced, and the new one has the focus already
        await asyncio.sleep(0.15)
        if on_screen.current == key:
            set_asks(asks + 1)

    field = _FocusedTextField(
        # a new field (autofocus) when keep_focus comes back on: the focus returns to scanning
        key=key,
        focus=f"{asks}" if asks else None,
        label=label,
        hint_text=hint,
        autofocus=True,
        password=password,
        can_reveal_password=False,
        on_submit=submit,
        on_blur=refocus,
        text_size=theme.TEXT,
        # in the hand the field is one short line and its width is for the code
        prefix_icon=None if dense else ft.Icons.QR_CODE_SCANNER if not password else ft.Icons.PIN,
        dense=dense,
        content_padding=ft.Padding.symmetric(horizontal=12, vertical=8) if dense else None,
        autocorrect=False,
        enable_suggestions=False,
        expand=True,
    )
    return field  # it expands: put it in a row (camera_scan.CameraScan's, with the camera button)


# Re-rendered only when its props change (pass ``on_scan`` through :func:`use_latest`): the status
# strip and the screen around it re-render every time the sync status or the job changes, and that
# must not touch the text a scanner is typing.
ScanField = ft.memo(_ScanField)


@ft.component
def FeedbackBanner(feedback: Feedback | None, compact: bool = False) -> ft.Control:
    """Green for a good scan, amber for something recorded but unexpected, red for a refusal.

    ``compact`` (in the hand): one line, so the job's lines stay in sight; a longer message ends in
    "…" and a tap on the banner shows all of it (its accessible name is always the whole message)."""
    opened, set_opened = ft.use_state(0)  # the serial of the message shown in full
    if feedback is None:
        return ft.Container(height=0)
    colour, background, icon = FEEDBACK_STYLE[feedback.kind]
    serial = feedback.serial
    # about 8 px a character at this size (a guess on the safe side): longer than the line, the
    # banner shows its first line and a button for the rest
    long = compact and len(feedback.message) * 8.5 > (ft.context.page.width or 360) - 84
    full = not long or opened == feedback.serial
    controls: list[ft.Control] = [
        ft.Icon(icon, color=colour, size=22 if compact else 28),
        ft.Text(
            feedback.message,
            color=colour,
            size=16 if compact else theme.TEXT,
            weight=ft.FontWeight.W_600,
            expand=True,
            max_lines=None if full else 1,
            overflow=None if full else ft.TextOverflow.ELLIPSIS,
            semantics_label=feedback.message,
        ),
    ]
    if long:
        # the chevron alone is the button: the message is not part of a button's name
        name = "Show less" if full else "Show the whole message"
        controls.append(
            ft.Semantics(
                label=name,
                button=True,
                content=ft.Container(
                    width=44,
                    height=24,
                    alignment=ft.Alignment.CENTER,
                    on_click=lambda: set_opened(0 if full else serial),
                    content=ft.Icon(
                        ft.Icons.EXPAND_LESS if full else ft.Icons.EXPAND_MORE, color=colour, size=24
                    ),
                ),
            )
        )
    return ft.Container(
        key=f"feedback-{feedback.serial}",
        bgcolor=background,
        border=ft.Border.all(2, colour),
        border_radius=8,
        padding=ft.Padding.only(left=10, right=4, top=2, bottom=2) if compact else 12,
        content=ft.Row(spacing=8 if compact else 10, controls=controls),
    )


def big_button(
    text: str,
    on_click: Callable[..., Any] | None,
    *,
    icon: ft.IconData | None = None,
    primary: bool = False,
    danger: bool = False,
    disabled: bool = False,
    tooltip: str | None = None,
    key: str | None = None,
    label: str | None = None,
) -> ft.Control:
    """A button at least :data:`theme.TARGET` pixels high whose accessible name is its text, or
    ``label`` when the text alone is ambiguous (a "Yes" under each checklist question)."""
    style = ft.ButtonStyle(
        padding=ft.Padding.symmetric(horizontal=20, vertical=12),
        text_style=ft.TextStyle(size=theme.TEXT, weight=ft.FontWeight.W_600),
        shape=ft.RoundedRectangleBorder(radius=8),
    )
    kind: type[ft.Button] = ft.FilledButton if primary else ft.OutlinedButton
    kwargs: dict[str, Any] = {}
    if danger and primary:
        kwargs["bgcolor"] = theme.REFUSED
    button = kind(
        content=text,
        icon=icon,
        on_click=on_click,
        disabled=disabled,
        style=style,
        height=theme.TARGET,
        tooltip=tooltip,
        key=None if label else key,
        **kwargs,
    )
    if label:
        return ft.Semantics(label=label, button=True, content=button, key=key)
    return button


def bar_button(
    name: str, on_click: Callable[..., Any], icon: ft.IconData, size: int = theme.TARGET
) -> ft.Control:
    """An icon button of the app bar, ``size`` square, whose accessible name is ``name``."""
    return ft.Semantics(
        label=name,
        button=True,
        content=ft.IconButton(
            icon=icon, icon_size=28, on_click=on_click, width=size, height=size, tooltip=name
        ),
    )


def icon_button(
    label: str,
    icon: ft.IconData,
    on_click: Callable[..., Any] | None,
    size: int = theme.TARGET,
    *,
    primary: bool = False,
    disabled: bool = False,
) -> ft.Control:
    """A square outlined (or, ``primary``, filled) icon button whose accessible name and tooltip are
    ``label``: for the hand, where a row has no room for words."""
    kind: type[ft.IconButton] = ft.FilledIconButton if primary else ft.OutlinedIconButton
    # a disabled one is no button to a screen reader (nor to a test waiting to press it)
    return ft.Semantics(
        label=label,
        button=not disabled,
        content=kind(
            # no tooltip: pressing a button with one takes the focus from the scan field for a moment
            icon=icon,
            icon_size=28,
            width=size,
            height=size,
            on_click=on_click,
            disabled=disabled,
        ),
    )


def bind(fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """A click handler calling ``fn(*args)``. Flet passes the event to a handler that takes any
    parameter, so ``lambda x=x: ...`` would receive the event instead of ``x``."""
    return lambda: fn(*args)


def button_row(buttons: Sequence[ft.Control]) -> ft.Control:
    return ft.Row(list(buttons), wrap=True, spacing=10, run_spacing=10)


def section(title: str, controls: Sequence[ft.Control]) -> ft.Control:
    return ft.Column(
        spacing=8,
        controls=[ft.Text(title, size=20, weight=ft.FontWeight.BOLD), *controls],
    )


def muted(text: str) -> ft.Text:
    return ft.Text(text, color=theme.MUTED, size=16)


@ft.component
def Frame(
    model: StationModel,
    body: Sequence[ft.Control | Beside],
    on_scan: Callable[[str], Any] | None = None,
    scan_label: str = "Scan",
    scan_hint: str | None = None,
    keep_focus: bool = True,
    title: str | None = None,
    on_photo: Callable[[bytes], Any] | None = None,
    fill: bool = False,
    fresh: int = 0,
) -> ft.Control:
    """A screen: status strip, app bar (title, who, Home, Sign out), scan field, banner, body.

    The layout follows the device (app/ui/layout.py): one column in the hand, with what the body
    marks :func:`layout.beside` in a second pane at the desk; ``fill`` for a body that scrolls by
    itself (panels side by side). With ``on_scan``, the device's camera can scan too
    (app/ui/camera_scan.py); with ``on_photo``, it also takes photos. A new ``fresh`` gives a new
    scan field with the focus (see ScanField)."""
    wide = use_wide()
    person = model.person
    size = theme.TARGET if wide else theme.TARGET_COMPACT
    actions: list[ft.Control] = []
    if person and model.screen != "home":
        actions.append(bar_button("Home", lambda: model.go("home"), ft.Icons.HOME, size))
    if person:
        actions.append(bar_button("Sign out", lambda: sign_out(model), ft.Icons.LOGOUT, size))
    who = f"{person['name']} · station {model.station.station_id}" if person else None
    # A compact app bar: the title and who on one line each, Home and Sign out as icon buttons,
    # so that on a 360x640 handheld the job's lines start high on the screen.
    header = ft.Row(
        spacing=4,
        vertical_alignment=ft.CrossAxisAlignment.CENTER,
        controls=[
            ft.Column(
                expand=True,
                spacing=0,
                controls=[
                    ft.Text(
                        title or SCREEN_TITLES[model.screen],
                        size=theme.TITLE if wide else 20,
                        weight=ft.FontWeight.BOLD,
                        max_lines=1,
                        overflow=ft.TextOverflow.ELLIPSIS,
                    ),
                    ft.Text(
                        who or f"Station {model.station.station_id}",
                        color=theme.MUTED,
                        size=14 if wide else 13,
                        max_lines=1,
                        overflow=ft.TextOverflow.ELLIPSIS,
                    ),
                ],
            ),
            *actions,
        ],
    )
    top: list[ft.Control] = []
    stable_scan = use_latest(on_scan or (lambda text: None))
    stable_photo = use_latest(on_photo or (lambda data: None))
    if on_scan is not None:
        from app.ui.camera_scan import CameraScan, DeskCamera

        top.append(
            CameraScan(
                model,
                stable_scan,
                stable_photo if on_photo else None,
                label=scan_label,
                keep_focus=keep_focus,
                hint=scan_hint,
                tab_submits=model.station.scanner_suffix == "tab",
                compact=not wide,
                fresh=fresh,
            )
        )
        if model.station.camera_source is not None and model.person:
            top.append(DeskCamera(model.station, stable_scan))
    top.append(FeedbackBanner(model.feedback, compact=not wide))
    return ft.Column(
        expand=True,
        spacing=0,
        controls=[
            StatusStrip(model.status),
            layout.screen(top, body, wide=wide, ahead=[header], fill=fill),
        ],
    )


def sign_out(model: StationModel) -> None:
    session = model.session
    if session is not None:
        model.show(session.sign_out())
    model.person = None
    model.screen = "signin"


def sign_in(model: StationModel, badge: str, pin: str) -> bool:
    """Sign in through the workflows' session; True when it worked (the banner says either way)."""
    session = model.session or model.station.new_session()
    outcome = session.sign_in(badge, pin)
    model.session = session
    if not model.show(outcome):
        return False
    model.person = dict(session.signed_in)
    model.screen = session.task or "home"  # a resumed draft opens its job at once
    if model.wants_settings:  # Settings were asked for before this sign-in
        model.wants_settings = False
        if model.may_open_settings():
            model.go("settings")
        else:
            model.say(
                "refused",
                f"Settings need a supervisor: {model.person['name']} may not change this station's settings",
            )
    return True
