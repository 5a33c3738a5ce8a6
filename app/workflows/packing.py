"""Pack verification: every unit scanned into an outgoing parcel is checked against the order.

:func:`check_unit` returns the line a unit goes on, or a :class:`Refusal` naming what the order
expected and what was scanned: wrong item, over-pack, wrong lot, expired, short-dated or recalled
lot, duplicate serial. A pack is confirmed only when complete, or short with a supervisor's approval."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.workflows.receiving import ScannedItem
from app.workflows.results import Refusal
from sync.reference import Lot, Product, Shipment


@dataclass(frozen=True)
class PackedLine:
    move_id: int
    product_id: int
    quantity: float
    lot_required: str | None
    items: tuple[ScannedItem, ...]

    @property
    def packed(self) -> int:
        return len(self.items)

    @property
    def short(self) -> float:
        return max(self.quantity - self.packed, 0)


def packed_lines(shipment: Shipment, items: Sequence[ScannedItem]) -> list[PackedLine]:
    """The shipment's lines with the units packed on each (each unit goes on the first open line
    of its product, a line asking for its lot first)."""
    buckets: dict[int, list[ScannedItem]] = {int(ln["move_id"]): [] for ln in shipment["lines"]}
    for item in items:
        line = _line_for(shipment, item, buckets)
        if line is not None:
            buckets[int(line["move_id"])].append(item)
    return [
        PackedLine(
            int(ln["move_id"]),
            int(ln["product_id"]),
            float(ln["quantity"]),
            ln.get("lot"),
            tuple(buckets[int(ln["move_id"])]),
        )
        for ln in shipment["lines"]
    ]


def _line_for(shipment: Shipment, item: ScannedItem, buckets: Mapping[int, list[ScannedItem]]):
    candidates = [
        ln
        for ln in shipment["lines"]
        if ln["product_id"] == item.product_id and len(buckets[int(ln["move_id"])]) < ln["quantity"]
    ]
    ident = item.serial or item.lot
    exact = [ln for ln in candidates if ln.get("lot") and ln.get("lot") == ident]
    free = [ln for ln in candidates if not ln.get("lot") or ln.get("lot") == ident]
    return (exact or free or [None])[0]


def check_unit(
    shipment: Shipment,
    packed: Sequence[ScannedItem],
    item: ScannedItem,
    *,
    product: Product | None,
    lot: Lot | None,
    today: date,
    min_days_to_expiry: int,
    name_of: Callable[[int], str],
) -> Refusal | None:
    """None when ``item`` may go into the parcel; else the refusal. ``lot`` is the cached lot
    record of the scanned lot, if any; the expiry comes from the scan's GS1 data, else from it."""
    number = shipment["number"]
    if product is None:
        return Refusal(
            "unknown_barcode",
            f"unknown barcode {item.barcode}: no product has it. Put the item aside and scan the next one.",
        )
    wanted = {int(ln["product_id"]) for ln in shipment["lines"]}
    if item.product_id not in wanted:
        names = ", ".join(sorted({name_of(pid) for pid in wanted}))
        return Refusal("wrong_item", f"wrong item: order {number} needs {names}; scanned {product['name']}")
    lines = [ln for ln in shipment["lines"] if ln["product_id"] == item.product_id]
    needed = sum(float(ln["quantity"]) for ln in lines)
    already = sum(1 for p in packed if p.product_id == item.product_id)
    if already >= needed:
        return Refusal(
            "over_pack",
            f"over-pack: order {number} needs {needed:g} × {product['name']}, {already} already packed",
        )
    if item.serial and any(p.serial == item.serial for p in packed):
        return Refusal("duplicate_serial", f"duplicate serial: {item.serial} is already in this parcel")
    if product.get("lot_tracked") and not item.lot:
        return Refusal(
            "lot_needed",
            f"{product['name']} is lot-tracked: scan the label that shows the lot "
            f"(GS1), scanned {item.barcode}",
        )
    if item.lot:
        required = {ln.get("lot") for ln in lines if ln.get("lot")}
        open_any = any(not ln.get("lot") for ln in lines)
        if required and item.lot not in required and not open_any:
            return Refusal(
                "wrong_lot", f"wrong lot: expected {', '.join(sorted(required))}, scanned {item.lot}"
            )
        if lot is not None and lot.get("recalled"):
            return Refusal("recalled_lot", f"recalled lot: {item.lot} of {product['name']} must not ship")
        expiry = item.expiry or (lot.get("expiration_date") if lot else None)
        if expiry:
            expires = date.fromisoformat(expiry)
            days = (expires - today).days
            if days < 0:
                return Refusal("expired_lot", f"expired lot: {item.lot} expired on {expires.isoformat()}")
            if days < min_days_to_expiry:
                return Refusal(
                    "short_dated_lot",
                    f"short-dated lot: {item.lot} expires on {expires.isoformat()}, "
                    f"in {days} days; orders need at least {min_days_to_expiry} days",
                )
    return None


def pack_payload(
    shipment: Shipment, lines: Sequence[PackedLine], *, short_reason: str | None, approval_request: str | None
) -> dict[str, Any]:
    """The ``confirm_pack`` payload (sync/operations.py)."""
    out_lines = []
    for line in lines:
        if not line.items:
            continue
        lots: dict[str, int] = {}
        for item in line.items:
            ident = item.serial or item.lot  # a serial-tracked unit's lot is its serial
            if ident:
                lots[ident] = lots.get(ident, 0) + 1
        out_lines.append(
            {
                "move_id": line.move_id,
                "product_id": line.product_id,
                "quantity": line.packed,
                "lots": [{"lot": k, "quantity": v} for k, v in lots.items()],
                "serials": [i.serial for i in line.items if i.serial],
            }
        )
    return {
        "shipment_id": shipment["id"],
        "shipment_number": shipment["number"],
        "lines": out_lines,
        "short": [
            {"move_id": ln.move_id, "product_id": ln.product_id, "quantity": ln.short}
            for ln in lines
            if ln.short > 0
        ],
        "short_reason": short_reason,
        "approval_request": approval_request,
    }
