"""A short pack against the real ERP: held on its approval request until a supervisor approves it,
never packed when refused, and each of the three operations applied exactly once."""

import dataclasses
import typing

import pytest

from sync.erp.protocol import ErpConflict
from sync.operations import Operation, new_operation
from tests.sync_ops import erp_read, pack_all

pytestmark = pytest.mark.erp

REQUEST = "req-short-1"


def short_pack(seeded_store) -> tuple[dict[str, typing.Any], Operation, Operation]:
    """A two-line order packed one line short: its ``request_approval`` and ``confirm_pack``."""
    shipment = next(
        s
        for s in seeded_store.shipments("assigned")
        if len(s["lines"]) >= 2 and not any(line["lot"] for line in s["lines"])
    )
    pack = pack_all(shipment)
    shorted = pack.payload["lines"].pop()
    pack.payload["short"] = [
        {"move_id": shorted["move_id"], "product_id": shorted["product_id"], "quantity": shorted["quantity"]}
    ]
    pack.payload["short_reason"] = "last unit damaged"
    pack.payload["approval_request"] = REQUEST
    request = new_operation(
        "request_approval",
        {
            "request_id": REQUEST,
            "kind": "short_pack",
            "subject_op": pack.id,
            "return_id": None,
            "shipment_id": shipment["id"],
            "product_id": shorted["product_id"],
            "reason": "short pack: last unit damaged",
            "summary": f"shipped short: {shipment['number']}",
            "value": None,
            "rule_id": None,
            "evidence": [],
        },
        station="S1",
        user="U-PACK-1",
    )
    return shipment, request, dataclasses.replace(pack, depends_on=(request.id,))


def decide(decision: str, note: str | None = None) -> Operation:
    return new_operation(
        "decide_approval",
        {"request_id": REQUEST, "decision": decision, "note": note},
        station="S1",  # the supervisor decides at the station whose ERP user the test logs in as
        user="U-SUPV-1",
    )


def shipment_state(erp, shipment_id: int) -> str:
    (row,) = erp_read(erp, "stock.shipment.out", [("id", "=", shipment_id)], ["state"])
    return row["state"]


def packages(erp, shipment_id: int) -> list[dict[str, typing.Any]]:
    return erp_read(erp, "stock.package", [("shipment", "=", f"stock.shipment.out,{shipment_id}")], ["moves"])


def outgoing(erp, shipment_id: int) -> dict[int, float]:
    """Product id -> quantity the shipment sends the customer."""
    moves = erp_read(
        erp,
        "stock.move",
        [
            ("shipment", "=", f"stock.shipment.out,{shipment_id}"),
            ("to_location.type", "=", "customer"),
            ("state", "!=", "cancelled"),
        ],
        ["product", "quantity"],
    )
    return {m["product"]: m["quantity"] for m in moves if m["quantity"]}


def inventory_moves(erp, shipment_id: int) -> list[tuple[int, float, str]]:
    (row,) = erp_read(erp, "stock.shipment.out", [("id", "=", shipment_id)], ["inventory_moves"])
    moves = erp_read(
        erp, "stock.move", [("id", "in", row["inventory_moves"])], ["product", "quantity", "state"]
    )
    return sorted((m["product"], m["quantity"], m["state"]) for m in moves)


def approval(erp) -> dict[str, typing.Any]:
    (row,) = erp_read(
        erp, "returns.station.approval", [("request_id", "=", REQUEST)], ["state", "decided_by", "note"]
    )
    return row


def test_short_pack_is_held_until_approved_then_packed(seeded_store, connector, erp):
    shipment, request, pack = short_pack(seeded_store)
    planned = inventory_moves(erp, shipment["id"])
    connector.apply(request, seeded_store.photo_bytes)
    held = connector.apply(pack, seeded_store.photo_bytes)
    assert held.erp_refs["held_for_approval"] == REQUEST and held.erp_refs["state"] == "assigned"
    assert shipment_state(erp, shipment["id"]) == "assigned"
    assert inventory_moves(erp, shipment["id"]) == planned and packages(erp, shipment["id"]) == []
    (pulled,) = connector.pull({}).records["approvals"]
    assert (pulled["request_id"], pulled["state"]) == (REQUEST, "pending")

    # Lost responses: the request and the pack sent again change nothing.
    assert connector.apply(request, seeded_store.photo_bytes).already
    assert connector.apply(pack, seeded_store.photo_bytes).already
    assert shipment_state(erp, shipment["id"]) == "assigned" and packages(erp, shipment["id"]) == []

    approve = decide("approve", "customer agreed")
    result = connector.apply(approve, seeded_store.photo_bytes)
    assert result.erp_refs["state"] == "approved" and result.erp_refs["shipment_state"] == "packed"
    assert shipment_state(erp, shipment["id"]) == "packed"
    assert outgoing(erp, shipment["id"]) == {
        line["product_id"]: line["quantity"] for line in pack.payload["lines"]
    }
    assert len(packages(erp, shipment["id"])) == 1

    for op in (approve, pack, request):
        assert connector.apply(op, seeded_store.photo_bytes).already
    assert shipment_state(erp, shipment["id"]) == "packed" and len(packages(erp, shipment["id"])) == 1
    assert approval(erp)["state"] == "approved"


def test_refused_short_pack_leaves_the_shipment_assigned(seeded_store, connector, erp):
    shipment, request, pack = short_pack(seeded_store)
    planned = inventory_moves(erp, shipment["id"])
    connector.apply(request, seeded_store.photo_bytes)
    connector.apply(pack, seeded_store.photo_bytes)
    refuse = decide("refuse", "find the missing unit in stock")
    result = connector.apply(refuse, seeded_store.photo_bytes)
    assert result.erp_refs["state"] == "refused" and "shipment_state" not in result.erp_refs
    assert approval(erp) == {
        "id": approval(erp)["id"],
        "state": "refused",
        "decided_by": "U-SUPV-1",
        "note": "find the missing unit in stock",
    }
    assert shipment_state(erp, shipment["id"]) == "assigned"
    assert inventory_moves(erp, shipment["id"]) == planned and packages(erp, shipment["id"]) == []
    pulled = connector.pull({"approvals": "2000-01-01 00:00:00.000000"}).records["approvals"]
    assert [(a["request_id"], a["state"], a["note"]) for a in pulled] == [
        (REQUEST, "refused", "find the missing unit in stock")
    ]

    for op in (refuse, pack, request):
        assert connector.apply(op, seeded_store.photo_bytes).already
    assert shipment_state(erp, shipment["id"]) == "assigned" and packages(erp, shipment["id"]) == []
    with pytest.raises(ErpConflict, match="already refused"):
        connector.apply(decide("approve"), seeded_store.photo_bytes)
    assert shipment_state(erp, shipment["id"]) == "assigned"


def test_decision_before_the_pack_packs_at_once(seeded_store, connector, erp):
    shipment, request, pack = short_pack(seeded_store)
    connector.apply(request, seeded_store.photo_bytes)
    approve = decide("approve")
    assert "shipment_state" not in connector.apply(approve, seeded_store.photo_bytes).erp_refs
    assert shipment_state(erp, shipment["id"]) == "assigned"
    result = connector.apply(pack, seeded_store.photo_bytes)
    assert result.erp_refs["state"] == "packed" and "held_for_approval" not in result.erp_refs
    assert shipment_state(erp, shipment["id"]) == "packed"
    assert outgoing(erp, shipment["id"]) == {
        line["product_id"]: line["quantity"] for line in pack.payload["lines"]
    }
    for op in (pack, approve):
        assert connector.apply(op, seeded_store.photo_bytes).already
    assert len(packages(erp, shipment["id"])) == 1


def test_pack_arriving_after_a_refusal_is_a_conflict_and_not_packed(seeded_store, connector, erp):
    shipment, request, pack = short_pack(seeded_store)
    connector.apply(request, seeded_store.photo_bytes)
    connector.apply(decide("refuse", "no"), seeded_store.photo_bytes)
    with pytest.raises(ErpConflict, match="refused shipping"):
        connector.apply(pack, seeded_store.photo_bytes)
    assert shipment_state(erp, shipment["id"]) == "assigned" and packages(erp, shipment["id"]) == []
