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
    """Pack now; a short pack waits on its approval (held on the request) until it is approved."""
    payload = op["payload"]
    request_id = payload.get("approval_request")
    if not request_id:
        return pack(payload)
    Approval = Pool().get("returns.station.approval")
    found = Approval.search([("request_id", "=", request_id)], limit=1)
    if not found:
        raise StationRefusal(f"approval request {request_id} is unknown to the ERP")
    approval = found[0]
    if approval.state == "approved":
        return pack(payload)  # the decision reached the ERP first
    if approval.state == "refused":
        raise StationConflict(
            f"{approval.decided_by} refused shipping {payload.get('shipment_number') or 'this order'}"
            f" short ({approval.note or 'no note'}): it was not packed"
        )
    if approval.held_pack:
        raise StationConflict(f"approval request {request_id} already holds another pack")
    shipment = shipment_to_pack(payload)
    approval.held_pack = json.dumps(payload, sort_keys=True)
    approval.save()
    return {"shipment_id": shipment.id, "state": shipment.state, "held_for_approval": request_id}
