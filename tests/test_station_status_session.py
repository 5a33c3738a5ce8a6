"""The station's status operation, on a real store (no ERP): refusals counted where people get
them, handed to exactly one status, at most one status waiting in the outbox, and the sync engine's
background loop queueing it on its interval even while the ERP is out of reach."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from app.workflows.station import StationSession
from sync.engine import SyncEngine, connector_for
from sync.erp.address import ErpAddress
from sync.station_status import interval_from, queue_status
from tests.workflows_world import seed_world

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def world(store):
    return seed_world(store, TODAY)


def packing(store, order: str) -> StationSession:
    session = StationSession(store, "pack-1")
    assert session.sign_in("U-PACK-1", "3333").ok
    assert session.start("pack").ok
    assert session.scan(order).ok
    return session


def statuses(store) -> list[dict]:
    return [row for row in store.operations() if row["type"] == "station_status"]


def test_a_wrong_item_refused_at_pack_is_counted_once_per_refusal(store, world):
    session = packing(store, "WEB-6003")  # one red beanie
    assert session.scan(world.barcode("ACC-BELT-BRN")).code == "wrong_item"
    assert session.scan("3*" + world.barcode("ACC-BELT-BRN")).code == "wrong_item"  # one refusal shown
    assert session.scan("NOT-A-CODE-42").code != "wrong_item"
    counts = store.refusal_counts()
    assert counts["wrong_item"] == 2
    assert sum(counts.values()) == 3


def test_a_status_takes_the_counts_and_no_second_one_queues_while_it_waits(store, world):
    session = packing(store, "WEB-6003")
    session.scan(world.barcode("ACC-BELT-BRN"))
    first = queue_status(store, "pack-1", clock_offset_s=1.23456, app_version="9.9.9")
    assert first is not None and first.user == ""
    assert first.payload["refusals"] == {"wrong_item": 1}
    assert first.payload["clock_offset_s"] == 1.235 and first.payload["app_version"] == "9.9.9"
    assert store.refusal_counts() == {}
    session.scan(world.barcode("ACC-BELT-BRN"))
    assert queue_status(store, "pack-1", clock_offset_s=0.0) is None  # the first still waits
    assert len(statuses(store)) == 1
    assert store.refusal_counts() == {"wrong_item": 1}  # kept for the next status
    (claimed,) = [op for op in store.outbox.claim(10) if op.type == "station_status"]
    store.outbox.ack(claimed.id)
    second = queue_status(store, "pack-1", clock_offset_s=None)
    assert second is not None and second.payload["refusals"] == {"wrong_item": 1}
    assert second.payload["clock_offset_s"] is None
    assert second.payload["outbox"] == {"done": 1}


def test_the_engine_queues_one_status_on_its_interval_while_the_erp_is_away(store, world):
    session = packing(store, "WEB-6003")
    session.scan(world.barcode("ACC-BELT-BRN"))
    nowhere = ErpAddress(host="127.0.0.1", port=9, database="returns")  # nothing listens on port 9
    engine = SyncEngine(
        store,
        lambda: connector_for(nowhere),
        station="pack-1",
        status_interval=0.2,
        breaker_base=0.05,
        breaker_cap=0.2,
    )
    engine.start()
    try:
        deadline = time.monotonic() + 20
        while not statuses(store):
            assert time.monotonic() < deadline, "no status was queued"
            time.sleep(0.1)
        time.sleep(1.5)  # several intervals more: still one status waiting, not one per interval
    finally:
        engine.stop()
    (status,) = statuses(store)
    assert status["state"] == "pending"
    assert status["operation"]["payload"]["refusals"] == {"wrong_item": 1}
    assert status["operation"]["payload"]["clock_offset_s"] is None  # the ERP could not be asked


def test_the_status_interval_comes_from_the_environment_in_plain_seconds():
    assert interval_from({}) == 300.0
    assert interval_from({"STATION_STATUS_INTERVAL": "120"}) == 120.0
    assert interval_from({"STATION_STATUS_INTERVAL": "0"}) == 0.0  # never
    assert interval_from({"STATION_STATUS_INTERVAL": "2"}) == 10.0  # not a flood
    assert interval_from({"STATION_STATUS_INTERVAL": "five minutes"}) == 300.0
