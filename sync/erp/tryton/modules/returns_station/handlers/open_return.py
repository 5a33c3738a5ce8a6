"""``open_return``: a parcel nobody announced, matched at a station to the sale it came from; the
ERP opens a customer return for it (reason "unannounced"), in draft, ready to be received.

Payload: ``sale_id``, ``sale_number``, ``rma`` (the label the station gave it, e.g.
"UA-3F2A9C01"), ``parcel_code`` (what was scanned on the parcel, or null), ``lines``
(``sold_move_id``: the delivered move, ``product_id``, ``quantity``). The receipt that follows
names this operation's id (``return_op``) instead of a return id (lookups.opened_return).
Conflict when a line's units are already returned (returns not cancelled take them back).
"""

import datetime as dt

from trytond.pool import Pool

from ..exceptions import StationConflict, StationRefusal
from ..sale_search import delivered_moves, returned_quantity


def apply(op, photo):
    payload = op["payload"]
    pool = Pool()
    Sale = pool.get("sale.sale")
    Return = pool.get("stock.shipment.out.return")
    found = Sale.search([("id", "=", int(payload["sale_id"]))])
    if not found:
        raise StationRefusal(f"unknown sale {payload.get('sale_number') or payload['sale_id']} in the ERP")
    sale = found[0]
    delivered = {m.id: m for m in delivered_moves(sale)}
    wanted = []
    for line in payload.get("lines") or []:
        move = delivered.get(int(line["sold_move_id"]))
        if move is None:
            raise StationRefusal(f"line {line['sold_move_id']} is not a delivered line of sale {sale.number}")
        if int(line["product_id"]) != move.product.id:
            raise StationRefusal(f"line {line['sold_move_id']} of sale {sale.number} is not that product")
        quantity = float(line["quantity"])
        returned = returned_quantity(move)
        if quantity > move.quantity - returned:
            raise StationConflict(
                f"{move.product.rec_name} of sale {sale.number} is already returned "
                f"({returned:g} of {move.quantity:g} taken back by other returns)"
            )
        wanted.append((move, quantity))
    if not wanted:
        raise StationRefusal("an unannounced return needs at least one line of the sale")
    warehouse = sale.warehouse
    address = sale.shipment_address or (sale.party.addresses[0] if sale.party.addresses else None)
    shipment = Return(
        company=sale.company,
        customer=sale.party,
        contact_address=address,
        warehouse=warehouse,
        warehouse_input=warehouse.input_location,
        warehouse_storage=warehouse.storage_location,
        reference=payload.get("rma"),
        tracking_number=payload.get("parcel_code"),
        return_reason="unannounced",
        returned_sale=sale,
        planned_date=dt.date.today(),
    )
    shipment.save()
    Move = pool.get("stock.move")
    moves = []
    for sold, quantity in wanted:
        moves.append(
            Move(
                product=sold.product,
                unit=sold.unit,
                quantity=quantity,
                lot=sold.lot,
                from_location=shipment.customer_location,
                to_location=shipment.warehouse_input,
                unit_price=sold.unit_price,
                currency=sold.currency,
                company=shipment.company,
                shipment=shipment,
                origin=sold,
                planned_date=shipment.planned_date,
            )
        )
    Move.save(moves)
    return {
        "return_id": shipment.id,
        "number": shipment.number,
        "rma": shipment.reference,
        "moves": {str(sold.id): move.id for (sold, _), move in zip(wanted, moves, strict=True)},
    }
