"""``blind_receipt``: a parcel the station could not match to a sale (none found, or the ERP was
out of reach): the scanned units are received into quarantine on a customer return from an
"unknown sender", flagged for a supervisor to identify (``station_review`` on the return).

Payload: ``rma`` (the label the station gave it, e.g. "BLIND-3F2A9C01"), ``parcel_code`` (what was
scanned on the parcel, or null), ``why`` ("no sale found" | "offline" | the receiver's words),
``items`` (``barcode``, ``product_id`` or null, ``quantity``, ``lot`` / ``serial``). Units of
unknown barcodes cannot become stock: they are listed in the review note.
"""

import datetime as dt
from decimal import Decimal

from trytond.pool import Pool

from .. import lookups
from ..exceptions import StationRefusal

UNKNOWN_SENDER = "Unknown sender (blind receipts)"


def unknown_sender():
    Party = Pool().get("party.party")
    found = Party.search([("name", "=", UNKNOWN_SENDER)], limit=1)
    if found:
        return found[0]
    party = Party(name=UNKNOWN_SENDER)
    party.save()
    return party


def apply(op, photo):
    payload = op["payload"]
    pool = Pool()
    Return = pool.get("stock.shipment.out.return")
    Move = pool.get("stock.move")
    Warehouse = pool.get("stock.location")
    items = payload.get("items") or []
    if not items:
        raise StationRefusal("a blind receipt needs at least one scanned item")
    warehouse = Warehouse.search([("type", "=", "warehouse")], limit=1)[0]
    Company = pool.get("company.company")
    company = Company.search([], limit=1)[0]
    unknown = [i["barcode"] for i in items if not i.get("product_id")]
    why = payload.get("why") or "no sale found"
    parcel = payload.get("parcel_code") or "without a readable code"
    review = (
        f"Blind receipt at station {op.get('station')} by {op.get('user')} ({why}): parcel {parcel}. "
        "Identify the sender and the sale."
    )
    if unknown:
        review += f" Unknown barcodes put aside: {', '.join(unknown)}."
    shipment = Return(
        company=company,
        customer=unknown_sender(),
        warehouse=warehouse,
        warehouse_input=warehouse.input_location,
        warehouse_storage=warehouse.storage_location,
        reference=payload.get("rma"),
        tracking_number=payload.get("parcel_code"),
        return_reason="unannounced",
        planned_date=dt.date.today(),
        station_review=review,
    )
    shipment.save()
    moves = []
    for item in items:
        if not item.get("product_id"):
            continue
        product = lookups.product(item["product_id"])
        move = Move(
            product=product,
            unit=product.default_uom,
            quantity=float(item.get("quantity", 1)),
            from_location=shipment.customer_location,
            to_location=shipment.warehouse_input,
            unit_price=Decimal(0),
            currency=company.currency,
            company=company,
            shipment=shipment,
            planned_date=shipment.planned_date,
        )
        if item.get("lot") or item.get("serial"):
            move.lot = lookups.lot(product, item.get("lot") or item.get("serial"))
        moves.append(move)
    Move.save(moves)
    if not moves:
        return {
            "return_id": shipment.id,
            "number": shipment.number,
            "state": shipment.state,
            "location_id": None,
        }
    Return.receive([shipment])
    shipment = Return(shipment.id)
    quarantine = lookups.location("quarantine")
    stored = [m for m in shipment.inventory_moves if m.state not in ("done", "cancelled")]
    for move in stored:
        move.to_location = quarantine
        move.station_disposition = "held"
    Move.save(stored)
    Move.do(stored)
    return {
        "return_id": shipment.id,
        "number": shipment.number,
        "state": Return(shipment.id).state,
        "location_id": quarantine.id,
    }
