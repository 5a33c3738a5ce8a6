"""Sort to tote against the real ERP: inspected units wait on the sort table in totes (Tryton
packages on an internal shipment) and reach their disposition's location when their tote is closed,
by Tryton's own stock quantities per location; a wrong, closed or missing tote is refused; a re-sent
operation changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from sync.erp.protocol import ErpConflict, ErpRejected
from sync.operations import Operation, new_operation
from tests.sync_ops import erp_read, inspect, publish_test_rules, receive_all
from tests.test_trust_station_user import AsStation

pytestmark = pytest.mark.erp


@pytest.fixture(autouse=True)
def rules_the_inspections_follow(erp: Any) -> None:
    publish_test_rules(erp)  # the ERP decides every inspection again: these tests' grades decide so


def inspect_to_sort(ret: dict[str, Any], line: dict[str, Any], disposition: str) -> Operation:
    op = inspect(ret, line, disposition=disposition)
    return new_operation("inspect_item", {**op.payload, "to_sort": True}, station="S1", user="U-INSP-1")


def sort(inspected: Operation, tote: str, **changes: Any) -> Operation:
    payload = {
        "tote": tote,
        "inspect_op": inspected.id,
        "return_id": inspected.payload["return_id"],
        "product_id": inspected.payload["product_id"],
        "lot": inspected.payload["lot"],
        "serial": None,
        "disposition": inspected.payload["disposition"],
        **changes,
    }
    return new_operation("sort_to_tote", payload, station="S1", user="U-INSP-1", depends_on=(inspected.id,))


def close(tote: str, user: str = "U-INSP-1") -> Operation:
    return new_operation("close_tote", {"tote": tote, "units": None}, station="S1", user=user)


def location(store: Any, state: str) -> int:
    return next(loc["id"] for loc in store.locations() if loc["state"] == state)


def stock(erp: Any, product_id: int, location_id: int) -> float:
    """Tryton's own quantity of the product in that one location (not its children)."""
    context = {"locations": [location_id], "with_childs": False}
    (row,) = erp.call(
        "model.product.product.search_read", [("id", "=", product_id)], 0, None, None, ["quantity"], context
    )
    return row["quantity"]


def plain_return(store: Any, units: int = 2) -> dict[str, Any]:
    """A draft demo return of ``units`` or more units, none lot- or serial-tracked, distinct products."""
    for ret in store.returns("draft"):
        products = [store.product(line["product_id"]) for line in ret["lines"]]
        if any(p["lot_tracked"] or p["serial_tracked"] for p in products):
            continue
        if len({li["product_id"] for li in ret["lines"]}) >= units:
            return ret
    raise AssertionError("the demo has no plain return of two products")


def apply(connector: Any, store: Any, op: Operation) -> dict[str, Any]:
    return connector.apply(op, store.photo_bytes).erp_refs


def test_sorted_units_reach_their_locations_when_their_tote_is_closed(seeded_store, connector, erp):
    ret = plain_return(seeded_store)
    first, second = ret["lines"][:2]
    apply(connector, seeded_store, receive_all(ret))
    sort_table, refurb, sellable = (location(seeded_store, s) for s in ("sorting", "refurbish", "sellable"))
    a = inspect_to_sort(ret, first, "refurbish")
    b = inspect_to_sort(ret, second, "restock")
    assert apply(connector, seeded_store, a)["location_id"] == sort_table
    apply(connector, seeded_store, b)
    for line in ret["lines"][2:]:  # the rest of the return, so that Tryton closes it
        for _ in range(int(line["quantity"])):
            apply(connector, seeded_store, inspect(ret, line, disposition="refurbish"))
    before = {
        (pid, loc): stock(erp, pid, loc)
        for pid in (first["product_id"], second["product_id"])
        for loc in (sort_table, refurb, sellable)
    }
    assert before[(first["product_id"], sort_table)] >= 1 and before[(second["product_id"], sort_table)] >= 1

    into_refurb = apply(connector, seeded_store, sort(a, "TOTE-REFURB-0001"))
    into_restock = apply(connector, seeded_store, sort(b, "TOTE-RESTOCK-0001"))
    assert into_refurb["units"] == 1 and into_refurb["location_id"] == refurb
    assert into_restock["location_id"] == sellable
    (package,) = erp_read(erp, "stock.package", [("number", "=", "TOTE-REFURB-0001")], ["state", "shipment"])
    assert package["state"] == "open" and package["shipment"].startswith("stock.shipment.internal,")
    assert stock(erp, first["product_id"], refurb) == before[(first["product_id"], refurb)]  # not yet

    closed = apply(connector, seeded_store, close("TOTE-REFURB-0001"))
    assert closed["state"] == "done" and closed["units"] == 1
    assert stock(erp, first["product_id"], refurb) == before[(first["product_id"], refurb)] + 1
    assert stock(erp, first["product_id"], sort_table) == before[(first["product_id"], sort_table)] - 1
    # the restock tote is still open: its unit waits on the sort table
    assert stock(erp, second["product_id"], sort_table) == before[(second["product_id"], sort_table)]
    apply(connector, seeded_store, close("TOTE-RESTOCK-0001"))
    assert stock(erp, second["product_id"], sellable) == before[(second["product_id"], sellable)] + 1
    assert stock(erp, second["product_id"], sort_table) == before[(second["product_id"], sort_table)] - 1
    states = erp_read(erp, "stock.package", [("number", "like", "TOTE-%")], ["state"])
    assert {p["state"] for p in states} == {"closed"}


def test_a_wrong_tote_a_closed_tote_and_a_unit_code_as_tote_are_refused(seeded_store, connector, erp):
    ret = plain_return(seeded_store)
    first, second = ret["lines"][:2]
    apply(connector, seeded_store, receive_all(ret))
    a = inspect_to_sort(ret, first, "refurbish")
    b = inspect_to_sort(ret, second, "refurbish")
    apply(connector, seeded_store, a)
    apply(connector, seeded_store, b)

    with pytest.raises(ErpRejected, match="TOTE-RESTOCK-0002 is a Restock tote: this unit is Refurbish"):
        apply(connector, seeded_store, sort(a, "TOTE-RESTOCK-0002"))
    # what the station says the disposition was does not matter: the ERP's inspection does
    with pytest.raises(ErpRejected, match="is a Restock tote"):
        apply(connector, seeded_store, sort(a, "TOTE-RESTOCK-0002", disposition="restock"))
    barcode = seeded_store.product(first["product_id"])["barcodes"][0]
    with pytest.raises(ErpRejected, match=f"{barcode} is not a tote label"):
        apply(connector, seeded_store, sort(a, barcode))
    with pytest.raises(ErpRejected, match="TOTE-REFURB-0009 holds nothing"):
        apply(connector, seeded_store, close("TOTE-REFURB-0009"))

    apply(connector, seeded_store, sort(a, "TOTE-REFURB-0002"))
    apply(connector, seeded_store, close("TOTE-REFURB-0002"))
    with pytest.raises(ErpRejected, match="TOTE-REFURB-0002 is closed: it was moved to Refurbishment"):
        apply(connector, seeded_store, sort(b, "TOTE-REFURB-0002"))
    with pytest.raises(ErpConflict, match="TOTE-REFURB-0002 is closed"):
        apply(connector, seeded_store, close("TOTE-REFURB-0002"))  # another station closed it: conflict
    assert apply(connector, seeded_store, sort(b, "TOTE-REFURB-0003"))["units"] == 1
    with pytest.raises(ErpRejected, match="may not"):
        apply(connector, seeded_store, close("TOTE-REFURB-0003", user="U-PACK-1"))


def test_a_resent_sort_or_close_changes_nothing(seeded_store, connector, erp):
    ret = plain_return(seeded_store)
    first = ret["lines"][0]
    apply(connector, seeded_store, receive_all(ret))
    a = inspect_to_sort(ret, first, "refurbish")
    into = sort(a, "TOTE-REFURB-0004")
    results = connector.apply_batch([a, into], seeded_store.photo_bytes)
    assert [r.already for r in results] == [False, False]
    again = connector.apply_batch([a, into], seeded_store.photo_bytes)  # the response was lost
    assert [r.already for r in again] == [True, True]
    assert again[1].erp_refs == results[1].erp_refs
    with pytest.raises(ErpConflict, match="already in tote TOTE-REFURB-0004"):
        apply(connector, seeded_store, sort(a, "TOTE-REFURB-0005"))  # the same unit, scanned again
    closing = close("TOTE-REFURB-0004")
    assert not connector.apply(closing, seeded_store.photo_bytes).already
    assert connector.apply(closing, seeded_store.photo_bytes).already
    moves = erp_read(erp, "stock.move", [("station_sorted_from", "!=", None)], ["state", "package"])
    assert len(moves) == 1 and moves[0]["state"] == "done"


def test_a_station_user_touches_totes_only_through_apply_batch(erp):
    station = AsStation(erp)
    tote = {"number": "TOTE-RESTOCK-0001"}
    assert "not allowed" in station.refused("model.stock.package.create", [tote], {})
    assert "not allowed" in station.refused("model.stock.shipment.internal.do", [1], {})
