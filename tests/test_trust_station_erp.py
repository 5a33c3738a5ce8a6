"""A station speaks only for itself: the ERP ties an operation's ``station`` to the ERP login that
sent it (``res.user.returns_station_id``, set by ``station erp add-station NAME [--station ID]``).

Against the real Tryton server: station A's login (the fixture's ``test-station``, speaking for S1)
sends operations under station B's id and is refused, changing nothing; its own id is applied,
once however often it is sent; a station configured with another id than its ERP user's learns it
at its first sync and sends nothing; administrators speak for every station as before.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sync.engine import SyncEngine
from sync.erp.protocol import ErpRejected
from sync.erp.tryton.connector import TrytonConnector
from sync.operations import new_operation
from tests.fixtures.erp import ROOT
from tests.sync_ops import erp_read, receive_all

pytestmark = pytest.mark.erp

from sync.erp.tryton.server import STATION  # noqa: E402  (the `station` command)


def _no_photo(sha256: str) -> bytes:
    raise FileNotFoundError(sha256)


@contextmanager
def _open(erp, station: str) -> Iterator[TrytonConnector]:
    """A connector logged in as station ``station``'s own ERP user."""
    connector = TrytonConnector(erp.station_address(station), timeout=30)
    try:
        yield connector
    finally:
        connector.close()


def _row(figures: dict, station: str) -> dict:
    (row,) = [r for r in figures["stations"] if r["station"] == station]
    return row


def status_op(station: str, version: str, refusals: dict[str, int] | None = None):
    payload = {
        "outbox": {"pending": 3},
        "refusals": refusals or {},
        "app_version": version,
        "clock_offset_s": 0.5,
    }
    return new_operation("station_status", payload, station=station, user="")


def station_rows(erp, station: str) -> list[dict]:
    return erp_read(
        erp, "returns.station.status", [("station", "=", station)], ["app_version", "outbox", "refusals"]
    )


def marker_rows(erp) -> list[dict]:
    return erp_read(erp, "returns.station.operation", [], ["operation_id", "station", "type"])


def return_state(erp, number: str) -> str:
    (row,) = erp_read(erp, "stock.shipment.out.return", [("number", "=", number)], ["state"])
    return row["state"]


def test_a_station_cannot_report_a_status_under_another_stations_name(erp, connector):
    with _open(erp, "dock-b") as b:
        b.apply(status_op("dock-b", "2.0.0", {"wrong_item": 1}), _no_photo)
    before_status, before_markers = station_rows(erp, "dock-b"), marker_rows(erp)
    before_figures = _row(connector.figures({}), "dock-b")

    with pytest.raises(ErpRejected) as info:
        connector.apply(status_op("dock-b", "6.6.6", {"wrong_item": 40}), _no_photo)

    assert str(info.value) == (
        "station_status names station dock-b, but it was sent by the ERP user test-station, which "
        "speaks for station S1: a station sends only its own operations"
    )
    assert station_rows(erp, "dock-b") == before_status  # its version, outbox and refusals as they were
    assert marker_rows(erp) == before_markers
    after = _row(connector.figures({}), "dock-b")
    assert (
        (after["app_version"], after["refusals"], after["outbox_waiting"])
        == (
            before_figures["app_version"],
            before_figures["refusals"],
            before_figures["outbox_waiting"],
        )
        == ("2.0.0", {"wrong_item": 1}, 3)
    )


def test_a_station_cannot_receive_a_return_under_another_stations_name(erp, seeded_store, connector):
    ret = seeded_store.find_return("RMA-000101")
    forged = receive_all(ret, station="dock-b")

    with pytest.raises(
        ErpRejected, match="names station dock-b, but it was sent by the ERP user test-station"
    ):
        connector.apply(forged, _no_photo)
    assert return_state(erp, ret["number"]) == "draft"
    assert marker_rows(erp) == []

    # Nothing was kept of it: station B's own login applies the same operation (same id).
    with _open(erp, "dock-b") as b:
        assert not b.apply(forged, _no_photo).already
    assert return_state(erp, ret["number"]) == "received"
    assert [(m["operation_id"], m["station"]) for m in marker_rows(erp)] == [(forged.id, "dock-b")]


def test_its_own_id_is_applied_once_however_often_it_is_sent(erp, seeded_store, connector):
    assert connector.request("returns.station.identity.speaks_for") == {
        "user": "test-station",
        "station": "S1",
    }
    ret = seeded_store.find_return("RMA-000101")
    own = receive_all(ret, station="S1")

    first = connector.apply(own, _no_photo)
    again = connector.apply(own, _no_photo)

    assert (first.already, again.already) == (False, True)
    assert again.erp_refs == first.erp_refs
    assert return_state(erp, ret["number"]) == "received"
    assert [(m["operation_id"], m["station"]) for m in marker_rows(erp)] == [(own.id, "S1")]


def test_a_station_configured_as_another_learns_it_at_its_first_sync_and_sends_nothing(erp, seeded_store):
    ret = seeded_store.find_return("RMA-000101")
    seeded_store.enqueue(receive_all(ret, station="dock-9"))
    engine = SyncEngine(seeded_store, lambda: TrytonConnector(erp.address, timeout=30), station="dock-9")
    try:
        report = engine.sync_once()
        status = engine.status()
    finally:
        engine.stop()

    expected = "this station is configured as dock-9 but its ERP user test-station speaks for S1"
    assert [e for e in report.errors if e.startswith(expected)] == report.errors != []
    assert "station erp add-station test-station --station dock-9 --reset" in report.errors[0]
    assert status.auth_failed and status.last_error == report.errors[0]
    assert (report.applied, report.failed, status.counts["pending"]) == (0, 0, 1)  # kept, not refused
    assert marker_rows(erp) == []


def test_the_engine_sends_under_its_own_configured_id(erp, seeded_store):
    ret = seeded_store.find_return("RMA-000101")
    # queued while the station was still called dock-old (or by a session opened before a rename)
    seeded_store.enqueue(receive_all(ret, station="dock-old"))
    engine = SyncEngine(seeded_store, lambda: TrytonConnector(erp.address, timeout=30), station="S1")
    try:
        report = engine.sync_once(pull=False)
    finally:
        engine.stop()
    assert report.applied == 1 and report.ok
    assert [m["station"] for m in marker_rows(erp)] == ["S1"]


def test_an_administrator_still_speaks_for_every_station(erp):
    admin = TrytonConnector(erp.admin, timeout=30)
    try:
        assert admin.request("returns.station.identity.speaks_for") == {"user": "admin", "station": None}
        assert not admin.apply(status_op("dock-x", "1.0.0"), _no_photo).already
    finally:
        admin.close()
    assert [r["app_version"] for r in station_rows(erp, "dock-x")] == ["1.0.0"]


def test_add_station_names_the_station_its_user_speaks_for(erp):
    env = {**os.environ, "STATION_ERP_ADMIN_URL": erp.admin.url()}
    done = subprocess.run(
        [*STATION, "erp", "add-station", "handheld-3", "--station", "dock-3"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "STATION_ID=dock-3\n" in done.stdout
    (row,) = erp_read(erp, "res.user", [("login", "=", "handheld-3")], ["returns_station_id"])
    assert row["returns_station_id"] == "dock-3"


def test_test_connection_says_which_station_the_erp_user_speaks_for_and_saving_that_id_sends(
    erp, seeded_store, tmp_path
):
    from app.config import load_settings
    from app.runtime import open_station

    settings = load_settings(data_dir=tmp_path / "desk", station_id="dock-9", environ={}).with_erp(
        erp.address
    )
    station = open_station(settings, sync=True, pull_interval=3600)
    try:
        worked, message = station.test_connection(erp.address, "dock-9")
        assert not worked
        assert message.startswith(
            "Connected, but this station is configured as dock-9 but its ERP user test-station speaks for S1"
        )
        assert station.test_connection(erp.address, "S1")[0]
        station.engine.sync_once()  # pulls nothing: it does not speak for this login's station
        assert station.engine.status().auth_failed
        ret = seeded_store.find_return("RMA-000101")
        station.store.enqueue(receive_all(ret, station="dock-9"))
        assert station.engine.sync_once().applied == 0

        assert station.save_settings(erp=erp.address, station_id="S1", scanner_suffix="enter", camera=None)
        report = station.engine.sync_once()
    finally:
        station.close()
    assert report.applied == 1 and not report.errors
    assert [m["station"] for m in marker_rows(erp)] == ["S1"]
