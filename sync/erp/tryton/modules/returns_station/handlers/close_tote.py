"""``close_tote``: a full tote closed on the sort table and moved as a whole to its disposition's
location.

Payload: ``tote`` (the label), ``units`` (how many the station put in it; informative).
ERP effect: the tote's internal shipment (sort location -> the disposition's location) is done:
every unit in it reaches that location at once, and Tryton calls its package closed. A tote
another station already closed is a conflict; a label that never held a unit is refused.
"""

from trytond.pool import Pool

from sync.common.totes import read_tote

from .. import tote
from ..exceptions import StationConflict, StationRefusal


def apply(op, photo):
    payload = op["payload"]
    Shipment = Pool().get("stock.shipment.internal")
    label = str(payload.get("tote") or "")
    found = read_tote(label)
    if found is None:
        raise StationRefusal(f"{label or '(nothing)'} is not a tote label: scan the tote's label to close it")
    package = tote.open_tote(found.code)
    if package is None:
        closed = tote.closed_tote(found.code)
        if closed is not None:
            raise StationConflict(str(tote.refuse_closed(closed).message))
        raise StationRefusal(f"{found.code} holds nothing in the ERP: there is nothing to close")
    shipment = package.shipment
    units = tote.units_in(package)
    if shipment.state == "draft":
        Shipment.wait([shipment])
    if shipment.state != "assigned":
        # The units may not be in the sort location yet in Tryton (their return is done when its
        # last unit is inspected): the tote's move does not wait for that.
        Shipment.assign_force([shipment])
    Shipment.do([shipment])
    shipment = Shipment(shipment.id)
    return {
        "tote": found.code,
        "package_id": package.id,
        "shipment_id": shipment.id,
        "number": shipment.number,
        "state": shipment.state,
        "units": units,
        "location_id": shipment.to_location.id,
    }
