"""The pack algorithm: a shipment picked and packed as a station scanned it.

Used by ``confirm_pack`` and by ``decide_approval`` (an approved short pack is packed then).
"""

from trytond.pool import Pool

from . import lookups
from .exceptions import StationConflict, StationRefusal

PACKAGE_TYPE = "Returns Station box"


def package_type(name=PACKAGE_TYPE):
    """The package type called ``name`` (a packed box, or a tote), created the first time."""
    Type = Pool().get("stock.package.type")
    found = Type.search([("name", "=", name)], limit=1)
    if found:
        return found[0]
    created = Type(name=name)
    created.save()
    return created


def shipment_to_pack(payload):
    """The shipment of a ``confirm_pack``, refused or in conflict unless it is ready to pack."""
    Shipment = Pool().get("stock.shipment.out")
    found = Shipment.search([("id", "=", int(payload["shipment_id"]))], order=[])
    if not found:
        raise StationRefusal(f"unknown shipment (id {payload['shipment_id']}) in the ERP")
    shipment = found[0]
    if shipment.state in ("done", "cancelled", "shipped"):
        raise StationRefusal(f"shipment {shipment.number} is closed ({shipment.state}) in the ERP")
    if shipment.state == "packed":
        raise StationConflict(f"shipment {shipment.number} is already packed in the ERP")
    if shipment.state not in ("assigned", "picked"):
        raise StationConflict(
            f"shipment {shipment.number} is {shipment.state} in the ERP, no longer ready to pack"
        )
    return shipment


def pack(payload):
    """Pick and pack the shipment as scanned (the moves of short lines are cut to what was packed)."""
    pool = Pool()
    Shipment = pool.get("stock.shipment.out")
    Move = pool.get("stock.move")
    Package = pool.get("stock.package")
    shipment = shipment_to_pack(payload)
    if shipment.state == "assigned":
        moves = {m.id: m for m in shipment.inventory_moves}
        lines = {int(line["move_id"]): line for line in payload.get("lines") or []}
        shorts = {int(s["move_id"]): float(s["quantity"]) for s in payload.get("short") or []}
        for move_id in set(lines) | set(shorts):
            if move_id not in moves:
                raise StationRefusal(f"line {move_id} is not on shipment {shipment.number}")
        changes = {}  # move id -> (quantity packed, lots scanned): what differs from the plan
        for move_id, move in moves.items():
            line = lines.get(move_id)
            packed = float(line["quantity"]) if line else 0.0
            if line and int(line["product_id"]) != move.product.id:
                raise StationRefusal(f"line {move_id} of shipment {shipment.number} is not that product")
            if packed > move.quantity:
                raise StationRefusal(
                    f"{packed:g} packed but shipment {shipment.number} asks {move.quantity:g}"
                    f" on line {move_id}"
                )
            lots = [lot for lot in (line or {}).get("lots") or [] if float(lot.get("quantity", 0)) > 0]
            for serial in (line or {}).get("serials") or []:
                lots.append({"lot": serial, "quantity": 1})
            same_lot = not lots or (len(lots) == 1 and move.lot and move.lot.number == lots[0]["lot"])
            if packed == move.quantity and same_lot:
                continue  # packed as planned: the assigned move stays as it is
            changes[move_id] = (packed, lots)
        if changes:
            # An assigned move cannot change: back to draft first, then adjust the fresh records.
            Move.draft(Move.browse(sorted(changes)))
            to_save = []
            for move in Move.browse(sorted(changes)):
                packed, lots = changes[move.id]
                move.quantity = packed
                if lots:
                    move.lot = lookups.lot(move.product, lots[0]["lot"])
                    move.quantity = min(packed, float(lots[0]["quantity"]))
                    rest = packed - move.quantity
                    for lot in lots[1:]:
                        quantity = min(float(lot["quantity"]), rest)
                        if quantity <= 0:
                            break
                        rest -= quantity
                        Move.copy(
                            [move],
                            default={"quantity": quantity, "lot": lookups.lot(move.product, lot["lot"]).id},
                        )
                to_save.append(move)
            Move.save(to_save)
            shipment = Shipment(shipment.id)
        Shipment.pick([shipment])
    shipment = Shipment(shipment.id)
    outgoing = [m for m in shipment.outgoing_moves if m.state != "cancelled" and m.quantity]
    package = Package(company=shipment.company, type=package_type(), shipment=shipment, moves=outgoing)
    package.save()
    Shipment.pack([shipment])
    shipment = Shipment(shipment.id)
    return {"shipment_id": shipment.id, "state": shipment.state, "package_id": package.id}
