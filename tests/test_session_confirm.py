"""One transaction per action, at the session: a confirm whose store write fails saves nothing and
keeps the work on screen; two tabs on one store cannot confirm one thing twice; a store upgraded
with work queued keeps knowing what it confirmed; a supervisor's outbox actions go through the
session and follow the outbox's state table."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from app.workflows.results import Accepted, Refusal
from app.workflows.station import StationSession
from sync.store import Store
from tests.workflows_world import seed_world

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def world(store):
    return seed_world(store, TODAY)


def ok(outcome):
    assert isinstance(outcome, Accepted), outcome
    return outcome


def refused(outcome, code):
    assert isinstance(outcome, Refusal) and outcome.code == code, outcome
    return outcome


def open_unit(session, world, rma="RMA-000106", code="ACC-SCARF-GRY", photo=b"scarf"):
    ok(session.start("inspect"))
    ok(session.scan(rma))
    ok(session.scan(world.barcode(code)))
    ok(session.photo(photo))
    ok(session.grade("A"))
    ok(session.check({"packaging_intact": True, "damaged": False}))


def receive(session, world, rma="RMA-000106", code="ACC-SCARF-GRY"):
    ok(session.start("receive"))
    ok(session.scan(rma))
    ok(session.scan(world.barcode(code)))
    return session.confirm()


def test_a_full_disk_during_a_confirm_saves_nothing_says_so_and_keeps_the_unit(store, world):
    session = StationSession(store, "dock-1")
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(receive(session, world))
    open_unit(session, world)
    before = store.queue_counts()["pending"]

    def disk_full(point):
        if point == "draft":
            raise sqlite3.OperationalError("database or disk is full")

    store.fault_hook = disk_full
    outcome = refused(session.confirm(), "store_fault")
    assert outcome.message.startswith(
        "NOT SAVED: the station's disk is full. Everything confirmed before is kept"
    )
    assert session.fault == outcome.message and store.fault == outcome.message
    assert store.queue_counts()["pending"] == before  # not the photo, not the inspection
    assert session.view().unit is not None  # the work is still on screen
    store.fault_hook = None
    ok(session.confirm())
    assert [r["type"] for r in store.operations("pending")][-2:] == ["upload_photo", "inspect_item"]
    assert store.fault is None


def test_two_tabs_on_one_store_cannot_receive_the_same_return_twice(store, world):
    first, second = StationSession(store, "dock-1"), StationSession(store, "dock-1")
    for tab in (first, second):
        ok(tab.sign_in("U-RECV-1", "1111"))
        ok(tab.start("receive"))
        ok(tab.scan("RMA-000106"))
        ok(tab.scan(world.barcode("ACC-SCARF-GRY")))
    ok(first.confirm())
    told = refused(second.confirm(), "already_received")
    assert "in another tab, or before the station restarted" in told.message
    assert len([r for r in store.operations() if r["type"] == "receive_return"]) == 1


def test_the_draft_and_the_operation_commit_together(store, world):
    session = StationSession(store, "dock-1")
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(receive(session, world))
    open_unit(session, world)
    seen = []
    store.fault_hook = seen.append
    ok(session.confirm())
    assert seen[-1] == "commit" and seen.count("commit") == 1  # one transaction
    assert {"enqueue", "progress", "audit", "draft"} <= set(seen)


def test_a_store_upgraded_with_work_queued_keeps_knowing_what_it_confirmed(tmp_path, world, store):
    session = StationSession(store, "dock-1")
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(receive(session, world))
    path = store.path
    store.close()
    with sqlite3.connect(path) as conn:  # as a store written before the progress record
        conn.execute("DROP TABLE progress")
        conn.execute("DROP TABLE outbox_lease")
        for column in ("claimed_by", "faults"):
            conn.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
        conn.execute("DROP INDEX outbox_done_at")
        conn.execute("ALTER TABLE photos DROP COLUMN confirmed_at")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm004_progress_lease_faults'")
    conn.close()
    reopened = Store.open(path)
    try:
        again = StationSession(reopened, "dock-1")
        ok(again.sign_in("U-RECV-1", "1111"))
        ok(again.start("receive"))
        refused(again.scan("RMA-000106"), "already_received")
    finally:
        reopened.close()
        Store.open(path).close()  # (the fixture closes its own handle again)


def test_a_supervisor_retries_and_cancels_through_the_session_by_the_state_table(store, world):
    inspector = StationSession(store, "dock-1")
    ok(inspector.sign_in("U-LEAD-1", "5555"))
    ok(receive(inspector, world))
    (receipt,) = store.operations()
    store.outbox.claim()
    store.outbox.fail(receipt["id"], "the ERP refused: return locked")
    refused(inspector.retry_operation(receipt["id"]), "no_role")
    supervisor = StationSession(store, "dock-1")
    ok(supervisor.sign_in("U-SUPV-1", "444444"))
    (row,) = supervisor.outbox_rows("failed")
    assert row["actions"] == ["cancel", "edit", "retry"]
    ok(supervisor.retry_operation(receipt["id"]))
    (row,) = supervisor.outbox_rows("pending")
    assert row["actions"] == ["cancel"]
    refused(supervisor.retry_operation(receipt["id"]), "outbox_refused")
    refused(supervisor.cancel_operation(receipt["id"], " "), "reason_needed")
    ok(supervisor.cancel_operation(receipt["id"], "scanned into the wrong return"))
    assert store.audit_log(op_id=receipt["id"])[0]["who"] == "U-SUPV-1"
    ok(inspector.start("receive"))
    ok(inspector.scan("RMA-000106"))  # what it had confirmed is released
    assert json.loads(json.dumps(row["operation"]))["type"] == "receive_return"
