"""Service levels of outgoing orders: the sale's service class and due time, carried by its shipment.

A sale (``sale.sale``) says how urgent its order is: ``station_service_class`` (premium,
marketplace, wholesale, standard) and ``station_due_at`` (when it must leave the warehouse, UTC).
The outgoing shipment the sale creates gets both (``stock.shipment.out.service_class`` /
``due_at``, figures_data.py), so a station pulls them with the shipment and the figures read them
in SQL; a later change on the sale is written to its shipments not yet packed.
"""

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .figures_data import SERVICE_CLASSES

# Shipments whose service level still matters: not yet packed.
OPEN_STATES = ("draft", "waiting", "assigned", "picked")


class Sale(metaclass=PoolMeta):
    __name__ = "sale.sale"

    station_service_class = fields.Selection(
        SERVICE_CLASSES, "Service Class", help="How urgent this order is at the packing stations."
    )
    station_due_at = fields.DateTime("Due At", help="When this order must leave the warehouse (UTC).")

    @staticmethod
    def default_station_service_class():
        return "standard"

    def _get_shipment_sale(self, Shipment, key):
        shipment = super()._get_shipment_sale(Shipment, key)
        if Shipment.__name__ == "stock.shipment.out":
            shipment.service_class = self.station_service_class or "standard"
            shipment.due_at = self.station_due_at
        return shipment

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        changed = []
        for sales, values in zip(actions, actions, strict=True):
            if {"station_service_class", "station_due_at"} & set(values):
                changed.extend(sales)
        if changed:
            _carry_to_shipments(changed)


def _carry_to_shipments(sales) -> None:
    """Write each sale's service class and due time on its outgoing shipments not yet packed."""
    Shipment = Pool().get("stock.shipment.out")
    with Transaction().set_context(_check_access=False):
        for sale in sales:
            open_ = [s for s in sale.shipments if s.state in OPEN_STATES]
            if open_:
                values = {"service_class": sale.station_service_class or "standard"}
                Shipment.write(open_, {**values, "due_at": sale.station_due_at})
