"""What every task shares: the Desk it works at, the Task interface, and reading a scanned
product."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from app.workflows.receiving import ScannedItem
from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.scanning import ScannedCode
from app.workflows.views import (
    TaskView,
)
from sync.common.families import Answer
from sync.common.rules import RuleBook
from sync.operations import Operation
from sync.progress import RECEIVED
from sync.reference import Person, Product


class Desk(Protocol):
    """What a task may use: the store, the rules, the clock, and who works where."""

    store: Any
    rules: RuleBook
    station_id: str
    person: Person

    def now(self) -> datetime: ...

    def today(self) -> date: ...

    def operation(
        self, type: str, payload: dict[str, Any], depends_on: list[str] | tuple[str, ...] = ()
    ) -> Operation: ...

    def queue(self, ops: list[Operation], what: str) -> None: ...

    def progress(self, kind: str, subject: str | int | None = None) -> list[dict[str, Any]]: ...

    def request(self, method: str, *args: Any) -> Any: ...


def product_name(desk: Desk, product_id: int | None) -> str:
    product = desk.store.product(product_id) if product_id is not None else None
    return product["name"] if product else f"product {product_id}"


def lookup_product(desk: Desk, code: ScannedCode) -> Product | None:
    for candidate in (code.gtin, code.data, code.text):
        if candidate:
            product = desk.store.product_by_barcode(candidate)
            if product is not None:
                return product
    return None


def receipt_queued_here(desk: Desk, return_id: int) -> Receipt | None:
    """The receipt this station confirmed for the return, if any (from its progress record)."""
    rows = desk.progress(RECEIVED, return_id)
    if not rows:
        return None
    op_id = rows[0]["op_id"]
    return Receipt(op_id, [row for row in rows if row["op_id"] == op_id and row["line"]])


class Receipt:
    """A receipt confirmed here: its operation id and what it received, per line."""

    def __init__(self, op_id: str, lines: list[dict[str, Any]]) -> None:
        self.op_id = op_id
        self.lines = lines

    def received(self) -> dict[int, float]:
        counts: dict[int, float] = {}
        for row in self.lines:
            pid = row["data"]["product_id"]
            counts[pid] = counts.get(pid, 0) + float(row["quantity"])
        return counts

    def lot_expected(self, product_id: int) -> str | None:
        return next(
            (
                row["data"]["lot_expected"]
                for row in self.lines
                if row["line"].startswith("move:")
                and row["data"]["product_id"] == product_id
                and row["data"].get("lot_expected")
            ),
            None,
        )


def unreadable(code: ScannedCode) -> Refusal | None:
    """A refusal for a label whose data could not be read (a damaged GS1 code): scan it again rather
    than record a misread as an unknown item."""
    if code.problem:
        return Refusal("unreadable", f"{code.problem}: scan it again (scanned {code.text})")
    return None


def item_from(seq: int, code: ScannedCode, product: Product | None) -> ScannedItem:
    serial = code.serial
    lot = code.lot
    if product is not None and product.get("serial_tracked") and serial is None and lot is not None:
        serial, lot = lot, None  # a serial-tracked unit's lot number is its serial
    return ScannedItem(
        seq,
        code.data or code.text,
        product["id"] if product else None,
        lot,
        serial,
        code.expiry.isoformat() if code.expiry else None,
    )


class Task:
    kind = "task"

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    # --- persistence -----------------------------------------------------------------------
    def to_draft(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Load state saved by :meth:`to_draft`."""

    def has_progress(self) -> bool:
        """True when cancelling would throw away something the worker did."""
        return False

    def subject(self) -> str | None:
        return None

    # --- actions (each returns Accepted or Refusal) ----------------------------------------
    def scan(self, code: ScannedCode) -> Outcome:
        return Refusal("not_here", f"nothing to scan in {self.kind}: scanned {code.text}")

    def confirm(self, reason: str | None) -> Outcome:
        return Refusal("nothing_to_confirm", "nothing to confirm yet")

    def undo(self) -> Outcome:
        return Refusal("nothing_to_undo", "nothing to take back")

    def cancel(self) -> Accepted:
        return Accepted(f"{self.kind} closed")

    def grade(self, grade: str) -> Outcome:
        return Refusal("not_here", "grading is done in Inspect")

    def check(self, answers: Mapping[str, Answer]) -> Outcome:
        return Refusal("not_here", "the checklist is done in Inspect")

    def photo(self, sha256: str, mime: str) -> Outcome:
        return Refusal("not_here", "photos are taken in Inspect")

    def choose(self, disposition: str | None) -> Outcome:
        return Refusal("not_here", "dispositions are chosen in Inspect")

    def decide(self, ref: str, decision: str, note: str) -> Outcome:
        return Refusal("not_here", "approvals are decided in Supervise")

    def view(self) -> TaskView:
        raise NotImplementedError


class UnitScanTask(Task):
    """A task that opens a subject by its first scan (a return, an order) and then records one
    :class:`ScannedItem` per unit: receive and pack. A serial-tracked unit scanned by its plain
    barcode waits for the next scan to be its serial label. ``subject_key`` names the subject's id
    in the draft (kept stable: drafts written by an older version still load)."""

    subject_key = "subject_id"

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self.subject_id: int | None = None
        self.items: list[ScannedItem] = []
        self.next_seq = 1
        self.awaiting_serial: int | None = None

    def to_draft(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            self.subject_key: self.subject_id,
            "items": [i.to_dict() for i in self.items],
            "next_seq": self.next_seq,
            "awaiting_serial": self.awaiting_serial,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self.subject_id = data.get(self.subject_key)
        self.items = [ScannedItem.from_dict(i) for i in data.get("items", [])]
        self.next_seq = int(data.get("next_seq", len(self.items) + 1))
        self.awaiting_serial = data.get("awaiting_serial")

    def has_progress(self) -> bool:
        return bool(self.items)

    def _reset(self) -> None:
        self.subject_id, self.items, self.next_seq, self.awaiting_serial = None, [], 1, None

    def _new_item(self, code: ScannedCode, product: Product | None) -> ScannedItem:
        return item_from(self.next_seq, code, product)

    def _add(self, item: ScannedItem, product: Product | None) -> None:
        self.items.append(item)
        self.next_seq += 1
        serial_wanted = product is not None and product.get("serial_tracked") and not item.serial
        self.awaiting_serial = item.seq if serial_wanted else None

    def _awaiting(self) -> ScannedItem | None:
        """The unit whose serial label the next scan may be: the last serial-tracked unit scanned by
        its plain barcode and still without a serial (also when other items were scanned since)."""
        return next(
            (i for i in reversed(self.items) if not i.serial and self._serial_tracked(i.product_id)), None
        )

    def _serial_tracked(self, product_id: int | None) -> bool:
        product = self.desk.store.product(product_id) if product_id is not None else None
        return bool(product and product.get("serial_tracked"))

    def _give_serial(self, item: ScannedItem, serial: str) -> ScannedItem:
        updated = ScannedItem(item.seq, item.barcode, item.product_id, item.lot, serial, item.expiry)
        self.items = [updated if i.seq == item.seq else i for i in self.items]
        self.awaiting_serial = None
        return updated

    def _take_back(self) -> ScannedItem | None:
        if not self.items:
            return None
        self.awaiting_serial = None
        return self.items.pop()
