"""The seeded demo read back from a real Tryton server over JSON-RPC (one shared database, read only)."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections import Counter

import pytest

from sync.common.gtin import to_gtin14
from sync.common.pins import verify_pin
from sync.erp.tryton.demo import MISMATCHES, plan
from sync.erp.tryton.server import ErpSetupError

pytestmark = pytest.mark.erp


@pytest.fixture(scope="module")
def demo_db(erp_server):
    """Read-only tests share one fresh copy."""
    database = erp_server.new_database("dataset")
    yield database
    erp_server.remove_database(database)


def search_read(db, model, domain, fields, context=None):
    return db.call(f"model.{model}.search_read", domain, 0, None, None, fields, context or {})


def test_products_cover_five_families_with_valid_ean_barcodes(demo_db):
    products = search_read(
        demo_db,
        "product.product",
        [],
        ["code", "station_family", "station_tracking", "station_category", "station_unit_value"],
    )
    identifiers = search_read(demo_db, "product.identifier", [("type", "=", "ean")], ["product", "code"])
    assert len(products) >= 40
    families = Counter(p["station_family"] for p in products)
    assert set(families) == {"apparel", "footwear", "accessories", "electronics", "health"}
    assert all(count >= 5 for count in families.values())
    barcode_of = {i["product"]: i["code"] for i in identifiers}
    assert set(barcode_of) == {p["id"] for p in products}
    for code in barcode_of.values():
        assert len(code) in (12, 13) and code.isdigit()
        assert to_gtin14(code) == code.zfill(14), code  # a valid check digit
    assert all(p["station_category"] for p in products)
    assert all(float(p["station_unit_value"]) > 0 for p in products)
    tracking = {p["station_family"]: p["station_tracking"] for p in products}
    assert (
        tracking["electronics"] == "serial" and tracking["health"] == "lot" and tracking["apparel"] == "none"
    )


def test_health_lots_have_expiry_some_expired_some_short_dated(demo_db):
    health = search_read(demo_db, "product.product", [("station_family", "=", "health")], ["id"])
    lots = search_read(
        demo_db,
        "stock.lot",
        [("product", "in", [p["id"] for p in health])],
        ["number", "expiration_date", "recalled"],
    )
    today = dt.date.today()
    expiries = [lot["expiration_date"] for lot in lots]
    assert len(lots) >= len(health) * 2
    assert any(d < today for d in expiries)
    assert any(today <= d <= today + dt.timedelta(days=30) for d in expiries)
    assert any(d > today + dt.timedelta(days=180) for d in expiries)


def test_at_least_fifteen_draft_returns_with_rma_reason_and_expected_lines(demo_db):
    returns = search_read(
        demo_db,
        "stock.shipment.out.return",
        [],
        ["reference", "state", "return_reason", "tracking_number", "returned_sale.number", "incoming_moves"],
    )
    assert len(returns) >= 15
    assert {r["state"] for r in returns} == {"draft"}
    assert all(r["reference"].startswith("RMA-") and len(r["reference"]) == 10 for r in returns)
    assert all(r["return_reason"] and r["tracking_number"] and r["incoming_moves"] for r in returns)
    by_rma = {r.rma: r for r in demo_db.demo.returns}
    assert {(r["reference"], r["returned_sale."]["number"]) for r in returns} == {
        (spec.rma, spec.order) for spec in by_rma.values()
    }


def test_lot_and_serial_returns_carry_the_lot_sold(demo_db):
    moves = search_read(
        demo_db,
        "stock.move",
        [("shipment", "like", "stock.shipment.out.return,%")],
        ["product.station_tracking", "lot"],
    )
    tracked = [m for m in moves if m["product."]["station_tracking"] in ("lot", "serial")]
    assert tracked and all(m["lot"] for m in tracked)


def test_each_expected_return_line_comes_from_the_move_that_delivered_it(demo_db):
    moves = search_read(
        demo_db,
        "stock.move",
        [("shipment", "like", "stock.shipment.out.return,%")],
        ["origin", "product", "lot"],
    )
    origins = search_read(
        demo_db,
        "stock.move",
        [("id", "in", [int(m["origin"].split(",")[1]) for m in moves])],
        ["product", "lot", "state", "to_location.type"],
    )
    assert all(m["origin"].startswith("stock.move,") for m in moves)
    assert {(o["product"], o["lot"]) for o in origins} == {(m["product"], m["lot"]) for m in moves}
    assert {(o["state"], o["to_location."]["type"]) for o in origins} == {("done", "customer")}


def test_documented_mismatches_differ_from_the_expected_lines(demo_db):
    by_rma = {r.rma: r for r in demo_db.demo.returns}
    for rma, kind in MISMATCHES.items():
        spec = by_rma[rma]
        assert spec.mismatch == kind and spec.box != spec.lines
        (shipment,) = search_read(
            demo_db, "stock.shipment.out.return", [("reference", "=", rma)], ["incoming_moves"]
        )
        moves = search_read(
            demo_db,
            "stock.move",
            [("id", "in", shipment["incoming_moves"])],
            ["product.code", "lot.number", "quantity"],
        )
        in_erp = sorted((m["product."]["code"], (m.get("lot.") or {}).get("number")) for m in moves)
        assert in_erp == sorted((ln.product, ln.lot) for ln in spec.lines)
    matching = [r for r in demo_db.demo.returns if r.mismatch is None]
    assert matching and all(r.box == r.lines for r in matching)


def test_at_least_eight_orders_ready_to_pack_one_with_a_lot(demo_db):
    shipments = search_read(
        demo_db,
        "stock.shipment.out",
        [("state", "=", "assigned")],
        ["number", "station_order", "inventory_moves"],
    )
    assert len(shipments) >= 8
    assert {(s["number"], s["station_order"]) for s in shipments} == {
        (o.shipment, o.order) for o in demo_db.demo.orders
    }
    moves = search_read(
        demo_db,
        "stock.move",
        [("id", "in", [m for s in shipments for m in s["inventory_moves"]])],
        ["lot", "product.station_tracking", "state"],
    )
    assert {m["state"] for m in moves} == {"assigned"}
    assert any(m["lot"] and m["product."]["station_tracking"] == "lot" for m in moves)


def test_locations_stand_for_the_inventory_states(demo_db):
    locations = search_read(
        demo_db, "stock.location", [("inventory_state", "!=", None)], ["code", "inventory_state"]
    )
    assert {loc["inventory_state"] for loc in locations} >= {
        "received",
        "sellable",
        "quarantine",
        "refurbish",
        "vendor_return",
        "disposed",
    }


def test_quality_controls_cover_electronics_and_health_returns(demo_db):
    controls = search_read(demo_db, "quality.control", [], ["operations", "product_category.name", "points"])
    assert {c["product_category."]["name"] for c in controls} == {"Consumer Electronics", "Health & Wellness"}
    assert all(c["operations"] == ["stock.shipment.out.return:do"] and c["points"] for c in controls)


def test_people_have_roles_and_hashed_pins_only(demo_db):
    people = search_read(
        demo_db,
        "returns.station.person",
        [],
        ["badge", "roles", "pin_hash", "active"],
        {"active_test": False},
    )
    by_badge = {p["badge"]: p for p in people}
    expected = {
        "U-RECV-1": ("1111", "receiver"),
        "U-INSP-1": ("2222", "inspector"),
        "U-PACK-1": ("3333", "packer"),
        "U-SUPV-1": ("444444", "supervisor"),
    }
    for badge, (pin, role) in expected.items():
        person = by_badge[badge]
        assert role in person["roles"] and person["active"]
        assert person["pin_hash"].startswith("scrypt$") and pin not in person["pin_hash"]
        assert verify_pin(pin, person["pin_hash"]) and not verify_pin("0000", person["pin_hash"])
    assert not by_badge["U-GONE-1"]["active"]


def test_an_inspected_family_return_cannot_be_done_before_its_inspection(erp):
    """The quality controls are live: Tryton holds a health return at ``do`` until it is inspected
    (the button answers with its inspection wizard instead), while a footwear return goes through."""

    def return_id(rma: str) -> int:
        (found,) = erp.call(
            "model.stock.shipment.out.return.search", [("reference", "=", rma)], 0, None, None, {}
        )
        return found

    health, footwear = return_id("RMA-000103"), return_id("RMA-000102")
    erp.call("model.stock.shipment.out.return.receive", [health, footwear], {})
    action = erp.call("model.stock.shipment.out.return.do", [health], {})
    assert action["wiz_name"] == "quality.inspect"
    erp.call("model.stock.shipment.out.return.do", [footwear], {})
    states = erp.call("model.stock.shipment.out.return.read", [health, footwear], ["state"], {})
    assert {row["id"]: row["state"] for row in states} == {health: "received", footwear: "done"}


def test_no_clear_pin_is_stored_anywhere_in_the_database():
    """Every text value of every table of the seeded file: none is a demo PIN."""
    from tests.fixtures.erp import template_database

    pins = {p.pin for p in plan().people}
    found = []
    with contextlib.closing(sqlite3.connect(template_database())) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                found += [(table, value) for value in row if isinstance(value, str) and value.strip() in pins]
    assert found == []


def test_a_second_person_with_the_same_badge_is_refused(erp):
    with pytest.raises(ErpSetupError, match="badge"):
        erp.call(
            "model.returns.station.person.create",
            [{"badge": "U-RECV-1", "name": "Impostor", "roles": ["receiver"], "pin_hash": "scrypt$x"}],
            {},
        )


@pytest.mark.parametrize(
    "model, field",
    [
        ("returns.station.person", "badge"),
        ("stock.location", "inventory_state"),
        ("stock.shipment.out.return", "tracking_number"),
        ("product.template", "station_family"),
        ("stock.lot", "recalled"),
    ],
)
def test_the_tryton_client_shows_the_station_fields(demo_db, model, field):
    view = demo_db.call(f"model.{model}.fields_view_get", None, "form", {})
    assert f'name="{field}"' in view["arch"]
