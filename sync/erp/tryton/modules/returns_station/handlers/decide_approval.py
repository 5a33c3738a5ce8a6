"""``decide_approval``: a supervisor approves or refuses a pending request (approval.py's workflow).

Payload: ``request_id``, ``decision`` (``approve`` / ``refuse``), ``note``. What waited on the
request follows in the same transaction: a held short pack is packed when approved; the held
inspection of ``subject_op`` passes (approve) or fails with its unit sent to quarantine (refuse).
"""

import json

from trytond.pool import Pool

from .. import lookups
from ..exceptions import StationConflict, StationRefusal
from ..packing import pack
from .inspect_item import finish_return


def apply(op, photo):
    payload = op["payload"]
    pool = Pool()
    Inspection = pool.get("quality.inspection")
    Move = pool.get("stock.move")
    Alert = pool.get("quality.alert")
    Approval = pool.get("returns.station.approval")
    found = Approval.search([("request_id", "=", payload["request_id"])], limit=1)
    if not found:
        raise StationRefusal(f"approval request {payload['request_id']} is unknown to the ERP")
    approval = found[0]
    decider = op.get("user")
    if approval.state != "pending":
        raise StationConflict(
            f"approval request {approval.request_id} was already {approval.state} by {approval.decided_by}"
        )
    if decider and decider == approval.requested_by:
        raise StationRefusal(f"{decider} asked for this approval and cannot decide it too")
    decision = payload["decision"]
    if decision not in ("approve", "refuse"):
        raise StationRefusal(f"unknown decision {decision!r}: approve or refuse")
    approval.decided_by = decider
    approval.decided_at = op.get("created_at")
    approval.note = payload.get("note")
    approval.save()
    if decision == "approve":
        Approval.approve([approval])
    else:
        Approval.refuse([approval])
    approval = Approval(approval.id)
    refs = {"approval_id": approval.id, "state": approval.state}
    if approval.held_pack:
        # A short pack waits on this decision: approve packs it now, in this same transaction
        # (a pack the ERP refuses refuses the decision too); refuse leaves the shipment as it was.
        held = json.loads(approval.held_pack)
        refs["shipment_id"] = int(held["shipment_id"])
        if decision == "approve":
            packed = pack(held)
            refs["shipment_state"] = packed["state"]
            refs["package_id"] = packed["package_id"]
    inspections = (
        Inspection.search([("station_operation", "=", approval.subject_op)]) if approval.subject_op else []
    )
    for inspection in inspections:
        moves = Move.search([("station_inspection", "=", inspection.id)])
        shipment = inspection.origin
        if decision == "approve":
            if inspection.state == "pending":
                Inspection.pass_([inspection])
        else:
            if inspection.state != "failed":
                Inspection.fail([inspection])
            settle(Alert, Inspection(inspection.id), approval)
            quarantine = lookups.location("quarantine")
            for move in moves:
                move.to_location = quarantine
        for move in moves:
            move.station_disposition = "disposed"
        Move.save(moves)
        refs["inspection_id"] = inspection.id
        if shipment is not None and shipment.__name__ == "stock.shipment.out.return":
            refs["return_state"] = finish_return(shipment)
    return refs


def settle(Alert, inspection, approval):
    """Resolve the open alerts of a refused inspection: the refusal decided them (quarantine)."""
    alerts = [a for a in inspection.alerts if a.state in ("open", "processing", "deferred")]
    if not alerts:
        return
    said = f"refused by {approval.decided_by or '?'}: unit to quarantine"
    if approval.note:
        said += f" ({approval.note})"
    for alert in alerts:
        alert.description = "\n".join(filter(None, [alert.description, said]))
    Alert.save(alerts)
    Alert.process([a for a in alerts if a.state in ("open", "deferred")])
    Alert.resolve(alerts)
