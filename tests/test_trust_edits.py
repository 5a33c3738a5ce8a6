"""The supervisor's outbox Edit: it corrects what was scanned, never what the rules decided, and the
ERP learns who edited and checks that they are a supervisor."""

from __future__ import annotations

import dataclasses

import pytest

from sync import outbox
from sync.erp.protocol import ErpRejected
from sync.operations import new_operation
from sync.outbox import OutboxError
from sync.payloads import edit_problems
from tests.sync_ops import erp_read, receive_all


def failed_inspection(store):
    payload = {
        "return_id": 12,
        "product_id": 7,
        "quantity": 1,
        "lot": "L1",
        "serial": None,
        "grade": "C",
        "checklist": {},
        "photos": [],
        "disposition": "quarantine",
        "rule_id": "health-expired",
        "rules_version": "1",
        "refund": {"kind": "none", "restocking_fee_pct": None},
        "approval_required": False,
        "note": None,
    }
    op = new_operation("inspect_item", payload, station="S1", user="U-INSP-1")
    store.enqueue(op)
    outbox.claim(store)
    outbox.fail(store, op.id, "unknown product (id 7) in the ERP")
    return op


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"disposition": "restock"}, "disposition is decided by the rules"),
        ({"refund": {"kind": "full", "restocking_fee_pct": None}}, "refund is decided by the rules"),
        ({"approval_required": True}, "approval_required is decided by the rules"),
        ({"inspected_by": "U-SUPV-1"}, "inspected_by is not part of a inspect_item"),
        ({"quantity": "lots"}, "quantity must stay a number"),
    ],
)
def test_an_edit_of_what_the_rules_decided_or_of_the_payloads_shape_is_refused(store, change, words):
    op = failed_inspection(store)
    with pytest.raises(OutboxError, match=words):
        outbox.edit(store, op.id, {**op.payload, **change}, who="U-SUPV-1", station="S1")
    row = store.operation(op.id)
    assert row["state"] == "failed" and row["operation"]["payload"] == op.payload


def test_a_removed_field_is_refused_and_a_correction_is_sent_with_its_editor(store):
    op = failed_inspection(store)
    without_lot = {k: v for k, v in op.payload.items() if k != "lot"}
    assert edit_problems(op.type, op.version, op.payload, without_lot) == ["lot cannot be removed"]
    outbox.edit(store, op.id, {**op.payload, "product_id": 8}, who="U-SUPV-1", station="S1")
    sent = store.operation(op.id)["operation"]
    assert sent["payload"]["product_id"] == 8 and sent["edited_by"] == "U-SUPV-1"
    assert sent["user"] == "U-INSP-1"  # still the inspector's inspection


@pytest.mark.erp
def test_the_erp_refuses_an_edit_by_someone_who_is_not_a_supervisor(seeded_store, connector, erp):
    ret = seeded_store.find_return("RMA-000101")
    forged = dataclasses.replace(receive_all(ret), edited_by="U-RECV-1")
    with pytest.raises(ErpRejected, match="U-RECV-1 .* may not edit operations"):
        connector.apply(forged, seeded_store.photo_bytes)
    honest = dataclasses.replace(receive_all(ret), edited_by="U-SUPV-1")
    assert connector.apply(honest, seeded_store.photo_bytes).already is False
    (marker,) = erp_read(erp, "returns.station.operation", [], ["operation_id", "edited_by", "user_badge"])
    assert marker == {
        "id": marker["id"],
        "operation_id": honest.id,
        "edited_by": "U-SUPV-1",
        "user_badge": "U-RECV-1",
    }
