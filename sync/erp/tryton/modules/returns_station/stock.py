"""Locations that stand for inventory states, what a customer return carries, and the station's
marks on a return's moves."""

from trytond.model import fields
from trytond.pool import PoolMeta

from sync.common import vocabulary

# The station's words (sync.common.vocabulary), as Tryton selections (None: not set).
INVENTORY_STATES = [(None, ""), *vocabulary.INVENTORY_STATES.items()]
RETURN_REASONS = [(None, ""), *vocabulary.RETURN_REASONS.items()]


class Location(metaclass=PoolMeta):
    __name__ = "stock.location"

    inventory_state = fields.Selection(
        INVENTORY_STATES,
        "Inventory State",
        help="The Returns Station inventory state this location stands for.",
    )


class Lot(metaclass=PoolMeta):
    __name__ = "stock.lot"

    recalled = fields.Boolean("Recalled", help="The supplier recalled this lot: hold every unit of it.")


class ShipmentOut(metaclass=PoolMeta):
    __name__ = "stock.shipment.out"

    station_order = fields.Function(fields.Char("Order"), "get_station_sale")
    station_reference = fields.Function(
        fields.Char("Customer Reference", help="The customer's order reference (WEB-…), on the pick list."),
        "get_station_sale",
    )

    def get_station_sale(self, name):
        """The sale number (``station_order``) or the customer's reference (``station_reference``)
        of the sale this shipment's outgoing moves come from."""
        for move in self.outgoing_moves:
            origin = move.origin
            if origin is not None and origin.__name__ == "sale.line":
                return origin.sale.number if name == "station_order" else origin.sale.reference
        return None


class ShipmentOutReturn(metaclass=PoolMeta):
    __name__ = "stock.shipment.out.return"

    return_reason = fields.Selection(RETURN_REASONS, "Return Reason")
    tracking_number = fields.Char("Carrier Tracking Number")
    returned_sale = fields.Many2One("sale.sale", "Returned Sale", ondelete="SET NULL")
    station_review = fields.Text(
        "Supervisor Review",
        readonly=True,
        help="Set by a station for a supervisor to look at (a blind receipt: who sent it?).",
    )


class Move(metaclass=PoolMeta):
    __name__ = "stock.move"

    station_disposition = fields.Selection(
        [(None, ""), ("held", "Held for approval"), ("disposed", "Disposed")],
        "Station Disposition",
        readonly=True,
        help="Set when a station inspected this unit of a return.",
    )
    station_inspection = fields.Many2One(
        "quality.inspection", "Station Inspection", readonly=True, ondelete="SET NULL"
    )
