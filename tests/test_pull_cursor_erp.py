"""The pull's cursors move past what a station was sent: a return sent once after it changed is
not sent again at every later pull. It used to be, until the return was done, once a unit of it
was inspected: the inspection writes a move the station never sees (the unit's inventory move),
which the pull's "changed since" matched but its cursor never passed."""

from __future__ import annotations

import time

import pytest

from tests.sync_ops import inspect, pack_all, receive_all

pytestmark = pytest.mark.erp

CURSOR_MARGIN_S = 5.5  # pull.py sends again what changed in the last 5 s (a late commit's margin)


def sent(result, kind, record_id):
    return [row for row in result.records[kind] if row["id"] == record_id]


def test_a_return_half_inspected_and_a_packed_order_are_sent_once_not_at_every_pull(seeded_store, connector):
    ret = seeded_store.find_return("RMA-000101")  # a tee and a wallet
    connector.apply(receive_all(ret), seeded_store.photo_bytes)
    refs = connector.apply(inspect(ret, ret["lines"][0]), seeded_store.photo_bytes).erp_refs
    assert refs["return_state"] == "received"  # the wallet still waits for its inspection
    shipment = seeded_store.find_shipment("OUT-1102")
    connector.apply(pack_all(shipment), seeded_store.photo_bytes)

    time.sleep(CURSOR_MARGIN_S)
    after_the_work = connector.pull(seeded_store.cursors())
    assert [r["state"] for r in sent(after_the_work, "returns", ret["id"])] == ["received"]
    assert [s["state"] for s in sent(after_the_work, "shipments", shipment["id"])] == ["packed"]

    again = connector.pull(after_the_work.cursors)
    assert {kind: len(rows) for kind, rows in again.records.items() if rows} == {}


def test_the_pull_after_a_stations_first_sends_only_what_changed_since(seeded_store, connector):
    # A first pull sends what is open; a return done before it is not among them. Its cursor used
    # to be the newest open record's stamp, so the next pull sent every record closed since then.
    ret = seeded_store.find_return("RMA-000102")
    connector.apply(receive_all(ret), seeded_store.photo_bytes)
    for line in ret["lines"]:
        refs = connector.apply(inspect(ret, line), seeded_store.photo_bytes).erp_refs
    assert refs["return_state"] == "done"

    time.sleep(CURSOR_MARGIN_S)
    first = connector.pull({})
    assert sent(first, "returns", ret["id"]) == []  # done: not open, so not a first pull's
    second = connector.pull(first.cursors)
    assert {kind: len(rows) for kind, rows in second.records.items() if rows} == {}
