"""Operations built from a seeded store's reference data, as the workflows would emit them
(payload shapes of sync/operations.py). Shared by the sync tests."""

from __future__ import annotations

from typing import Any

from sync.operations import Operation, new_operation


def receive_all(ret: dict[str, Any], *, station: str = "S1", user: str = "U-RECV-1", **kw: Any) -> Operation:
    """Everything expected arrived, lots as sold."""
    lines = [
        {
            "move_id": line["move_id"],
            "product_id": line["product_id"],
            "expected": line["quantity"],
            "received": line["quantity"],
            "lots": [{"lot": line["lot"], "quantity": line["quantity"]}] if line["lot"] else [],
            "serials": [],
        }
        for line in ret["lines"]
    ]
    payload = {
        "return_id": ret["id"],
        "return_number": ret["number"],
        "rma": ret["rma"],
        "lines": lines,
        "extra": [],
        "missing": [],
        "partial_reason": None,
    }
    return new_operation("receive_return", payload, station=station, user=user, **kw)


# The ERP decides every inspection again with its rules. ``inspect`` sends what these rules decide
# (one grade per disposition); a test that needs its inspections to stand publishes them first
# (``publish_test_rules``); under the packaged rules only a restock of grade A is honest.
GRADE_FOR = {"restock": "A", "return_to_vendor": "B", "refurbish": "C", "quarantine": "D", "dispose": "F"}
TEST_RULES = "\n".join(
    [
        'version = "test"',
        "[approval]",
        "write_off = false",
        *(
            f'[[rule]]\nid = "test-{disposition}"\nwhen = {{ grade = "{grade}" }}\n'
            f'disposition = "{disposition}"\nrefund = "full"'
            for disposition, grade in GRADE_FOR.items()
        ),
        '[[rule]]\nid = "test-other"\ndisposition = "quarantine"\nrefund = "full"',
    ]
)


def publish_test_rules(erp: Any) -> None:
    """Put :data:`TEST_RULES` in force in ``erp`` (as its administrator)."""
    erp.call("model.returns.station.rule_book.publish", TEST_RULES, {})


def inspect(
    ret: dict[str, Any],
    line: dict[str, Any],
    *,
    disposition: str = "restock",
    photos: list[str] = (),
    approval_required: bool = False,
    station: str = "S1",
    user: str = "U-INSP-1",
    **kw: Any,
) -> Operation:
    payload = {
        "return_id": ret["id"],
        "product_id": line["product_id"],
        "quantity": 1,
        "lot": line["lot"],
        "serial": None,
        "grade": GRADE_FOR[disposition],
        "checklist": {"Seal intact": True},
        "photos": list(photos),
        "disposition": disposition,
        "rule_id": f"test-{disposition}",
        "rules_version": "test",
        "refund": {"kind": "full", "restocking_fee_pct": None},
        "approval_required": approval_required,
        "note": None,
    }
    return new_operation("inspect_item", payload, station=station, user=user, **kw)


def request_disposition_approval(
    ret: dict[str, Any],
    item: Operation,
    request_id: str,
    *,
    summary: str = "restock a returned phone",
    evidence: list[str] | None = None,
    station: str = "S1",
    user: str = "U-INSP-1",
) -> Operation:
    """The inspector's request for a supervisor to approve ``item``'s disposition (a high-value
    unit, as the packaged rules ask for RMA-000105's phone)."""
    payload = {
        "request_id": request_id,
        "kind": "disposition",
        "subject_op": item.id,
        "return_id": ret["id"],
        "shipment_id": None,
        "product_id": ret["lines"][0]["product_id"],
        "reason": "unit value over threshold",
        "summary": summary,
        "value": 640.0,
        "rule_id": "electronics-high-value",
        "evidence": evidence or [],
    }
    return new_operation("request_approval", payload, station=station, user=user)


def pack_all(
    shipment: dict[str, Any], *, station: str = "S1", user: str = "U-PACK-1", **kw: Any
) -> Operation:
    lines = [
        {
            "move_id": line["move_id"],
            "product_id": line["product_id"],
            "quantity": line["quantity"],
            "lots": [{"lot": line["lot"], "quantity": line["quantity"]}] if line["lot"] else [],
            "serials": [],
        }
        for line in shipment["lines"]
    ]
    payload = {
        "shipment_id": shipment["id"],
        "shipment_number": shipment["number"],
        "lines": lines,
        "short": [],
        "short_reason": None,
        "approval_request": None,
    }
    return new_operation("confirm_pack", payload, station=station, user=user, **kw)


def erp_read(erp: Any, model: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
    """Records of ``model`` in the ERP, read as admin (for assertions)."""
    return erp.call(f"model.{model}.search_read", domain, 0, None, None, fields, {})


def markers(erp: Any) -> list[dict[str, Any]]:
    """The operations the ERP applied (one row per operation id)."""
    return erp_read(erp, "returns.station.operation", [], ["operation_id", "type"])
