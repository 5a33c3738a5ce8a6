"""``confirm_pack``: an order packed at a station is picked and packed in the ERP.

Payload: ``shipment_id``, ``shipment_number``, ``lines`` (``move_id``, ``product_id``,
``quantity``, ``lots`` / ``serials``), ``short`` (lines packed short), ``approval_request`` (a
short pack waits, held on that request, until it is approved; see decide_approval).
"""

import json

from trytond.pool import Pool

from ..exceptions import StationConflict, StationRefusal
from ..packing import pack, shipment_to_pack


def apply(op, photo):
    """Pack now; a short pack waits on its approval (held on the request) until it is approved.

    Short is what the ERP sees, whatever ``short`` says: a line packed below what the shipment
    asks. A short pack without a ``short_pack`` request for this same shipment is refused."""
    payload = op["payload"]
    request_id = payload.get("approval_request")
    shipment = shipment_to_pack(payload)
    packed_short = bool(payload.get("short")) or bool(short_lines(shipment, payload))
    if not request_id:
        if packed_short:
            raise StationRefusal(
                f"shipment {shipment.number} is packed short: that needs a supervisor's approval "
                "(a short_pack request), and this pack names none"
            )
        return pack(payload)
    Approval = Pool().get("returns.station.approval")
    found = Approval.search([("request_id", "=", request_id)], limit=1)
    if not found:
        raise StationRefusal(f"approval request {request_id} is unknown to the ERP")
    approval = found[0]
    if approval.kind != "short_pack":
        raise StationRefusal(
            f"approval request {request_id} is a {approval.kind} request, not a short pack's"
        )
    if approval.shipment is None or approval.shipment.id != shipment.id:
        other = approval.shipment.number if approval.shipment else "no shipment"
        raise StationRefusal(
            f"approval request {request_id} is for {other}, not shipment {shipment.number}: "
            "a short pack needs its own approval"
        )
    if approval.state == "approved":
        return pack(payload)  # the decision reached the ERP first
    if approval.state == "refused":
        raise StationConflict(
            f"{approval.decided_by} refused shipping {payload.get('shipment_number') or 'this order'}"
            f" short ({approval.note or 'no note'}): it was not packed"
        )
    if approval.held_pack:
        raise StationConflict(f"approval request {request_id} already holds another pack")
    approval.held_pack = json.dumps(payload, sort_keys=True)
    approval.save()
    return {"shipment_id": shipment.id, "state": shipment.state, "held_for_approval": request_id}


def short_lines(shipment, payload):
    """The shipment's moves ``payload`` packs below what they ask: {move id: (packed, asked)}."""
    packed = {}
    for line in payload.get("lines") or []:
        move_id = int(line["move_id"])
        packed[move_id] = packed.get(move_id, 0.0) + float(line.get("quantity", 0))
    return {
        move.id: (packed.get(move.id, 0.0), move.quantity)
        for move in shipment.inventory_moves
        if move.state != "cancelled" and packed.get(move.id, 0.0) < move.quantity
    }
