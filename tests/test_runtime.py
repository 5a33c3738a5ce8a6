"""The UI's Flet-free parts: the status strip's words, saved settings, and the run command's
refusals. The screens themselves are tested in the browser (tests/e2e)."""

from __future__ import annotations

import os
import stat
from datetime import datetime

import pytest

from app.cli import main
from app.config import load_settings
from app.runtime import Station, StripStatus, ago, strip_status
from app.ui.saved_settings import SavedSettings, apply_saved, load_saved, save
from sync.engine import SyncStatus
from sync.erp.address import ErpAddress


def test_ago_speaks_like_a_person_on_the_floor():
    iso = "2027-01-15T08:00:00+00:00"
    then = datetime.fromisoformat(iso).timestamp()
    assert ago(None) == "never"
    assert ago(iso, now=then + 20) == "just now"
    assert ago("2027-01-15T08:00:00Z", now=then + 5 * 60) == "5 min ago"
    assert ago(iso, now=then + 2 * 3600 + 60) == "2 h 1 min ago"


def test_strip_counts_waiting_and_failures_from_the_engine_status():
    status = SyncStatus(
        online=False,
        last_success=None,
        last_error="ERP unreachable",
        counts={"pending": 2, "sending": 1, "done": 5, "failed": 1, "conflict": 1},
        oldest_pending_age_s=90.0,
        next_attempt_at=None,
    )
    strip = strip_status(status, {}, None)
    assert (strip.online, strip.waiting, strip.failures) == (False, 3, 2)
    assert strip.label == "Offline · last sync never · 3 waiting · 2 need attention"


def test_strip_without_an_engine_reads_the_outbox_and_says_not_connected():
    strip = strip_status(None, {"pending": 1, "sending": 0, "failed": 0, "conflict": 0}, None)
    assert strip == StripStatus(online=None, last_sync=None, waiting=1, failures=0)
    assert strip.label.startswith("Not connected")


def test_a_store_that_cannot_be_written_turns_the_strip_into_a_red_banner_in_plain_words(tmp_path, store):
    import sqlite3

    from sync.operations import new_operation
    from sync.store import StoreFault

    station = Station(load_settings(data_dir=tmp_path, station_id="S1", environ={}), store)
    assert station.status().fault is None

    def disk_full(point):
        raise sqlite3.OperationalError("database or disk is full")

    store.fault_hook = disk_full
    with pytest.raises(StoreFault):
        store.enqueue(new_operation("request_approval", {"request_id": "r"}, station="S1", user="U-1"))
    assert station.status().fault.startswith("NOT SAVED: the station's disk is full")
    store.fault_hook = None
    store.enqueue(new_operation("request_approval", {"request_id": "r2"}, station="S1", user="U-1"))
    assert station.status().fault is None and station.status().waiting == 1


def test_saved_settings_are_private_to_the_station_user_and_flags_win(tmp_path):
    erp = ErpAddress(host="erp.lan", port=8000, database="returns", user="clerk", password="s3cret!")
    save(tmp_path, SavedSettings(erp_url=erp.url(), station_id="dock-2"))
    path = tmp_path / "station-settings.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_saved(tmp_path).station_id == "dock-2"
    settings = load_settings(data_dir=tmp_path, station_id="from-flag", environ={})
    applied = apply_saved(settings, erp_from_env=False, station_from_env=True)
    assert applied.erp == erp and applied.station_id == "from-flag"


def test_saving_settings_from_the_screen_never_echoes_the_password(tmp_path, store):
    station = Station(load_settings(data_dir=tmp_path, station_id="S1", environ={}), store)
    erp = ErpAddress(host="erp.lan", port=8000, database="returns", user="clerk", password="s3cret!")
    message = station.save_settings(erp=erp, station_id="S2", scanner_suffix="tab", camera=None)
    assert "s3cret" not in message
    assert station.settings.station_id == "S2" and station.settings.erp == erp


def test_test_connection_to_a_closed_port_says_so_without_the_password(tmp_path, store):
    from app.ui.web import free_port

    station = Station(load_settings(data_dir=tmp_path, station_id="S1", environ={}), store)
    erp = ErpAddress(host="127.0.0.1", port=free_port(), database="returns", user="clerk", password="s3cret!")
    worked, message = station.test_connection(erp)
    assert not worked
    assert "Cannot reach the ERP at http://127.0.0.1:" in message and "s3cret" not in message


def test_run_without_a_desktop_client_points_to_web(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("app.commands.ui._has_desktop_client", lambda: False)
    monkeypatch.setenv("STATION_DATA_DIR", str(tmp_path))
    assert main(["run"]) == 2
    assert "station run --web" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["run", "--web", "--port", "70000"], ["demo", "--erp-port", "-1"]])
def test_bad_ports_are_refused_before_anything_starts(argv, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("STATION_DATA_DIR", str(tmp_path))
    assert main(argv) == 2
    assert "must be between 0 and 65535" in capsys.readouterr().err
    assert not (tmp_path / "erp").exists()
