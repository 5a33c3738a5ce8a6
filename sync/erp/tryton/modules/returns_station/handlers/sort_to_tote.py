"""``sort_to_tote``: an inspected unit put into the open tote of its disposition on the sort table.

Payload: ``tote`` (the scanned label, e.g. "TOTE-REFURB-0003"), ``inspect_op`` (the id of the
``inspect_item``, sent ``to_sort``, that graded this unit; this operation depends on it),
``return_id``, ``product_id``, ``lot`` / ``serial`` and ``disposition`` (what the station showed).

The ERP checks, whatever the payload says: the label is a tote's; the unit is the one its
inspection moved to the sort location and is in no tote yet; the tote collects the disposition
the ERP recorded for that inspection; the tote is not closed. The first unit opens the tote (a
draft internal shipment from the sort location to the disposition's location, and its package);
each unit adds one move to it, packed in the tote.
"""

from trytond.pool import Pool

from sync.common.totes import disposition_words, read_tote, wrong_tote

from .. import lookups, tote
from ..exceptions import StationConflict, StationRefusal


def apply(op, photo):
    payload = op["payload"]
    pool = Pool()
    Move = pool.get("stock.move")
    label = str(payload.get("tote") or "")
    found = read_tote(label)
    if found is None:
        raise StationRefusal(
            f"{label or '(nothing)'} is not a tote label (TOTE-<disposition>-<number>): scan the tote's label"
        )
    refs = lookups.created_by(payload["inspect_op"])
    if not refs.get("move_id"):
        raise StationRefusal(f"inspection {payload['inspect_op']} moved no unit the ERP can sort")
    unit = Move(int(refs["move_id"]))
    name = unit.product.rec_name
    inspection = unit.station_inspection
    disposition = inspection.station_disposition if inspection else None
    if unit.station_disposition == "held":
        raise StationRefusal(f"{name} is held for a supervisor's approval: it is not sorted until decided")
    if unit.state == "cancelled" or unit.to_location.inventory_state != "sorting":
        raise StationConflict(
            f"{name} went straight to {unit.to_location.name} when it was inspected: it is not on "
            "the sort table"
        )
    already = Move.search([("station_sorted_from", "=", unit.id), ("state", "!=", "cancelled")], limit=1)
    if already:
        where = already[0].package.number if already[0].package else already[0].to_location.name
        raise StationConflict(f"{name} is already in tote {where}")
    if found.disposition != disposition:
        raise StationRefusal(wrong_tote(found, disposition))
    package = tote.open_tote(found.code)
    if package is None:
        closed = tote.closed_tote(found.code)
        if closed is not None:
            raise tote.refuse_closed(closed)
        shipment = lookups.return_(payload.get("return_id") or unit.shipment.id)
        destination = lookups.disposition_location(shipment, disposition)
        package = tote.new_tote(found.code, disposition, unit.company, unit.to_location, destination)
    elif package.shipment.from_location != unit.to_location:
        raise StationRefusal(
            f"{found.code} is open at {package.shipment.from_location.name}, not at "
            f"{unit.to_location.name} where {name} was sorted"
        )
    internal = package.shipment
    move = Move(
        product=unit.product,
        unit=unit.unit,
        quantity=unit.quantity,
        lot=unit.lot,
        from_location=internal.from_location,
        to_location=internal.to_location,
        company=unit.company,
        shipment=internal,
        planned_date=internal.planned_date,
        package=package,
        station_sorted_from=unit,
    )
    move.save()
    package = pool.get("stock.package")(package.id)
    return {
        "tote": found.code,
        "package_id": package.id,
        "shipment_id": internal.id,
        "move_id": move.id,
        "units": tote.units_in(package),
        "disposition": disposition,
        "location_id": internal.to_location.id,
        "location": disposition_words(disposition),
    }
