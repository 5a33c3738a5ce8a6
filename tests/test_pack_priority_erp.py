"""Service-level priority against the real Tryton server: the sale's service class and due time
reach the station with the shipment; Pack lists the pulled orders most urgent first; Home counts the
late ones; a sale changed in the ERP reaches the station's list on the next pull."""

from __future__ import annotations

import datetime as dt

import pytest

from app.config import Settings
from app.runtime import Station
from app.workflows.station import StationSession
from sync.erp.tryton.connector import TrytonConnector
from tests.sync_ops import erp_read

pytestmark = pytest.mark.erp

# The demo's ORDER_SERVICE, sorted by hand: late first (most overdue first), then by due time, then
# premium > marketplace > wholesale > standard at the same due time.
MOST_URGENT_FIRST = [
    "OUT-1103",  # marketplace, due 30 h before today: late
    "OUT-1101",  # premium, 6 h before today: late
    "OUT-1108",  # standard, 2 h before today: late
    "OUT-1105",  # premium, today + 48 h
    "OUT-1107",  # marketplace, today + 48 h
    "OUT-1110",  # standard, today + 48 h
    "OUT-1102",  # standard, today + 72 h
    "OUT-1109",  # wholesale, today + 96 h
    "OUT-1106",  # standard, today + 96 h
    "OUT-1104",  # wholesale, today + 120 h
]


def packer(store) -> StationSession:
    session = StationSession(store, "pack-1")
    assert session.sign_in("U-PACK-1", "3333").ok
    assert session.start("pack").ok
    return session


def test_service_class_and_due_time_are_pulled_with_the_shipment(erp, seeded_store):
    pulled = {s["number"]: s for s in seeded_store.shipments()}
    for order in erp.demo.orders:
        shipment = pulled[order.shipment]
        assert shipment["service_class"] == order.service_class
        assert shipment["due_at"] == order.due_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_pack_lists_the_pulled_orders_most_urgent_first_and_marks_the_late(seeded_store):
    view = packer(seeded_store).view()
    assert [o.number for o in view.orders] == MOST_URGENT_FIRST
    assert [o.number for o in view.orders if o.late] == MOST_URGENT_FIRST[:3]
    assert all(o.label.split(" · ")[1] == "LATE" for o in view.orders[:3])
    assert not any("LATE" in o.label for o in view.orders[3:])


def test_home_counts_the_late_orders(seeded_store, tmp_path):
    station = Station(settings=Settings(tmp_path, None, "pack-1"), store=seeded_store)  # type: ignore[arg-type]
    assert station.work_counts()["pack_late"] == 3


def test_a_sale_made_urgent_in_the_erp_moves_up_on_the_next_pull(erp, seeded_store):
    (sale,) = erp_read(erp, "sale.sale", [("number", "=", "SO-1104")], ["id"])
    due = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=2)
    when = {"year": due.year, "month": due.month, "day": due.day, "hour": due.hour, "minute": due.minute}
    erp.call(
        "model.sale.sale.write",
        [sale["id"]],
        {
            "station_service_class": "premium",
            "station_due_at": {"__class__": "datetime", **when, "second": 0, "microsecond": 0},
        },
        {},
    )
    connector = TrytonConnector(erp.address)
    try:
        result = connector.pull(seeded_store.cursors())
    finally:
        connector.close()
    assert "OUT-1104" in [s["number"] for s in result.records["shipments"]]
    seeded_store.apply_pull(result.records, result.cursors)
    view = packer(seeded_store).view()
    assert [o.number for o in view.orders][:4] == ["OUT-1104", *MOST_URGENT_FIRST[:3]]
    assert view.orders[0].late and view.orders[0].service_class == "premium"
