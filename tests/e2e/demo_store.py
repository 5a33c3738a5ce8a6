"""The demo's reference data (sync.erp.tryton.demo.plan) written straight into a station store,
with made-up ERP ids: the screens can be driven in the browser without starting Tryton. The
end-to-end tests against the real ERP (test_roles_erp.py) pull the same plan through the connector."""

from __future__ import annotations

from typing import Any

from sync.common.pins import hash_pin
from sync.erp.tryton.demo import DemoPlan, pin_salt, plan

STAMP = "2026-11-01T00:00:00"


def reference_records(demo: DemoPlan) -> dict[str, list[dict[str, Any]]]:
    product_ids = {p.code: i + 1 for i, p in enumerate(demo.products)}
    products = [
        {
            "id": product_ids[p.code],
            "code": p.code,
            "name": p.name,
            "family": p.family,
            "category": p.category,
            "barcodes": [p.barcode],
            "unit_value": float(p.cost_price or p.list_price),
            "lot_tracked": p.tracking == "lot",
            "serial_tracked": p.tracking == "serial",
            "write_date": STAMP,
        }
        for p in demo.products
    ]
    lots = [
        {
            "id": i + 1,
            "number": lot.number,
            "product_id": product_ids[lot.product],
            "expiration_date": lot.expiration_date.isoformat() if lot.expiration_date else None,
            "recalled": False,
            "write_date": STAMP,
        }
        for i, lot in enumerate(demo.lots)
    ]
    move = 1000
    returns = []
    for i, spec in enumerate(demo.returns):
        lines = []
        for line in spec.lines:
            move += 1
            lines.append(
                {
                    "move_id": move,
                    "product_id": product_ids[line.product],
                    "quantity": float(line.quantity),
                    "lot": line.lot,
                }
            )
        returns.append(
            {
                "id": i + 1,
                "number": spec.number,
                "rma": spec.rma,
                "tracking": spec.tracking,
                "order": spec.order,
                "customer": spec.customer,
                "reason": spec.reason,
                "state": "draft",
                "lines": lines,
                "write_date": STAMP,
            }
        )
    shipments = []
    for i, order in enumerate(demo.orders):
        lines = []
        for line in order.lines:
            move += 1
            lines.append(
                {
                    "move_id": move,
                    "product_id": product_ids[line.product],
                    "quantity": float(line.quantity),
                    "lot": line.lot,
                }
            )
        shipments.append(
            {
                "id": i + 1,
                "number": order.shipment,
                "order": order.order,
                "customer": order.customer,
                "state": "assigned",
                "service_class": order.service_class,
                "due_at": order.due_at.strftime("%Y-%m-%dT%H:%M:%SZ") if order.due_at else None,
                "lines": lines,
                "write_date": STAMP,
            }
        )
    people = [
        {
            "badge": p.badge,
            "name": p.name,
            "roles": list(p.roles),
            "active": p.active,
            "write_date": STAMP,
        }
        for p in demo.people
    ]
    locations = [
        {"id": i + 1, "code": code, "name": name, "state": state, "write_date": STAMP}
        for i, (code, name, state) in enumerate(
            [
                ("IN", "Input", "received"),
                ("STO", "Storage", "sellable"),
                ("QUAR", "Quarantine", "quarantine"),
                ("REFURB", "Refurbishment", "refurbish"),
                ("RTV", "Return to Vendor", "vendor_return"),
                ("SCRAP", "Scrap", "disposed"),
            ]
        )
    ]
    return {
        "products": products,
        "lots": lots,
        "returns": returns,
        "shipments": shipments,
        "people": people,
        "locations": locations,
    }


def fill(store: Any, demo: DemoPlan | None = None) -> DemoPlan:
    demo = demo or plan()
    for kind, records in reference_records(demo).items():
        store.upsert_reference(kind, records)
    # The pull carries no PIN hash: as if each person had signed in here while the ERP was reachable.
    for p in demo.people:
        store.save_verifier(p.badge, hash_pin(p.pin, salt=pin_salt(p.badge)), "2999-01-01T00:00:00Z")
    return demo


def barcode(demo: DemoPlan, code: str) -> str:
    return demo.product(code).barcode


def return_spec(demo: DemoPlan, rma: str):
    return next(r for r in demo.returns if r.rma == rma)
