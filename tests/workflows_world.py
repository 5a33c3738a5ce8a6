"""The demo dataset (sync/erp/tryton/demo.py's plan) as reference records in a real station store,
for workflow tests that need realistic data without starting the ERP. Ids are assigned here in
plan order; the ERP-backed tests use the real ones pulled through the connector."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.workflows.pins import hash_pin
from sync.erp.tryton.demo import pin_salt, plan
from sync.store import Store

WRITE_DATE = "2026-11-01T00:00:00.000Z"


@dataclass
class World:
    today: dt.date
    product_ids: dict[str, int] = field(default_factory=dict)  # code -> id
    barcodes: dict[str, str] = field(default_factory=dict)  # code -> barcode
    return_ids: dict[str, int] = field(default_factory=dict)  # rma -> id
    shipment_ids: dict[str, int] = field(default_factory=dict)  # order reference -> id
    shipment_numbers: dict[str, str] = field(default_factory=dict)  # order reference -> number
    lots: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # product code -> lots

    def barcode(self, code: str) -> str:
        return self.barcodes[code]

    def gs1(
        self, code: str, *, lot: str | None = None, expiry: dt.date | None = None, serial: str | None = None
    ) -> str:
        """The text a scanner types for a GS1 DataMatrix of this product (AIM ]d2, GS separators)."""
        text = "]d201" + self.barcodes[code].zfill(14)
        if expiry is not None:
            text += "17" + expiry.strftime("%y%m%d")
        if lot is not None:
            text += "10" + lot + "\x1d"
        if serial is not None:
            text += "21" + serial + "\x1d"
        return text.rstrip("\x1d")


def seed_demo(store: Store, today: dt.date | None = None) -> World:
    demo = plan(today=today or dt.date.today())
    world = World(today=demo.today)
    products = []
    for number, spec in enumerate(demo.products, start=1):
        world.product_ids[spec.code] = number
        world.barcodes[spec.code] = spec.barcode
        products.append(
            {
                "id": number,
                "code": spec.code,
                "name": spec.name,
                "family": spec.family,
                "category": spec.category,
                "barcodes": [spec.barcode],
                "unit_value": float(spec.cost_price),
                "lot_tracked": spec.tracking == "lot",
                "serial_tracked": spec.tracking == "serial",
                "write_date": WRITE_DATE,
            }
        )
    lots = []
    for number, spec in enumerate(demo.lots, start=1):
        record = {
            "id": number,
            "number": spec.number,
            "product_id": world.product_ids[spec.product],
            "expiration_date": spec.expiration_date.isoformat() if spec.expiration_date else None,
            "recalled": False,
            "write_date": WRITE_DATE,
        }
        lots.append(record)
        world.lots.setdefault(spec.product, []).append(record)
    returns = []
    move = 1000
    for number, spec in enumerate(demo.returns, start=1):
        lines = []
        for line in spec.lines:
            move += 1
            lines.append(
                {
                    "move_id": move,
                    "product_id": world.product_ids[line.product],
                    "quantity": line.quantity,
                    "lot": line.lot,
                }
            )
        world.return_ids[spec.rma] = number
        returns.append(
            {
                "id": number,
                "number": f"CR{number:05d}",
                "rma": spec.rma,
                "tracking": spec.tracking,
                "order": spec.order,
                "customer": spec.customer,
                "reason": spec.reason,
                "state": "draft",
                "lines": lines,
                "write_date": WRITE_DATE,
            }
        )
    shipments = []
    for number, spec in enumerate(demo.orders, start=1):
        lines = []
        for line in spec.lines:
            move += 1
            lines.append(
                {
                    "move_id": move,
                    "product_id": world.product_ids[line.product],
                    "quantity": line.quantity,
                    "lot": line.lot,
                }
            )
        world.shipment_ids[spec.reference] = number
        world.shipment_numbers[spec.reference] = f"CS{number:05d}"
        shipments.append(
            {
                "id": number,
                "number": f"CS{number:05d}",
                "order": spec.reference,
                "customer": spec.customer,
                "state": "assigned",
                "lines": lines,
                "write_date": WRITE_DATE,
            }
        )
    people = [
        {
            "badge": p.badge,
            "name": p.name,
            "roles": list(p.roles),
            "pin_hash": hash_pin(p.pin, salt=pin_salt(p.badge)),
            "active": p.active,
            "write_date": WRITE_DATE,
        }
        for p in demo.people
    ]
    store.upsert_reference("products", products)
    store.upsert_reference("lots", lots)
    store.upsert_reference("returns", returns)
    store.upsert_reference("shipments", shipments)
    store.upsert_reference("people", people)
    return world
