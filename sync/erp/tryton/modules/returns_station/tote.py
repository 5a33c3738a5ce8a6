"""Sort to tote in the ERP: the sort location, totes as ``stock.package`` on an internal shipment.

A warehouse that sorts has a storage location with ``inventory_state = "sorting"`` under its
storage zone (the demo's "SORT", the sort table). An inspection sent ``to_sort`` moves the unit
there (input -> SORT, done with its return) instead of to its disposition's location. Putting the
unit into a tote (``sort_to_tote``) adds a move SORT -> the disposition's location to the tote's
internal shipment, packed in the tote: a ``stock.package`` whose number is the tote's label
(sync.common.totes) and whose shipment is that internal shipment, still draft while the tote is
open. Closing the tote (``close_tote``) does the internal shipment: every unit in it reaches the
disposition's location at once, and Tryton calls the package closed (its shipment is done).
"""

from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from sync.common.totes import disposition_words

from .exceptions import StationRefusal
from .packing import package_type

TOTE_TYPE = "Returns Station tote"


class Move(metaclass=PoolMeta):
    __name__ = "stock.move"

    station_sorted_from = fields.Many2One(
        "stock.move",
        "Sorted From",
        readonly=True,
        ondelete="RESTRICT",
        help="The return's move of the inspected unit this tote move carries on.",
    )


class Package(metaclass=PoolMeta):
    __name__ = "stock.package"

    station_disposition = fields.Char(
        "Station Disposition", readonly=True, help="The disposition a Returns Station tote collects."
    )


def sort_location(warehouse):
    """The warehouse's sort location (inventory state "sorting"), or None when it does not sort."""
    Location = Pool().get("stock.location")
    if warehouse is None:
        return None
    found = Location.search(
        [("inventory_state", "=", "sorting"), ("parent", "child_of", [warehouse.id])], limit=1
    )
    return found[0] if found else None


def packages(code):
    """Every package with the tote's label, newest first."""
    Package = Pool().get("stock.package")
    return Package.search([("number", "=", code)], order=[("id", "DESC")])


def open_tote(code):
    """The open package of the tote ``code`` (its internal shipment still draft), else None."""
    for package in packages(code):
        if package.shipment and package.shipment.state in ("draft", "waiting", "assigned"):
            return package
    return None


def closed_tote(code):
    """The package of the tote ``code`` that was closed and moved, else None."""
    for package in packages(code):
        if package.shipment and package.shipment.state == "done":
            return package
    return None


def refuse_closed(package):
    shipment = package.shipment
    when = shipment.effective_date.isoformat() if shipment.effective_date else "already"
    return StationRefusal(
        f"{package.number} is closed: it was moved to {shipment.to_location.name} on {when}. "
        "Take an empty tote with a new label"
    )


def new_tote(code, disposition, company, from_location, to_location):
    """An open tote: a draft internal shipment from the sort location and its package."""
    pool = Pool()
    Shipment = pool.get("stock.shipment.internal")
    Package = pool.get("stock.package")
    Date = pool.get("ir.date")
    shipment = Shipment(
        company=company,
        from_location=from_location,
        to_location=to_location,
        planned_date=Date.today(),
        planned_start_date=Date.today(),
        reference=f"{code} ({disposition_words(disposition)})",
    )
    shipment.save()
    package = Package(
        number=code,
        company=company,
        type=package_type(TOTE_TYPE),
        shipment=shipment,
        station_disposition=disposition,
    )
    package.save()
    return package


def units_in(package):
    return sum(m.quantity for m in package.moves if m.state != "cancelled")
