"""The engine running in the background of the app, against the real ERP: a save is delivered
soon after ``request_sync`` and the views hear about it through their listener."""

import threading

import pytest

from sync.engine import SyncEngine
from sync.erp.tryton.connector import TrytonConnector
from tests.sync_ops import markers, receive_all

pytestmark = pytest.mark.erp


def test_saved_operation_is_delivered_in_the_background_and_views_are_told(seeded_store, erp):
    engine = SyncEngine(
        seeded_store, lambda: TrytonConnector(erp.address), station="S1", pull_interval=60, debounce=0.05
    )
    delivered = threading.Event()
    seen = []

    def on_status(status):
        seen.append(status)
        if status.counts["done"] == 1:
            delivered.set()

    engine.add_listener(on_status)
    engine.start()
    try:
        op = receive_all(seeded_store.find_return("RMA-000108"))
        seeded_store.enqueue(op)
        engine.request_sync()
        assert delivered.wait(30)
    finally:
        engine.stop()
    status = engine.status()
    assert status.online is True and status.last_success is not None and status.last_error is None
    assert status.oldest_pending_age_s is None and status.unsynced == 0
    assert any(s.syncing for s in seen)
    assert [m["operation_id"] for m in markers(erp)] == [op.id]
    # The pull after the push brought the return's new state into the cache.
    assert seeded_store.find_return("RMA-000108")["state"] == "received"


def test_operations_go_in_dependency_order_whatever_the_queue_order(seeded_store, erp):
    from sync.operations import new_operation
    from tests.sync_ops import inspect

    ret = seeded_store.find_return("RMA-000109")
    receipt = receive_all(ret)
    digest = seeded_store.add_photo(b"\xff\xd8 torn seam")
    photo = new_operation(
        "upload_photo",
        {"sha256": digest, "mime": "image/jpeg", "return_id": ret["id"]},
        station="S1",
        user="U-INSP-1",
    )
    graded = inspect(ret, ret["lines"][0], photos=[digest], depends_on=[receipt.id, photo.id])
    for op in (graded, photo, receipt):  # the inspection was queued first (e.g. replayed out of order)
        seeded_store.enqueue(op)
    engine = SyncEngine(seeded_store, lambda: TrytonConnector(erp.address), station="S1")
    report = engine.sync_once()
    assert report.ok and report.applied == 3 and report.failed == 0
    applied = [m["operation_id"] for m in markers(erp)]
    assert applied.index(graded.id) > applied.index(receipt.id)
    assert applied.index(graded.id) > applied.index(photo.id)


def test_refused_login_stops_sending_and_says_why_without_the_password(seeded_store, erp):
    from sync.erp.address import ErpAddress

    wrong = ErpAddress(
        host=erp.address.host,
        port=erp.address.port,
        database=erp.address.database,
        user="admin",
        password="Wr0ng-Secret",
    )
    op = receive_all(seeded_store.find_return("RMA-000110"))
    seeded_store.enqueue(op)
    engine = SyncEngine(seeded_store, lambda: TrytonConnector(wrong), station="S1")
    report = engine.sync_once()
    status = engine.status()
    assert not report.ok and status.auth_failed and status.online is False
    assert "refused the login of 'admin'" in status.last_error and "Wr0ng-Secret" not in status.last_error
    assert seeded_store.operation(op.id)["state"] == "pending"
    assert markers(erp) == []
