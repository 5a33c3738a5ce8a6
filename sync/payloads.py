"""What a supervisor may change when editing a queued operation (the outbox's Edit).

An edit corrects what a person scanned or typed (a quantity, a lot, a note), for the same
operation type and version: the fields of each payload are those sync/operations.py documents.
Fields the rules decide and the ERP checks (a disposition, a refund, whether an approval is needed,
which rule said so, an approval's decision) are not a supervisor's to edit at the outbox: a
different decision is an override, asked for and approved as such.
"""

from __future__ import annotations

from typing import Any

# (type, version) -> the payload's fields (sync/operations.py).
FIELDS: dict[tuple[str, int], frozenset[str]] = {
    ("receive_return", 1): frozenset(
        {"return_id", "return_number", "rma", "lines", "extra", "missing", "partial_reason"}
    ),
    ("upload_photo", 1): frozenset({"sha256", "mime", "return_id"}),
    ("inspect_item", 1): frozenset(
        {
            "return_id",
            "product_id",
            "quantity",
            "lot",
            "serial",
            "grade",
            "checklist",
            "photos",
            "disposition",
            "rule_id",
            "rules_version",
            "refund",
            "approval_required",
            "note",
        }
    ),
    ("request_approval", 1): frozenset(
        {
            "request_id",
            "kind",
            "subject_op",
            "return_id",
            "shipment_id",
            "product_id",
            "reason",
            "summary",
            "value",
            "rule_id",
            "evidence",
        }
    ),
    ("decide_approval", 1): frozenset({"request_id", "decision", "note"}),
    ("confirm_pack", 1): frozenset(
        {"shipment_id", "shipment_number", "lines", "short", "short_reason", "approval_request"}
    ),
}

# Fields the rules decide (and the ERP checks): never changed by an edit.
DECIDED: dict[str, frozenset[str]] = {
    "inspect_item": frozenset({"disposition", "refund", "approval_required", "rule_id", "rules_version"}),
    "request_approval": frozenset({"request_id", "kind", "subject_op", "value", "rule_id"}),
    "decide_approval": frozenset({"request_id", "decision"}),
    "confirm_pack": frozenset({"approval_request"}),
}


def edit_problems(op_type: str, version: int, before: dict[str, Any], after: Any) -> list[str]:
    """What is wrong with replacing payload ``before`` by ``after`` (empty: the edit may be sent)."""
    if not isinstance(after, dict):
        return ["the edited payload must be a JSON object"]
    fields = FIELDS.get((op_type, version))
    if fields is None:
        return [f"{op_type} version {version} cannot be edited at this station"]
    problems = []
    unknown = sorted(set(after) - fields - set(before))
    if unknown:
        problems.append(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not part of a {op_type}"
        )
    missing = sorted(set(before) - set(after))
    if missing:
        problems.append(f"{', '.join(missing)} cannot be removed")
    for name in sorted(DECIDED.get(op_type, frozenset())):
        if before.get(name) != after.get(name):
            problems.append(
                f"{name} is decided by the rules and checked by the ERP: it cannot be edited "
                "(ask for an override instead)"
            )
    for name in sorted(set(before) & set(after)):
        old, new = before[name], after[name]
        if old is not None and new is not None and _kind(old) != _kind(new):
            problems.append(f"{name} must stay {_kind(old)} (it was {old!r})")
    return problems


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
