"""Records the handlers look up by the ids and names a station sends (refused when unknown)."""

from trytond.pool import Pool
from trytond.transaction import Transaction

from sync.common import vocabulary

from .exceptions import StationRefusal

# Where each disposition sends the unit: a stock.location's inventory_state (stock.py).
DISPOSITION_STATES = vocabulary.DISPOSITION_STATES


def product(product_id):
    Product = Pool().get("product.product")
    with Transaction().set_context(active_test=False):
        found = Product.search([("id", "=", int(product_id))])
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
    found = Return.search([("id", "=", int(return_id))])
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
