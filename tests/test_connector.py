"""The Tryton connector against the real embedded ERP: the pull's shapes and cursors, each
operation's effect on the ERP's records, and exactly-once application of a re-sent id."""

import typing

import pytest

from sync import reference
from sync.erp.address import ErpAddress
from sync.erp.protocol import ErpAuthFailed, ErpConflict, ErpRejected
from sync.erp.tryton.connector import TrytonConnector
from sync.operations import new_operation
from tests.sync_ops import (
    erp_read,
    inspect,
    markers,
    pack_all,
    publish_test_rules,
    receive_all,
    request_disposition_approval,
)

pytestmark = pytest.mark.erp

SHAPES = {
    "products": reference.Product,
    "lots": reference.Lot,
    "returns": reference.Return,
    "shipments": reference.Shipment,
    "locations": reference.Location,
    "people": reference.Person,
    "approvals": reference.Approval,
    "rules": reference.Rules,
}


def station_connector(erp, station: str) -> TrytonConnector:
    """A connector logged in as station ``station``'s own ERP user (the ERP applies only
    operations that carry the station its login speaks for). Closed when the test's ERP goes."""
    return TrytonConnector(erp.station_address(station), timeout=60)


def return_state(erp, return_id):
    (row,) = erp_read(erp, "stock.shipment.out.return", [("id", "=", return_id)], ["state"])
    return row["state"]


def test_pull_gives_every_reference_kind_in_the_contract_shape(connector, erp):
    result = connector.pull({})
    assert set(result.records) == set(reference.REFERENCE_KINDS)
    assert set(result.cursors) == set(reference.REFERENCE_KINDS)
    for kind, rows in result.records.items():
        required = {
            k
            for k, v in typing.get_type_hints(SHAPES[kind], include_extras=True).items()
            if "NotRequired" not in str(v)
        }
        for row in rows:
            assert required <= set(row), (kind, required - set(row))
    assert len(result.records["products"]) == len(erp.demo.products)
    assert len(result.records["returns"]) == len(erp.demo.returns)
    assert {p["badge"] for p in result.records["people"]} == {p.badge for p in erp.demo.people}
    states = {loc["state"] for loc in result.records["locations"]}
    assert {"received", "sellable", "quarantine", "refurbish", "vendor_return", "disposed"} <= states


def test_seeded_store_finds_what_a_worker_scans(seeded_store, erp):
    spec = erp.demo.returns[0]
    found = seeded_store.find_return(spec.rma)
    assert found["state"] == "draft" and found["order"] is not None
    assert seeded_store.find_return(spec.tracking)["id"] == found["id"]
    product = erp.demo.products[0]
    assert seeded_store.product_by_barcode(product.barcode)["code"] == product.code
    assert seeded_store.person("U-SUPV-1")["roles"] == ["supervisor"]


def test_incremental_pull_with_nothing_changed_is_empty(connector):
    first = connector.pull({})
    again = connector.pull(first.cursors)
    assert {kind: rows for kind, rows in again.records.items() if rows} == {}


def test_receive_return_is_applied_once_and_a_resend_changes_nothing(seeded_store, connector, erp):
    ret = seeded_store.find_return("RMA-000101")
    op = receive_all(ret)
    first = connector.apply(op, seeded_store.photo_bytes)
    assert not first.already and first.erp_refs["state"] == "received"
    moves_after_first = erp_read(
        erp,
        "stock.move",
        [("shipment", "=", f"stock.shipment.out.return,{ret['id']}")],
        ["state", "quantity"],
    )
    again = connector.apply(op, seeded_store.photo_bytes)  # as if the first response was lost
    assert again.already and again.erp_refs == first.erp_refs
    assert (
        erp_read(
            erp,
            "stock.move",
            [("shipment", "=", f"stock.shipment.out.return,{ret['id']}")],
            ["state", "quantity"],
        )
        == moves_after_first
    )
    assert return_state(erp, ret["id"]) == "received"
    assert [m["operation_id"] for m in markers(erp)] == [op.id]


def test_incremental_pull_sees_the_received_return(seeded_store, connector):
    ret = seeded_store.find_return("RMA-000102")
    connector.apply(receive_all(ret), seeded_store.photo_bytes)
    result = connector.pull(seeded_store.cursors())
    assert [r["state"] for r in result.records["returns"] if r["id"] == ret["id"]] == ["received"]


def test_second_station_receiving_the_same_return_gets_a_readable_conflict(seeded_store, connector, erp):
    ret = seeded_store.find_return("RMA-000103")
    connector.apply(receive_all(ret, station="S1"), seeded_store.photo_bytes)
    with pytest.raises(ErpConflict, match="already received .* another station"):
        station_connector(erp, "S2").apply(receive_all(ret, station="S2"), seeded_store.photo_bytes)
    assert len(markers(erp)) == 1


def test_missing_and_extra_items_are_received_as_scanned(seeded_store, connector, erp):
    spec = next(r for r in erp.demo.returns if r.mismatch == "missing item")
    ret = seeded_store.find_return(spec.rma)
    op = receive_all(ret)
    op.payload["lines"][1]["received"] = 0
    op.payload["missing"] = [
        {
            "move_id": ret["lines"][1]["move_id"],
            "product_id": ret["lines"][1]["product_id"],
            "quantity": ret["lines"][1]["quantity"],
        }
    ]
    extra_product = seeded_store.products()[0]
    op.payload["extra"] = [
        {
            "barcode": extra_product["barcodes"][0],
            "product_id": extra_product["id"],
            "quantity": 1,
            "lot": None,
            "serial": None,
            "reason": "extra item",
        },
        {
            "barcode": "0000000000000",
            "product_id": None,
            "quantity": 1,
            "lot": None,
            "serial": None,
            "reason": "unknown barcode",
        },
    ]
    result = connector.apply(op, seeded_store.photo_bytes)
    moves = {
        m["id"]: m
        for m in erp_read(
            erp,
            "stock.move",
            [
                ("shipment", "=", f"stock.shipment.out.return,{ret['id']}"),
                ("from_location.type", "=", "customer"),
            ],
            ["state", "product", "quantity"],
        )
    }
    assert moves[ret["lines"][1]["move_id"]]["state"] == "cancelled"
    assert moves[ret["lines"][0]["move_id"]]["state"] == "done"
    (extra_id,) = result.erp_refs["extra_moves"]
    assert moves[extra_id]["product"] == extra_product["id"] and moves[extra_id]["state"] == "done"


def test_unknown_product_is_rejected_with_the_erps_message(seeded_store, connector, erp):
    ret = seeded_store.find_return("RMA-000105")
    op = receive_all(ret)
    op.payload["extra"] = [
        {
            "barcode": "4006381333931",
            "product_id": 999999,
            "quantity": 1,
            "lot": None,
            "serial": None,
            "reason": "wrong item",
        }
    ]
    with pytest.raises(ErpRejected, match="unknown product"):
        connector.apply(op, seeded_store.photo_bytes)
    assert return_state(erp, ret["id"]) == "draft"
    assert markers(erp) == []


def test_confirm_pack_packs_the_shipment_in_one_package(seeded_store, connector, erp):
    shipment = seeded_store.shipments("assigned")[1]
    op = pack_all(shipment)
    result = connector.apply(op, seeded_store.photo_bytes)
    assert result.erp_refs["state"] == "packed"
    assert connector.apply(op, seeded_store.photo_bytes).already
    packages = erp_read(
        erp, "stock.package", [("shipment", "=", f"stock.shipment.out,{shipment['id']}")], ["moves"]
    )
    assert len(packages) == 1 and len(packages[0]["moves"]) >= 1
    with pytest.raises(ErpConflict, match="already packed"):
        station_connector(erp, "S2").apply(pack_all(shipment, station="S2"), seeded_store.photo_bytes)


def test_lot_tracked_shipment_is_packed_with_the_scanned_lot(seeded_store, connector, erp):
    shipment = next(s for s in seeded_store.shipments("assigned") if any(line["lot"] for line in s["lines"]))
    result = connector.apply(pack_all(shipment), seeded_store.photo_bytes)
    assert result.erp_refs["state"] == "packed"


def test_every_unit_inspected_with_photos_closes_the_return(seeded_store, connector, erp):
    publish_test_rules(erp)  # the rules the inspections below follow
    ret = seeded_store.find_return("RMA-000101")
    connector.apply(receive_all(ret), seeded_store.photo_bytes)
    digest = seeded_store.add_photo(b"\xff\xd8 scuffed corner")
    upload = new_operation(
        "upload_photo",
        {"sha256": digest, "mime": "image/jpeg", "return_id": ret["id"]},
        station="S1",
        user="U-INSP-1",
    )
    connector.apply(upload, seeded_store.photo_bytes)
    results = []
    for line in ret["lines"]:
        for _ in range(int(line["quantity"])):
            results.append(
                connector.apply(
                    inspect(ret, line, disposition="refurbish", photos=[digest]), seeded_store.photo_bytes
                )
            )
    assert results[-1].erp_refs["return_state"] == "done"
    assert return_state(erp, ret["id"]) == "done"
    inspections = erp_read(
        erp,
        "quality.inspection",
        [("origin", "=", f"stock.shipment.out.return,{ret['id']}")],
        ["state", "station_grade"],
    )
    assert len(inspections) == len(results) and {i["state"] for i in inspections} == {"passed"}
    attachments = erp_read(erp, "ir.attachment", [("name", "=", digest)], ["resource"])
    assert len(attachments) == 1 + len(results)  # on the return, and on each inspection citing it
    refurb = next(loc["id"] for loc in seeded_store.locations() if loc["state"] == "refurbish")
    assert {r.erp_refs["location_id"] for r in results} == {refurb}


def test_refused_approval_fails_the_inspection_and_quarantines_the_unit(seeded_store, connector, erp):
    spec = next(r for r in erp.demo.returns if r.rma == "RMA-000105")  # serial-numbered electronics
    ret = seeded_store.find_return(spec.rma)
    connector.apply(receive_all(ret), seeded_store.photo_bytes)
    item = inspect(ret, ret["lines"][0], disposition="restock", approval_required=True)
    held = connector.apply(item, seeded_store.photo_bytes)
    assert held.erp_refs["inspection_state"] == "pending"
    request = request_disposition_approval(ret, item, "req-1")
    connector.apply(request, seeded_store.photo_bytes)
    assert [a["state"] for a in connector.pull({}).records["approvals"]] == ["pending"]
    own = new_operation(
        "decide_approval",
        {"request_id": "req-1", "decision": "approve", "note": None},
        station="S1",
        user="U-INSP-1",
    )
    with pytest.raises(ErpRejected, match="may not decide approvals"):  # an inspector, and the requester
        connector.apply(own, seeded_store.photo_bytes)
    refuse = new_operation(
        "decide_approval",
        {"request_id": "req-1", "decision": "refuse", "note": "scratched"},
        station="S1",
        user="U-SUPV-1",
    )
    connector.apply(refuse, seeded_store.photo_bytes)
    (inspection,) = erp_read(
        erp, "quality.inspection", [("id", "=", held.erp_refs["inspection_id"])], ["state", "alerts"]
    )
    assert inspection["state"] == "failed" and len(inspection["alerts"]) == 1
    quarantine = next(loc["id"] for loc in seeded_store.locations() if loc["state"] == "quarantine")
    (move,) = erp_read(erp, "stock.move", [("id", "=", held.erp_refs["move_id"])], ["to_location"])
    assert move["to_location"] == quarantine
    with pytest.raises(ErpConflict, match="already refused"):
        station_connector(erp, "S2").apply(
            new_operation(
                "decide_approval",
                {"request_id": "req-1", "decision": "approve", "note": None},
                station="S2",
                user="U-SUPV-1",
            ),
            seeded_store.photo_bytes,
        )


def test_wrong_password_is_auth_failed_without_the_password(erp):
    address = ErpAddress(
        host=erp.address.host,
        port=erp.address.port,
        database=erp.address.database,
        user="admin",
        password="not-the-Passw0rd",
    )
    bad = TrytonConnector(address)
    with pytest.raises(ErpAuthFailed) as info:
        bad.check()
    assert "not-the-Passw0rd" not in str(info.value) and "admin" in str(info.value)


def test_check_describes_the_erp(connector):
    assert "Tryton" in connector.check()


def test_photo_missing_from_the_station_fails_without_troubling_the_erp(store, connector, erp):
    op = new_operation(
        "upload_photo",
        {"sha256": "f" * 64, "mime": "image/jpeg", "return_id": None},
        station="S1",
        user="U-INSP-1",
    )
    (result,) = connector.apply_batch([op], store.photo_bytes)
    assert isinstance(result, ErpRejected) and "missing" in str(result)
    assert markers(erp) == []


def test_short_pack_ships_what_was_packed(seeded_store, connector, erp):
    shipment = next(
        s
        for s in seeded_store.shipments("assigned")
        if len(s["lines"]) >= 2 and not any(line["lot"] for line in s["lines"])
    )
    op = pack_all(shipment)
    shorted = op.payload["lines"].pop()
    op.payload["short"] = [
        {"move_id": shorted["move_id"], "product_id": shorted["product_id"], "quantity": shorted["quantity"]}
    ]
    op.payload["short_reason"] = "last unit damaged"
    op.payload["approval_request"] = "req-short"
    approved = [
        new_operation(
            "request_approval",
            {"request_id": "req-short", "kind": "short_pack", "shipment_id": shipment["id"], "reason": "x"},
            station="S1",
            user="U-PACK-1",
        ),
        new_operation(
            "decide_approval",
            {"request_id": "req-short", "decision": "approve", "note": None},
            station="S1",
            user="U-SUPV-1",
        ),
    ]
    for decision in approved:
        connector.apply(decision, seeded_store.photo_bytes)
    result = connector.apply(op, seeded_store.photo_bytes)
    assert result.erp_refs["state"] == "packed"
    outgoing = erp_read(
        erp,
        "stock.move",
        [
            ("shipment", "=", f"stock.shipment.out,{shipment['id']}"),
            ("to_location.type", "=", "customer"),
            ("state", "!=", "cancelled"),
        ],
        ["product", "quantity"],
    )
    packed = {m["product"]: m["quantity"] for m in outgoing if m["quantity"]}
    assert shorted["product_id"] not in packed
    assert packed == {line["product_id"]: line["quantity"] for line in op.payload["lines"]}


def test_an_erp_user_outside_the_station_group_stops_sync_and_says_what_to_do(erp):
    erp.call(
        "model.res.user.create",
        [{"login": "clerk", "name": "Clerk without groups", "password": "Clerk-Pa55word"}],
        {},
    )
    address = ErpAddress(
        host=erp.address.host,
        port=erp.address.port,
        database=erp.address.database,
        user="clerk",
        password="Clerk-Pa55word",
    )
    clerk = TrytonConnector(address)
    with pytest.raises(ErpAuthFailed) as info:
        clerk.pull({})
    assert "You are not allowed to call pull" in str(info.value)
    assert "station erp add-station NAME" in str(info.value)
    assert "Clerk-Pa55word" not in str(info.value)
