"""Attacks on a station's settings and files: a saved ERP password sent to a server someone typed,
Settings opened without a sign-in, a store other accounts on the machine can read."""

from __future__ import annotations

import http.server
import json
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import load_settings
from app.runtime import open_station
from app.ui.saved_settings import form_address, load_saved
from sync.erp.address import ErpAddress
from sync.erp.tryton.server import STATION
from tests.fixtures.erp import ROOT

SAVED_PASSWORD = "Saved-Secret-91"


class Listener:
    """An HTTP server on another loopback address that records every request body and refuses it."""

    def __init__(self, host: str) -> None:
        bodies: list[bytes] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.bodies = bodies
        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[Listener]:
    listener = Listener("127.0.0.2")
    try:
        yield listener
    finally:
        listener.close()


def saved_station(tmp_path: Path):
    erp = ErpAddress(host="127.0.0.1", port=8000, database="returns", user="dock-2", password=SAVED_PASSWORD)
    settings = load_settings(data_dir=tmp_path, station_id="dock-2", environ={}).with_erp(erp)
    return open_station(settings, sync=False, environ={})


def test_test_connection_never_sends_the_saved_password_to_another_server(tmp_path, elsewhere):
    station = saved_station(tmp_path)
    try:
        current = station.settings.erp
        typed = form_address(
            current,
            host="127.0.0.2",
            port=str(elsewhere.port),
            database="returns",
            user="dock-2",
            password="",
        )
        assert isinstance(typed, ErpAddress)
        worked, message = station.test_connection(typed)
    finally:
        station.close()
    assert elsewhere.bodies, "the test reached the other server"
    assert not any(SAVED_PASSWORD.encode() in body for body in elsewhere.bodies)
    assert worked is False and "type its password" in message
    assert SAVED_PASSWORD not in message


def test_the_saved_password_is_kept_for_the_server_it_was_saved_for(tmp_path):
    current = ErpAddress(host="erp.lan", port=8000, user="dock-2", password=SAVED_PASSWORD)
    same = form_address(current, host="ERP.lan", port="8000", database="other", user="dock-2", password="")
    assert isinstance(same, ErpAddress) and same.password == SAVED_PASSWORD
    moved = form_address(current, host="erp.lan", port="8001", database="returns", user="dock-2", password="")
    assert isinstance(moved, ErpAddress) and moved.password == ""
    typed = form_address(
        current, host="evil.lan", port="80", database="returns", user="x", password="New-Pass-1"
    )
    assert isinstance(typed, ErpAddress) and typed.password == "New-Pass-1"


def test_a_station_with_an_erp_configured_needs_a_sign_in_for_settings(tmp_path):
    configured = saved_station(tmp_path / "configured")
    fresh = open_station(load_settings(data_dir=tmp_path / "fresh", environ={}), sync=False, environ={})
    try:
        assert configured.erp_configured is True
        assert fresh.erp_configured is False
        fresh.save_settings(
            erp=configured.settings.erp, station_id="dock-3", scanner_suffix="enter", camera=None
        )
        assert fresh.erp_configured is True  # from now on, a supervisor's business
    finally:
        configured.close()
        fresh.close()


def test_station_settings_on_the_host_saves_the_erp_address_without_showing_the_password(tmp_path):
    url = f"http://dock-2:{SAVED_PASSWORD}@erp.lan:8000/returns"
    env = {**os.environ, "STATION_DATA_DIR": str(tmp_path / "data"), "STATION_ERP_URL": url}
    result = subprocess.run(
        [*STATION, "settings", "--station-id", "dock-2"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert SAVED_PASSWORD not in result.stdout + result.stderr
    assert "ERP: http://dock-2:***@erp.lan:8000/returns" in result.stdout
    saved = load_saved(tmp_path / "data")
    assert saved.erp_url == url and saved.station_id == "dock-2"
    raw = json.loads((tmp_path / "data" / "station-settings.json").read_text())
    assert raw["erp_url"] == url


def test_the_data_folder_and_store_are_private_to_the_stations_account(tmp_path):
    station = saved_station(tmp_path / "data")
    try:
        station.store.audit(who="U-SUPV-1", what="test", station="dock-2")  # the store writes (and its -wal)
    finally:
        station.close()
    folder = tmp_path / "data"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.glob("station.sqlite*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
