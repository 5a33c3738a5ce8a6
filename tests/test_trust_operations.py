"""Forged and edited operations against the real ERP: it checks them itself, whatever the payload says.

Each test sends, as the station user, what a tampered station could send, and checks the answer
(``rejected`` / ``conflict`` with a reason a supervisor can read) and that the ERP holds nothing of it.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest

from sync.erp.protocol import ErpConflict, ErpRejected
from sync.operations import Operation, new_operation
from tests.sync_ops import erp_read, inspect, markers, pack_all, receive_all

pytestmark = pytest.mark.erp


def send(connector: typing.Any, store: typing.Any, *ops: Operation) -> list[typing.Any]:
    return connector.apply_batch(list(ops), store.photo_bytes)


def request(
    request_id: str, *, kind: str, user: str, shipment_id: int | None = None, **more: typing.Any
) -> Operation:
    payload = {
        "request_id": request_id,
        "kind": kind,
        "subject_op": None,
        "return_id": None,
        "shipment_id": shipment_id,
        "product_id": None,
        "reason": "test",
        "summary": "test",
        "value": None,
        "rule_id": None,
        "evidence": [],
        **more,
    }
    return new_operation("request_approval", payload, station="S1", user=user)


def decision(request_id: str, user: str | None, verdict: str = "approve") -> Operation:
    return new_operation(
        "decide_approval",
        {"request_id": request_id, "decision": verdict, "note": None},
        station="S1",
        user=user,
    )


def approval_state(erp: typing.Any, request_id: str) -> str:
    (row,) = erp_read(erp, "returns.station.approval", [("request_id", "=", request_id)], ["state"])
    return row["state"]


def two_line_shipments(store: typing.Any) -> list[dict[str, typing.Any]]:
    return [
        s
        for s in store.shipments("assigned")
        if len(s["lines"]) >= 2 and not any(line["lot"] for line in s["lines"])
    ]


def shipment_state(erp: typing.Any, shipment_id: int) -> str:
    (row,) = erp_read(erp, "stock.shipment.out", [("id", "=", shipment_id)], ["state"])
    return row["state"]


def short(op: Operation, request_id: str | None) -> Operation:
    """``op`` (a full pack) with its last line left out, citing ``request_id``."""
    payload = dict(op.payload)
    lines = list(payload["lines"])
    left = lines.pop()
    payload.update(
        lines=lines,
        short=[{"move_id": left["move_id"], "product_id": left["product_id"], "quantity": left["quantity"]}],
        short_reason="damaged",
        approval_request=request_id,
    )
    return dataclasses.replace(op, payload=payload)


# --- who may do what ---------------------------------------------------------------------------------


def test_a_supervisor_cannot_approve_their_own_request(seeded_store, connector, erp):
    shipment = two_line_shipments(seeded_store)[0]
    # a lead who packs and supervises: the one kind of person who could ask and decide
    erp.call(
        "model.returns.station.person.create",
        [{"badge": "U-BOTH-1", "name": "Pat Lead", "roles": ["packer", "supervisor"], "pin_hash": "x"}],
        {},
    )
    ask = request("req-self", kind="short_pack", user="U-BOTH-1", shipment_id=shipment["id"])
    (asked, own) = send(connector, seeded_store, ask, decision("req-self", "U-BOTH-1"))
    assert asked.already is False
    assert isinstance(
        own, ErpRejected
    ) and "U-BOTH-1 asked for this approval and cannot decide it too" in str(own)
    assert approval_state(erp, "req-self") == "pending"
    (by_another,) = send(connector, seeded_store, decision("req-self", "U-SUPV-1"))
    assert by_another.erp_refs["state"] == "approved"


def test_a_decision_by_someone_who_is_not_a_supervisor_is_rejected(seeded_store, connector, erp):
    shipment = two_line_shipments(seeded_store)[0]
    send(
        connector,
        seeded_store,
        request("req-1", kind="short_pack", user="U-PACK-1", shipment_id=shipment["id"]),
    )
    (result,) = send(connector, seeded_store, decision("req-1", "U-LEAD-1"))
    assert isinstance(result, ErpRejected)
    assert "U-LEAD-1 (Lee Chen) may not decide approvals" in str(result)
    assert approval_state(erp, "req-1") == "pending"


def test_a_decision_without_a_badge_is_rejected(seeded_store, connector, erp):
    shipment = two_line_shipments(seeded_store)[0]
    send(
        connector,
        seeded_store,
        request("req-1", kind="short_pack", user="U-PACK-1", shipment_id=shipment["id"]),
    )
    for nobody in (None, ""):
        (result,) = send(connector, seeded_store, decision("req-1", nobody))
        assert isinstance(result, ErpRejected) and "carries no badge" in str(result)
    assert approval_state(erp, "req-1") == "pending"


def test_operations_by_an_unknown_an_inactive_or_a_wrong_role_badge_are_rejected(
    seeded_store, connector, erp
):
    shipment = two_line_shipments(seeded_store)[0]
    ret = seeded_store.find_return("RMA-000101")
    results = send(
        connector,
        seeded_store,
        pack_all(shipment, user="U-NOBODY-9"),
        pack_all(shipment, user="U-GONE-1"),  # a packer who has left
        pack_all(shipment, user="U-RECV-1"),  # a receiver
        receive_all(ret, user="U-PACK-1"),  # a packer
    )
    assert [type(r).__name__ for r in results] == ["ErpRejected"] * 4
    assert "badge U-NOBODY-9 is not a person the ERP knows" in str(results[0])
    assert "U-GONE-1" in str(results[1]) and "no longer active" in str(results[1])
    assert "may not pack orders" in str(results[2])
    assert "may not receive returns" in str(results[3])
    assert shipment_state(erp, shipment["id"]) == "assigned"
    assert markers(erp) == []


def test_a_forged_operation_does_not_block_the_ones_behind_it(seeded_store, connector, erp):
    ret = seeded_store.find_return("RMA-000101")
    forged, honest = receive_all(ret, user="U-NOBODY-9"), receive_all(ret)
    first, second = send(connector, seeded_store, forged, honest)
    assert isinstance(first, ErpRejected)
    assert second.already is False
    assert [m["operation_id"] for m in markers(erp)] == [honest.id]


# --- short packs -------------------------------------------------------------------------------------


def test_a_short_pack_without_an_approval_is_rejected_and_nothing_is_packed(seeded_store, connector, erp):
    shipment = two_line_shipments(seeded_store)[0]
    undeclared = dataclasses.replace(pack_all(shipment), payload={**pack_all(shipment).payload})
    undeclared.payload["lines"] = undeclared.payload["lines"][:-1]  # short, and not even saying so
    declared = short(pack_all(shipment), None)
    for op in (undeclared, declared):
        (result,) = send(connector, seeded_store, op)
        assert isinstance(result, ErpRejected)
        assert f"shipment {shipment['number']} is packed short" in str(result)
    assert shipment_state(erp, shipment["id"]) == "assigned"


def test_a_short_pack_citing_another_shipments_approval_is_rejected(seeded_store, connector, erp):
    mine, other = two_line_shipments(seeded_store)[:2]
    send(
        connector,
        seeded_store,
        request("req-other", kind="short_pack", user="U-PACK-1", shipment_id=other["id"]),
        decision("req-other", "U-SUPV-1"),
    )
    assert approval_state(erp, "req-other") == "approved"
    (result,) = send(connector, seeded_store, short(pack_all(mine), "req-other"))
    assert isinstance(result, ErpRejected)
    assert f"is for {other['number']}, not shipment {mine['number']}" in str(result)
    assert shipment_state(erp, mine["id"]) == "assigned"


def test_a_short_pack_with_its_own_approval_is_packed(seeded_store, connector, erp):
    shipment = two_line_shipments(seeded_store)[0]
    ask = request("req-own", kind="short_pack", user="U-PACK-1", shipment_id=shipment["id"])
    pack = short(pack_all(shipment), "req-own")
    results = send(connector, seeded_store, ask, pack, decision("req-own", "U-SUPV-1"))
    assert results[1].erp_refs.get("held_for_approval") == "req-own"
    assert results[2].erp_refs["shipment_state"] == "packed"
    assert shipment_state(erp, shipment["id"]) == "packed"


# --- receiving and inspecting exactly what came --------------------------------------------------------


def test_a_quantity_beyond_what_was_expected_is_received_as_extra(seeded_store, connector, erp):
    ret = seeded_store.find_return("RMA-000101")
    op = receive_all(ret)
    line = next(li for li in op.payload["lines"] if not li["lots"])
    expected = line["expected"]
    line["received"] = expected + 3
    result = connector.apply(op, seeded_store.photo_bytes)
    (move,) = erp_read(erp, "stock.move", [("id", "=", line["move_id"])], ["quantity"])
    assert move["quantity"] == expected
    extras = erp_read(
        erp, "stock.move", [("id", "in", result.erp_refs["extra_moves"])], ["product", "quantity"]
    )
    assert [(m["product"], m["quantity"]) for m in extras] == [(line["product_id"], 3)]


def test_an_inspection_naming_a_serial_that_was_not_received_is_rejected(seeded_store, connector, erp):
    ret = seeded_store.find_return("RMA-000105")  # serial-numbered electronics, received as sold
    connector.apply(receive_all(ret), seeded_store.photo_bytes)
    line = ret["lines"][0]
    forged = inspect(ret, line)
    forged.payload["lot"] = "SN-NEVER-RECEIVED"
    (result,) = send(connector, seeded_store, forged)
    assert isinstance(result, ErpRejected)
    assert "with lot or serial SN-NEVER-RECEIVED" in str(result) and line["lot"] in str(result)
    assert not erp_read(erp, "quality.inspection", [("station_operation", "=", forged.id)], ["id"])
    (honest,) = send(connector, seeded_store, inspect(ret, line))
    assert honest.erp_refs["inspection_state"] == "passed"


# --- exactly once means the same operation -----------------------------------------------------------


def test_the_same_id_with_another_payload_is_a_conflict_naming_both(seeded_store, connector, erp):
    ret = seeded_store.find_return("RMA-000101")
    original = receive_all(ret)
    first = connector.apply(original, seeded_store.photo_bytes)
    assert first.already is False
    edited = dataclasses.replace(original, payload={**original.payload, "partial_reason": "edited later"})
    with pytest.raises(ErpConflict) as info:
        connector.apply(edited, seeded_store.photo_bytes)
    assert f"operation {original.id} was already applied with another payload" in str(info.value)
    assert str(info.value).count("…") == 2  # both fingerprints
    again = connector.apply(original, seeded_store.photo_bytes)
    assert again.already is True and again.erp_refs == first.erp_refs


def test_a_unit_of_an_expired_lot_is_never_restocked(seeded_store, connector, erp):
    spec = next(r for r in erp.demo.returns if r.rma == "RMA-000113")  # the box holds an expired lot
    (unit,) = spec.box
    ret = seeded_store.find_return("RMA-000113")
    received = receive_all(ret)
    (line,) = received.payload["lines"]
    line["lots"] = [{"lot": unit.lot, "quantity": line["received"]}]
    connector.apply(received, seeded_store.photo_bytes)
    restock = inspect(ret, {**ret["lines"][0], "lot": unit.lot}, disposition="restock")
    (result,) = send(connector, seeded_store, restock)
    assert isinstance(result, ErpRejected)
    assert f"lot {unit.lot}" in str(result) and "is never restocked" in str(result)
    quarantine = inspect(ret, {**ret["lines"][0], "lot": unit.lot}, disposition="quarantine")
    (held,) = send(connector, seeded_store, quarantine)
    assert not isinstance(held, ErpRejected)
    # applied, and held for a supervisor: the ERP's rules dispose of an expired health product
    assert held.erp_refs["inspection_state"] == "pending" and "Dispose" in held.erp_refs["held"]
