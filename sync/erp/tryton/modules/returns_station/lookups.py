"""Records the handlers look up by the ids and names a station sends (refused when unknown)."""

import contextvars
import json

from trytond.pool import Pool
from trytond.transaction import Transaction

from sync.common import vocabulary

from .exceptions import StationRefusal

# Where each disposition sends the unit: a stock.location's inventory_state (stock.py).
DISPOSITION_STATES = vocabulary.DISPOSITION_STATES


def product(product_id):
    Product = Pool().get("product.product")
    with Transaction().set_context(active_test=False):
        found = Product.search([("id", "=", int(product_id))], order=[])  # an id: no sort
    if not found:
        raise StationRefusal(f"unknown product (id {product_id}) in the ERP")
    return found[0]


def lot(product, number):
    """The product's lot ``number``, created when the ERP does not have it yet."""
    Lot = Pool().get("stock.lot")
    lots = Lot.search([("product", "=", product.id), ("number", "=", number)], limit=1)
    if lots:
        return lots[0]
    found = Lot(product=product, number=number)
    found.save()
    return found


def return_(return_id):
    Return = Pool().get("stock.shipment.out.return")
    found = Return.search([("id", "=", int(return_id))], order=[])
    if not found:
        raise StationRefusal(f"unknown return (id {return_id}) in the ERP")
    return found[0]


def location(state):
    """The first location standing for the inventory ``state``."""
    Location = Pool().get("stock.location")
    found = Location.search([("inventory_state", "=", state)], limit=1)
    if not found:
        raise StationRefusal(f"the ERP has no location for the inventory state {state!r}")
    return found[0]


def disposition_location(shipment, disposition):
    """Where ``disposition`` sends a unit of the return ``shipment``."""
    state = DISPOSITION_STATES.get(disposition)
    if state is None:
        raise StationRefusal(f"unknown disposition {disposition!r}")
    if state == "sellable":
        return shipment.warehouse_storage
    return location(state)


def attach(resource, digest, data):
    """The attachment ``digest`` of ``resource``, created once."""
    Attachment = Pool().get("ir.attachment")
    found = Attachment.search([("resource", "=", resource), ("name", "=", digest)], limit=1)
    if found:
        return found[0]
    attachment = Attachment(resource=resource, name=digest, type="data", data=data)
    attachment.save()
    return attachment


def photo_data(digest):
    """The bytes of a photo an ``upload_photo`` brought (refused until it has)."""
    Attachment = Pool().get("ir.attachment")
    found = Attachment.search([("name", "=", digest)], limit=1)
    if not found:
        raise StationRefusal(f"photo {digest[:12]}… has not reached the ERP (upload it first)")
    return found[0].data


# What the operations applied so far in this apply_batch made (id -> refs): their markers are
# written at the end of the batch, so a later operation of the same batch finds them here.
BATCH_REFS = contextvars.ContextVar("station_batch_refs", default=None)


def created_by(op_id):
    """The refs of the operation ``op_id`` (applied earlier in this batch or before)."""
    batch = BATCH_REFS.get() or {}
    if op_id in batch:
        return batch[op_id]
    Marker = Pool().get("returns.station.operation")
    found = Marker.search([("operation_id", "=", op_id)], limit=1)
    if not found:
        raise StationRefusal(f"operation {op_id} that this one builds on has not reached the ERP")
    return json.loads(found[0].result or "{}")


def opened_return(payload):
    """A ``receive_return`` payload with ``return_id`` and each line's ``move_id`` filled in when
    the return was opened by another operation (``return_op``: an ``open_return``) whose ids the
    station could not know; other payloads as they are."""
    if payload.get("return_id") is not None or not payload.get("return_op"):
        return payload
    refs = created_by(payload["return_op"])
    moves = refs.get("moves") or {}
    lines = []
    for line in payload.get("lines") or []:
        move_id = line.get("move_id") or moves.get(str(line.get("sold_move_id")))
        if move_id is None:
            raise StationRefusal(f"line {line} is not a line of the return {refs.get('number')}")
        lines.append({**line, "move_id": move_id})
    return {**payload, "return_id": refs["return_id"], "lines": lines}
