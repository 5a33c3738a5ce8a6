"""``request_approval``: a station asks a supervisor to approve something (a ``pending``
``returns.station.approval``, pulled by every station).

Payload: ``request_id``, ``kind`` (approval.KINDS), ``subject_op`` (the operation it gates),
``reason``, ``summary``, ``value``, ``rule_id``, ``return_id`` / ``shipment_id`` / ``product_id``,
``evidence`` (photo hashes).
"""

from trytond.pool import Pool

from ..exceptions import StationConflict
from ..rules_check import reason_with_erp_check


def apply(op, photo):
    payload = op["payload"]
    Approval = Pool().get("returns.station.approval")
    found = Approval.search([("request_id", "=", payload["request_id"])], limit=1)
    if found:
        raise StationConflict(f"approval request {payload['request_id']} already exists in the ERP")
    approval = Approval(
        request_id=payload["request_id"],
        kind=payload["kind"],
        state="pending",
        subject_op=payload.get("subject_op"),
        requested_by=op.get("user") or "?",
        requested_at=op.get("created_at"),
        station=op.get("station"),
        # The ERP's own words lead when it found the inspection differs from its rules.
        reason=reason_with_erp_check(payload.get("subject_op"), payload.get("reason")),
        summary=payload.get("summary"),
        value=payload.get("value"),
        rule_id=payload.get("rule_id"),
        return_shipment=payload.get("return_id"),
        shipment=payload.get("shipment_id"),
        product=payload.get("product_id"),
        evidence="\n".join(payload.get("evidence") or []),
    )
    approval.save()
    return {"approval_id": approval.id}
