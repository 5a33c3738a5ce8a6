"""A store upgraded to the code that ages Supervise's queues from when each stage began re-pulls the
open returns and shipments it cached before, which lack those times (migration m009)."""

from __future__ import annotations

import sqlite3

from sync.store import Store


def test_upgrading_forgets_the_return_and_shipment_cursors_so_they_are_pulled_again(tmp_path):
    path = tmp_path / "s.sqlite"
    store = Store.open(path)
    for kind in ("returns", "shipments", "products"):
        store.set_cursor(kind, "2026-11-30 10:00:00.000000")
    store.close()
    conn = sqlite3.connect(path)  # as a store of the code before: m009 not applied yet
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm009_queue_stage_times'")
    conn.commit()
    conn.close()

    upgraded = Store.open(path)
    try:
        assert upgraded.cursors() == {"products": "2026-11-30 10:00:00.000000"}
    finally:
        upgraded.close()
