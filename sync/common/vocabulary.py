"""The words both sides use: grades, dispositions and the inventory states they lead to, roles and
return reasons. Each is a mapping from the stored key to a label a person reads; the order is the
order screens and the ERP's selections show."""

from __future__ import annotations

GRADES: dict[str, str] = {
    "A": "like new",
    "B": "good",
    "C": "fair",
    "D": "damaged",
    "F": "unsaleable",
}

DISPOSITION_LABELS: dict[str, str] = {
    "restock": "Restock (sellable)",
    "refurbish": "Refurbish",
    "quarantine": "Quarantine",
    "return_to_vendor": "Return to vendor",
    "dispose": "Dispose (write off)",
}
DISPOSITIONS: tuple[str, ...] = tuple(DISPOSITION_LABELS)

# The inventory states a unit passes through; in the ERP each is a stock.location's
# ``inventory_state`` (sellable is the warehouse's storage location).
INVENTORY_STATES: dict[str, str] = {
    "in_transit": "In Transit",
    "received": "Received",
    "in_inspection": "In Inspection",
    # on the sort table: inspected, waiting in a tote for its disposition's location
    "sorting": "Sorting",
    "sellable": "Sellable",
    "refurbish": "Refurbish",
    "quarantine": "Quarantine",
    "vendor_return": "Vendor Return",
    "disposed": "Disposed",
}
# Where each disposition sends the unit.
DISPOSITION_STATES: dict[str, str] = {
    "restock": "sellable",
    "refurbish": "refurbish",
    "quarantine": "quarantine",
    "return_to_vendor": "vendor_return",
    "dispose": "disposed",
}

ROLES: dict[str, str] = {
    "receiver": "Receiver",
    "inspector": "Inspector",
    "packer": "Packer",
    "supervisor": "Supervisor",
}

RETURN_REASONS: dict[str, str] = {
    "defective": "Defective",
    "damaged in transit": "Damaged in transit",
    "wrong size": "Wrong size",
    "not as described": "Not as described",
    "wrong item sent": "Wrong item sent",
    "changed mind": "Changed mind",
    "arrived too late": "Arrived too late",
    # a parcel nobody announced: the station opened the return against the sale it found, or
    # received it blind (no sale found, or offline)
    "unannounced": "Unannounced",
}

REFUNDS: tuple[str, ...] = ("full", "partial", "none", "exchange")
