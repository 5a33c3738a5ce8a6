"""Reference data: what a station pulls from the ERP and keeps in its cache to work offline.

These shapes are the contract between the connector (which produces them from the ERP's records),
the store (which caches them) and the workflows (which read them). Dates are ISO strings
(``YYYY-MM-DD``); ``write_date`` is the ERP's last change time, used as the pull cursor.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

Family = Literal["apparel", "footwear", "accessories", "electronics", "health"]
Role = Literal["receiver", "inspector", "packer", "supervisor"]
InventoryState = Literal[
    "in_transit",
    "received",
    "in_inspection",
    "sellable",
    "refurbish",
    "quarantine",
    "vendor_return",
    "disposed",
]

REFERENCE_KINDS = ("products", "lots", "returns", "shipments", "locations", "people", "approvals", "rules")


class Product(TypedDict):
    id: int  # ERP product.product id
    code: str  # SKU, e.g. "APP-TEE-M-BLK"
    name: str
    family: Family
    category: str
    barcodes: list[str]  # as stored in the ERP (EAN-13, UPC-A, EAN-8); match via GTIN-14 normalisation
    unit_value: float  # what one unit is worth (cost or list price), in the company currency
    lot_tracked: bool  # health & wellness: lot + expiry
    serial_tracked: bool  # electronics: one lot per unit, its number is the serial
    write_date: str


class Lot(TypedDict):
    id: int
    number: str
    product_id: int
    expiration_date: str | None
    recalled: bool
    write_date: str


class LotQuantity(TypedDict):
    lot: str
    quantity: float


class ReturnLine(TypedDict):
    move_id: int  # the return's incoming stock.move
    product_id: int
    quantity: float
    lot: str | None  # lot sold (health) or serial sold (electronics)


class Return(TypedDict):
    id: int  # stock.shipment.out.return id
    number: str  # Tryton's shipment number
    rma: str  # RMA number printed on the label (the shipment's ``reference``)
    tracking: str | None  # carrier tracking number of the parcel coming back
    order: str | None  # the sale it returns (sale number), if any
    customer: str
    reason: str  # the customer's return reason, e.g. "defective", "wrong size", "changed mind"
    state: Literal["draft", "received", "done", "cancelled"]
    lines: list[ReturnLine]
    write_date: str
    review: NotRequired[str | None]  # what a supervisor must look at (a blind receipt: who sent it?)
    # When its stages began, UTC "YYYY-MM-DDTHH:MM:SSZ" (None: not known; older pulls lack them):
    created_at: NotRequired[str | None]  # the return was created in the ERP (a blind receipt: received)
    received_at: NotRequired[str | None]  # a station received it (station clock)


class ShipmentLine(TypedDict):
    move_id: int  # the outgoing (inventory) stock.move to pick
    product_id: int
    quantity: float
    lot: str | None  # a lot required by the order, if any


class Shipment(TypedDict):
    id: int  # stock.shipment.out id
    number: str
    order: str | None  # the sale number printed on the pick list
    reference: NotRequired[str | None]  # the customer's order reference (e.g. "WEB-1106"), also printed
    customer: str
    state: Literal["waiting", "assigned", "picked", "packed", "shipped", "done", "cancelled"]
    service_class: NotRequired[str]  # premium | marketplace | wholesale | standard (the sale's)
    due_at: NotRequired[str | None]  # when the order must leave, UTC "YYYY-MM-DDTHH:MM:SSZ"
    created_at: NotRequired[str | None]  # the shipment was created, UTC (waiting to be packed since)
    lines: list[ShipmentLine]
    write_date: str


class Location(TypedDict):
    id: int
    code: str
    name: str
    state: InventoryState | None  # the inventory state this location stands for, if any
    write_date: str


class Person(TypedDict):
    badge: str  # what the badge's barcode holds, e.g. "U-RECV-1"
    name: str
    roles: list[Role]
    # No PIN hash: a station checks PINs in the ERP, or offline with the verifier the ERP gave it
    # when that person signed in there (Store.verifier). pin_version changes with each new PIN.
    pin_version: NotRequired[int]
    active: bool
    write_date: str


class Approval(TypedDict):
    request_id: str
    kind: str
    state: Literal["pending", "approved", "refused"]
    requested_by: str
    requested_at: str
    station: str
    reason: str
    summary: str
    value: float | None
    rule_id: str | None
    return_id: int | None
    shipment_id: int | None
    product_id: int | None
    evidence: list[str]  # photo hashes
    decided_by: NotRequired[str | None]
    note: NotRequired[str | None]
    write_date: str


class Rules(TypedDict):
    """The disposition rules in force, as published in the ERP (the pull sends the current one)."""

    version: str
    text: str  # the rules file (TOML), parsed by sync.common.rules
    sha256: str
    published_by: str | None
    published_at: str | None
    write_date: str
