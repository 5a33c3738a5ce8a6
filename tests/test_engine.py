"""The sync engine without an ERP to talk to: a real connector aimed at a loopback port nobody
listens on (a real connection refusal). What the station shows, and that nothing is lost."""

import logging
import socket
import time

import pytest

from sync.engine import SyncEngine
from sync.erp.address import ErpAddress
from sync.erp.tryton.connector import TrytonConnector
from sync.operations import new_operation

SECRET = "s3cret-Pa55"


@pytest.fixture
def dead_address():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here any more
    return ErpAddress(host="127.0.0.1", port=port, database="returns", user="admin", password=SECRET)


def engine_for(store, address, **kw):
    return SyncEngine(store, lambda: TrytonConnector(address, timeout=2), station="S1", **kw)


def op():
    return new_operation(
        "confirm_pack", {"shipment_id": 5, "lines": [], "short": []}, station="S1", user="U-1"
    )


def test_erp_unreachable_keeps_operations_pending_and_says_so(store, dead_address):
    operations = [op() for _ in range(3)]
    for o in operations:
        store.enqueue(o)
    engine = engine_for(store, dead_address)
    report = engine.sync_once()
    status = engine.status()
    assert not report.ok and report.transient_left == 3
    assert status.online is False and status.counts["pending"] == 3 and status.counts["sending"] == 0
    assert "cannot reach the ERP" in status.last_error and str(dead_address.port) in status.last_error
    assert SECRET not in status.last_error and all(SECRET not in e for e in report.errors)
    assert status.next_attempt_at is not None
    assert status.oldest_pending_age_s is not None and status.oldest_pending_age_s >= 0
    assert all(row["error"] and row["attempts"] == 1 for row in store.operations())


def test_status_before_any_attempt_is_unknown(store, dead_address):
    status = engine_for(store, dead_address).status()
    assert status.online is None and status.last_success is None and status.counts["pending"] == 0
    assert status.to_dict()["pending"] == 0


def test_a_raising_listener_does_not_stop_the_others(store, dead_address, caplog):
    engine = engine_for(store, dead_address)
    seen = []

    def broken(status):
        raise RuntimeError("view went away")

    engine.add_listener(broken)
    unsubscribe = engine.add_listener(seen.append)
    store.enqueue(op())
    with caplog.at_level(logging.ERROR):
        engine.sync_once()
    assert seen and seen[-1].online is False
    count = len(seen)
    unsubscribe()
    engine.sync_once()
    assert len(seen) == count


def test_going_down_is_logged_once(store, dead_address, caplog):
    engine = engine_for(store, dead_address)
    store.enqueue(op())
    with caplog.at_level(logging.WARNING, logger="sync.engine"):
        for _ in range(3):
            engine.sync_once()
    downs = [r for r in caplog.records if "cannot sync with the ERP" in r.getMessage()]
    assert len(downs) == 1
    assert SECRET not in caplog.text


def test_background_engine_backs_off_instead_of_hammering(store, dead_address):
    calls = []

    def factory():
        calls.append(time.monotonic())
        return TrytonConnector(dead_address, timeout=1)

    engine = SyncEngine(store, factory, station="S1", debounce=0.05, breaker_base=0.5, breaker_cap=1.0)
    store.enqueue(op())
    engine.start()
    try:
        for _ in range(20):
            engine.request_sync()  # a burst of saves
            time.sleep(0.05)
        time.sleep(1.0)
    finally:
        engine.stop()
    status = engine.status()
    assert status.online is False and status.counts["pending"] == 1
    # One connector, reused; the breaker let only a handful of attempts through in ~2 s.
    assert len(calls) == 1
    attempts = store.operation(store.operations()[0]["id"])["attempts"]
    assert 1 <= attempts <= 6


def test_an_unreachable_erp_never_counts_toward_the_poison_cap(store, dead_address):
    from sync.outbox import MAX_FAULTS

    operations = [op() for _ in range(2)]
    for o in operations:
        store.enqueue(o)
    engine = engine_for(store, dead_address)
    for _ in range(MAX_FAULTS + 2):  # a long outage: many attempts
        engine.sync_once(pull=False)
    rows = store.operations()
    assert [row["state"] for row in rows] == ["pending", "pending"]
    assert all(row["faults"] == 0 and row["attempts"] >= MAX_FAULTS for row in rows)
