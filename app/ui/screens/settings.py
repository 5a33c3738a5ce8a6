"""Settings: the ERP address and login (with a connection test), this station's id, the scanner's
suffix (with a scanner check-up) and the camera. The password is never shown: an empty password
field keeps the saved one."""

from __future__ import annotations

import asyncio

import flet as ft

from app.ui import theme
from app.ui.model import StationModel
from app.ui.saved_settings import form_address, load_saved
from app.ui.screens.checkup import ScannerCheckup
from app.ui.widgets import Frame, big_button, button_row, muted, section
from sync.erp.address import ErpAddress


def _field(
    label: str,
    value: str,
    on_change,
    *,
    password: bool = False,
    hint: str | None = None,
    width: int | None = None,
) -> ft.TextField:
    return ft.TextField(
        label=label,
        value=value,
        on_change=lambda e: on_change(e.control.value),
        password=password,
        can_reveal_password=password,
        hint_text=hint,
        text_size=theme.TEXT,
        width=width,
        expand=width is None,
    )


@ft.component
def Settings(model: StationModel) -> ft.Control:
    station = model.station
    current = station.settings.erp
    saved = load_saved(station.settings.data_dir)
    host, set_host = ft.use_state(current.host)
    port, set_port = ft.use_state(str(current.port))
    database, set_database = ft.use_state(current.database)
    user, set_user = ft.use_state(current.user)
    password, set_password = ft.use_state("")
    station_id, set_station_id = ft.use_state(station.station_id)
    suffix, set_suffix = ft.use_state(saved.scanner_suffix)
    camera, set_camera = ft.use_state(station.camera_source or "")
    testing, set_testing = ft.use_state(False)

    def address() -> ErpAddress | str:
        return form_address(current, host=host, port=port, database=database, user=user, password=password)

    async def test() -> None:
        erp = address()
        if isinstance(erp, str):
            model.say("refused", erp)
            return
        set_testing(True)
        model.say("info", f"Testing the connection to {erp.base_url} …")
        worked, message = await asyncio.to_thread(station.test_connection, erp, station_id.strip() or None)
        set_testing(False)
        model.say("good" if worked else "refused", message)

    def save() -> None:
        erp = address()
        if isinstance(erp, str):
            model.say("refused", erp)
            return
        if not station_id.strip():
            model.say("refused", "The station id cannot be empty")
            return
        message = station.save_settings(
            erp=erp, station_id=station_id.strip(), scanner_suffix=suffix, camera=camera.strip() or None
        )
        set_password("")
        model.say("good", message)

    cameras = station.cameras()
    body = [
        section(
            "ERP",
            [
                muted(f"Now: {current.redacted()}"),
                ft.ResponsiveRow(
                    [
                        ft.Container(_field("ERP host", host, set_host), col={"xs": 12, "md": 6}),
                        ft.Container(_field("Port", port, set_port), col={"xs": 4, "md": 2}),
                        ft.Container(_field("Database", database, set_database), col={"xs": 8, "md": 4}),
                        ft.Container(_field("ERP user", user, set_user), col={"xs": 12, "md": 6}),
                        ft.Container(
                            _field(
                                "ERP password",
                                password,
                                set_password,
                                password=True,
                                hint="leave empty to keep the saved one",
                            ),
                            col={"xs": 12, "md": 6},
                        ),
                    ],
                    run_spacing=10,
                ),
                button_row([big_button("Test connection", test, icon=ft.Icons.WIFI_FIND, disabled=testing)]),
            ],
        ),
        section(
            "This station",
            [
                _field("Station id", station_id, set_station_id),
                ft.Text("Scanner sends after each code", size=16),
                ft.SegmentedButton(
                    selected=[suffix],
                    on_change=lambda e: set_suffix(e.control.selected[0] if e.control.selected else "enter"),
                    segments=[ft.Segment(value="enter", label="Enter"), ft.Segment(value="tab", label="Tab")],
                ),
                ft.Switch(
                    label="Sort inspected units into totes",
                    value=station.sort_to_totes,
                    on_change=lambda e: model.say("good", station.save_sort_to_totes(e.control.value)),
                ),
            ],
        ),
        ScannerCheckup(model),
        section(
            "Camera",
            [
                muted(
                    cameras
                    if isinstance(cameras, str)
                    else f"{len(cameras)} camera(s) found: " + ", ".join(cameras)
                ),
                _field(
                    "Camera",
                    camera,
                    set_camera,
                    hint="a camera number (0), a video file or a stream URL; empty: photos from files",
                ),
            ],
        ),
        button_row([big_button("Save settings", save, icon=ft.Icons.SAVE, primary=True)]),
    ]
    return Frame(model, body, title="Settings")
