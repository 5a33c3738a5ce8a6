"""Receiving: reconcile what is in a return's box against what the return expects.

:func:`reconcile` is pure and total: every scanned item ends up either on one expected line
(``matched``) or in the extras with its reason (``quantity_over``, ``wrong_item``, ``wrong_lot``,
``unknown_barcode``) — none is lost and none is invented; whatever an expected line did not get is
``missing``. The result becomes one ``receive_return`` operation (sync/operations.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sync.reference import Product, ReturnLine

ItemOutcome = Literal["matched", "quantity_over", "wrong_item", "wrong_lot", "unknown_barcode"]
LineOutcome = Literal["matched", "partial", "missing"]

EXTRA_REASONS: dict[str, str] = {  # item outcome -> the payload's ``reason`` (sync/operations.py)
    "quantity_over": "extra item",
    "wrong_item": "wrong item",
    "wrong_lot": "wrong lot",
    "unknown_barcode": "unknown barcode",
}


@dataclass(frozen=True)
class ScannedItem:
    """One unit scanned out of the box. ``seq`` is unique within a receipt (its scan order)."""

    seq: int
    barcode: str
    product_id: int | None
    lot: str | None = None
    serial: str | None = None
    expiry: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "barcode": self.barcode,
            "product_id": self.product_id,
            "lot": self.lot,
            "serial": self.serial,
            "expiry": self.expiry,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScannedItem:
        return cls(
            int(data["seq"]),
            str(data["barcode"]),
            data.get("product_id"),
            data.get("lot"),
            data.get("serial"),
            data.get("expiry"),
        )


@dataclass
class LineResult:
    move_id: int
    product_id: int
    expected: float
    lot_expected: str | None
    received: int = 0
    items: list[ScannedItem] = field(default_factory=list)

    @property
    def outcome(self) -> LineOutcome:
        if self.received >= self.expected:
            return "matched"
        return "partial" if self.received else "missing"

    @property
    def missing(self) -> float:
        return max(self.expected - self.received, 0)


@dataclass(frozen=True)
class ExtraItem:
    item: ScannedItem
    outcome: ItemOutcome
    expected: str | None = None  # for wrong_lot: the lot or serial the return expected


@dataclass(frozen=True)
class Reconciliation:
    lines: tuple[LineResult, ...]
    extras: tuple[ExtraItem, ...]
    outcomes: Mapping[int, ItemOutcome]  # seq -> outcome, one per scanned item

    @property
    def complete(self) -> bool:
        """Every expected unit is in the box (extras do not make a receipt partial)."""
        return all(line.outcome == "matched" for line in self.lines)

    @property
    def missing(self) -> list[LineResult]:
        return [line for line in self.lines if line.missing > 0]

    def payload_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.lines:
            lots: dict[str, int] = {}
            serials: list[str] = []
            for item in line.items:
                if item.serial:
                    serials.append(item.serial)
                    lots[item.serial] = lots.get(item.serial, 0) + 1
                elif item.lot:
                    lots[item.lot] = lots.get(item.lot, 0) + 1
            out.append(
                {
                    "move_id": line.move_id,
                    "product_id": line.product_id,
                    "lot_expected": line.lot_expected,
                    "expected": line.expected,
                    "received": line.received,
                    "lots": [{"lot": k, "quantity": v} for k, v in lots.items()],
                    "serials": serials,
                }
            )
        return out

    def payload_extra(self) -> list[dict[str, Any]]:
        return [
            {
                "barcode": extra.item.barcode,
                "product_id": extra.item.product_id,
                "quantity": 1,
                "lot": extra.item.lot,
                "serial": extra.item.serial,
                "reason": EXTRA_REASONS[extra.outcome],
            }
            for extra in self.extras
        ]

    def payload_missing(self) -> list[dict[str, Any]]:
        return [
            {"move_id": line.move_id, "product_id": line.product_id, "quantity": line.missing}
            for line in self.missing
        ]


def _identifier(item: ScannedItem, product: Product | None) -> str | None:
    """The lot (or, for a serial-tracked product, the serial) that tells this unit apart."""
    if product is not None and product.get("serial_tracked"):
        return item.serial or item.lot
    return item.lot


def reconcile(
    lines: Sequence[ReturnLine], items: Sequence[ScannedItem], products: Mapping[int, Product]
) -> Reconciliation:
    """Assign each scanned item to an expected line or to the extras (see the module docstring).

    An item whose lot/serial is unknown (a plain barcode) fits a line of its product whatever the
    line's lot; an item with a lot fits only a line with that lot or with none. Lines with the exact
    lot are filled first, so a plain scan does not take the place a lot-labelled unit needs."""
    results = [
        LineResult(int(ln["move_id"]), int(ln["product_id"]), float(ln["quantity"]), ln.get("lot"))
        for ln in lines
    ]
    extras: list[ExtraItem] = []
    outcomes: dict[int, ItemOutcome] = {}
    for item in items:
        if item.product_id is None:
            extras.append(ExtraItem(item, "unknown_barcode"))
            outcomes[item.seq] = "unknown_barcode"
            continue
        same_product = [r for r in results if r.product_id == item.product_id]
        if not same_product:
            extras.append(ExtraItem(item, "wrong_item"))
            outcomes[item.seq] = "wrong_item"
            continue
        ident = _identifier(item, products.get(item.product_id))
        open_lines = [r for r in same_product if r.received < r.expected]
        exact = [r for r in open_lines if ident is not None and r.lot_expected == ident]
        fitting = exact or [r for r in open_lines if ident is None or r.lot_expected in (None, ident)]
        if fitting:
            target = fitting[0]
            target.received += 1
            target.items.append(item)
            outcomes[item.seq] = "matched"
            continue
        lot_known = ident is not None and any(r.lot_expected == ident for r in same_product)
        if open_lines and not lot_known:
            expected = next((r.lot_expected for r in open_lines if r.lot_expected), None)
            extras.append(ExtraItem(item, "wrong_lot", expected))
            outcomes[item.seq] = "wrong_lot"
        else:
            extras.append(ExtraItem(item, "quantity_over"))
            outcomes[item.seq] = "quantity_over"
    return Reconciliation(tuple(results), tuple(extras), outcomes)
