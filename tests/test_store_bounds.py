"""Bounded growth and hard faults: done operations and confirmed photos are pruned, nothing not yet
done ever is; a photo too big or not a picture is refused in plain words; a full disk loses
nothing saved and says so."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from sync import outbox
from sync.operations import new_operation
from sync.store import PhotoRefused, StoreFault

JPEG = b"\xff\xd8\xff\xe0 a photo"


def op(kind="request_approval", **payload):
    return new_operation(kind, payload or {"request_id": "r"}, station="S1", user="U-1")


def deliver(store, operation):
    store.enqueue(operation)
    store.outbox.claim()
    store.outbox.ack(operation.id)


def test_pruning_removes_old_done_operations_and_keeps_everything_not_yet_done(store):
    done = op()
    deliver(store, done)
    store.audit(who="U-1", what="asked", station="S1", op_id=done.id)
    waiting = {state: op() for state in ("pending", "sending", "failed", "conflict", "cancelled")}
    for state, operation in waiting.items():
        store.enqueue(operation)
        if state == "pending":
            continue
        if state == "cancelled":
            outbox.cancel(store, operation.id, who="U-SUP", station="S1", reason="duplicate")
            continue
        store.outbox.claim()
        if state == "failed":
            outbox.fail(store, operation.id, "refused")
        elif state == "conflict":
            outbox.conflict(store, operation.id, "moved")
    later = datetime.now(UTC) + timedelta(days=31)
    assert store.prune(retention_days=30, now=datetime.now(UTC))["operations"] == 0  # too recent
    assert store.prune(retention_days=30, now=later)["operations"] == 1
    assert store.operation(done.id) is None
    assert {row["id"] for row in store.operations()} == {o.id for o in waiting.values()}
    assert store.audit_log(op_id=done.id)[0]["what"] == "asked"  # the audit row stays


def test_photos_the_erp_holds_are_pruned_unless_something_still_needs_them(store):
    delivered = store.add_photo(JPEG + b"1")
    still_needed = store.add_photo(JPEG + b"2")
    upload = op("upload_photo", sha256=delivered, mime="image/jpeg", return_id=1)
    deliver(store, upload)
    second = op("upload_photo", sha256=still_needed, mime="image/jpeg", return_id=1)
    deliver(store, second)
    store.enqueue(op("inspect_item", return_id=1, product_id=1, photos=[still_needed]))  # not yet sent
    assert store.prune()["photos"] == 1
    assert not store.photo_path(delivered).exists()
    assert store.photo_bytes(still_needed) == JPEG + b"2"


def test_a_photo_too_big_or_not_a_picture_is_refused_in_plain_words(store):
    with pytest.raises(PhotoRefused, match="too big .* at a lower resolution"):
        store.add_photo(JPEG + b"x" * (13 * 1024 * 1024))
    with pytest.raises(PhotoRefused, match="not a photo"):
        store.add_photo(b"%PDF-1.7 a scanned delivery note", mime="image/jpeg")
    with pytest.raises(PhotoRefused, match="not a photo"):
        store.add_photo(JPEG, mime="video/mp4")
    assert not list(store.photos_dir.rglob("*"))


def test_a_full_disk_rolls_back_the_whole_write_and_says_so(store):
    kept = op()
    store.enqueue(kept)

    def disk_full(point):
        if point == "audit":
            raise sqlite3.OperationalError("database or disk is full")

    store.fault_hook = disk_full
    lost = op()
    with pytest.raises(
        StoreFault, match="NOT SAVED: the station's disk is full. Everything confirmed before is kept"
    ):
        with store.atomic():
            store.enqueue(lost)
            store.audit(who="U-1", what="asked", station="S1", op_id=lost.id)
    assert store.fault and "disk is full" in store.fault
    store.fault_hook = None
    assert store.operation(lost.id) is None and store.operation(kept.id)["state"] == "pending"
    store.enqueue(lost)
    assert store.fault is None  # the next write that works clears the banner
