"""A store upgraded to the code that ages Supervise's queues from when each stage began pulls again
the open returns and shipments it cached before, which lack those times (migration m008), and
still every change since its last pull."""

from __future__ import annotations

import sqlite3

from sync.store import Store

BEFORE = "2026-11-30 10:00:00.000000"


def cached(kind: str, record_id: int, state: str, write_date: str) -> dict:
    record = {"id": record_id, "number": f"N-{record_id}", "order": None, "customer": "", "state": state}
    if kind == "returns":
        record |= {"rma": f"RMA-{record_id}", "tracking": None, "reason": ""}
    return record | {"lines": [], "write_date": write_date}


def test_upgrading_moves_the_pull_cursors_back_to_the_oldest_open_return_and_shipment_cached(tmp_path):
    path = tmp_path / "s.sqlite"
    store = Store.open(path)
    store.upsert_reference(
        "returns",
        [
            cached("returns", 1, "received", "2026-11-20 08:00:00.000000"),  # open, cached before
            cached("returns", 2, "done", "2026-10-01 08:00:00.000000"),  # not in a queue
            cached("returns", 3, "draft", "2026-11-25 08:00:00.000000"),
        ],
    )
    store.upsert_reference("shipments", [cached("shipments", 7, "done", "2026-10-02 08:00:00.000000")])
    for kind in ("returns", "shipments", "products"):
        store.set_cursor(kind, BEFORE)
    store.close()
    conn = sqlite3.connect(path)  # as a store of the code before: m008 not applied yet
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_queue_stage_times'")
    conn.commit()
    conn.close()

    upgraded = Store.open(path)
    try:
        assert upgraded.cursors() == {
            "returns": "2026-11-20 00:00:00",  # the day of the oldest open return: pulled again
            "shipments": BEFORE,  # no open shipment cached: nothing to pull again
            "products": BEFORE,
        }
    finally:
        upgraded.close()
