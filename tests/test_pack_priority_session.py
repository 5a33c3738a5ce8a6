"""Service-level priority at Pack, on a real store (no ERP): the waiting orders most urgent first
(late, then due time, then service class), each marked in words; Home's late count; orders packed
here leave the list."""

from __future__ import annotations

import datetime as dt

import pytest

from app.config import Settings
from app.runtime import Station
from app.workflows.station import StationSession
from sync.erp.address import ErpAddress
from tests.workflows_world import seed_world

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def iso(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def service_levels(store, now: dt.datetime) -> None:
    """One order late, two due at the same time (premium and standard), one without a due time."""
    service = {
        "WEB-6001": ("standard", iso(now + dt.timedelta(hours=2))),
        "WEB-6003": ("premium", iso(now + dt.timedelta(hours=2))),
        "WEB-6006": ("wholesale", iso(now - dt.timedelta(hours=1))),
        "WEB-6010": ("marketplace", None),
    }
    shipments = store.shipments()
    for shipment in shipments:
        shipment["service_class"], shipment["due_at"] = service[shipment["order"]]
    store.upsert_reference("shipments", shipments)


@pytest.fixture
def world(store):
    world = seed_world(store, TODAY)
    service_levels(store, NOW)
    return world


def packer(store, clock=lambda: NOW) -> StationSession:
    session = StationSession(store, "pack-1", clock=clock)
    assert session.sign_in("U-PACK-1", "3333").ok
    assert session.start("pack").ok
    return session


def test_pack_lists_waiting_orders_late_first_then_due_time_then_class(store, world):
    view = packer(store).view()
    assert [o.order for o in view.orders] == ["WEB-6006", "WEB-6003", "WEB-6001", "WEB-6010"]
    assert [o.late for o in view.orders] == [True, False, False, False]
    late = view.orders[0]
    assert late.label.startswith("CS00006 · LATE · wholesale · due 09:00 UTC, 1 h ago · 3 item(s) for")
    assert "LATE" not in view.orders[1].label and "no due time" in view.orders[3].label
    assert view.prompt.endswith("1 late order(s) first")


def test_an_order_becomes_late_when_its_due_time_passes(store, world):
    later = NOW + dt.timedelta(hours=3)
    view = packer(store, clock=lambda: later).view()
    assert [o.order for o in view.orders] == ["WEB-6006", "WEB-6003", "WEB-6001", "WEB-6010"]
    assert [o.late for o in view.orders] == [True, True, True, False]


def test_an_order_packed_here_leaves_the_list_and_the_late_count(store, world, tmp_path):
    now = dt.datetime.now(dt.UTC)  # the home screen counts late orders by the wall clock
    service_levels(store, now)
    station = Station(settings=Settings(tmp_path, ErpAddress(), "pack-1"), store=store)
    assert station.work_counts()["pack_late"] == 1
    session = packer(store, clock=lambda: now)
    assert session.scan("WEB-6006").ok
    assert session.scan("2*" + world.barcode("ACC-BEANIE-RED")).ok
    assert session.scan(world.barcode("ACC-BELT-BRN")).ok
    assert session.confirm().ok
    assert [o.order for o in session.view().orders] == ["WEB-6003", "WEB-6001", "WEB-6010"]
    assert station.work_counts()["pack_late"] == 0


def test_orders_without_a_service_level_are_standard_and_not_late(store):
    seed_world(store, TODAY)  # shipments as an older ERP sends them: no class, no due time
    view = packer(store).view()
    assert {o.service_class for o in view.orders} == {"standard"}
    assert not any(o.late for o in view.orders)
    assert [o.number for o in view.orders] == sorted(o.number for o in view.orders)
