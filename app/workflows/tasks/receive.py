"""Receiving a return: scan its label, then every item in the box; confirm (with a reason when partial)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.workflows.receiving import ScannedItem, reconcile
from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.scanning import ScannedCode
from app.workflows.tasks.base import (
    UnitScanTask,
    lookup_product,
    product_name,
    receipt_queued_here,
    unreadable,
)
from app.workflows.views import (
    ExtraView,
    LineView,
    TaskView,
)
from sync.erp.protocol import Offline, Refused
from sync.reference import Return

SALE_SEARCH = "returns.station.sale_search.find"

EXTRA_WORDS = {
    "quantity_over": "more than the return expects",
    "wrong_item": "not on this return",
    "wrong_lot": "wrong lot",
    "unknown_barcode": "unknown barcode",
}


def _sale_words(sale: Mapping[str, Any]) -> str:
    """``SO-1003 (WEB-5003, Alma J., a***@example.com, 2026-11-18)``: enough to tell sales apart."""
    bits = [
        b for b in (sale.get("reference"), sale.get("customer"), sale.get("email"), sale.get("date")) if b
    ]
    return f"{sale['number']} ({', '.join(bits)})"


class ReceiveTask(UnitScanTask):
    """Scan a return's label, then every item in the box; confirm (with a reason when partial)."""

    kind = "receive"

    subject_key = "return_id"

    def __init__(self, desk) -> None:  # type: ignore[no-untyped-def]
        super().__init__(desk)
        self._clear_unannounced()

    def _clear_unannounced(self) -> None:
        # A parcel no return announced: the code scanned on it, the sales a search found, the sale
        # chosen (its delivered lines are what the box may hold), or a blind receipt.
        self.parcel_code: str | None = None
        self.found: list[dict[str, Any]] = []
        self.sale: dict[str, Any] | None = None
        self.blind: str | None = None  # why: "no sale found" | "offline"
        self.searched_offline = False

    def _reset(self) -> None:
        super()._reset()
        self._clear_unannounced()

    def to_draft(self) -> dict[str, Any]:
        data = super().to_draft()
        data.update(
            parcel_code=self.parcel_code, found=self.found, sale=self.sale, blind=self.blind,
            searched_offline=self.searched_offline,
        )  # fmt: skip
        return data

    def restore(self, data: Mapping[str, Any]) -> None:
        super().restore(data)
        self.parcel_code = data.get("parcel_code")
        self.found = list(data.get("found") or [])
        self.sale = data.get("sale")
        self.blind = data.get("blind")
        self.searched_offline = bool(data.get("searched_offline"))

    def the_return(self) -> Return | None:
        if self.sale is not None:
            return self._sale_as_return(self.sale)
        return self.desk.store.return_(self.subject_id) if self.subject_id is not None else None

    @staticmethod
    def _sale_as_return(sale: Mapping[str, Any]) -> Return:
        """The chosen sale's returnable lines as the lines the box may hold (move_id: the sold move)."""
        lines = [
            {"move_id": ln["sold_move_id"], "product_id": ln["product_id"], "quantity": ln["returnable"],
             "lot": ln.get("lot")}
            for ln in sale["lines"] if float(ln["returnable"]) > 0
        ]  # fmt: skip
        return {
            "id": None, "number": sale["number"], "rma": f"sale {sale['number']}",
            "customer": sale["customer"],
            "state": "draft", "lines": lines, "reason": "unannounced",
        }  # type: ignore[return-value]  # fmt: skip

    # --- unannounced parcels -----------------------------------------------------------------------
    def search(self, query: str) -> Outcome:
        """Find the sale an unannounced parcel came from (order number, email, name, serial sold)."""
        if self.the_return() is not None or self.blind is not None:
            return Refusal("task_open", "a receipt is open: confirm or cancel it before searching")
        query = (query or "").strip()
        if not query:
            return Refusal("empty_search", "type an order number, the customer's email or name, or a serial")
        answer = self.desk.request(SALE_SEARCH, query)
        self.searched_offline = isinstance(answer, Offline)
        if isinstance(answer, Offline):
            return Refusal(
                "offline",
                "the ERP cannot be reached to search sales: receive the parcel blind "
                "(its items go to quarantine for a supervisor)",
            )
        if isinstance(answer, Refused):
            return Refusal("search_refused", f"the ERP refused the search: {answer.reason}")
        sales = [s for s in answer.get("sales", []) if any(float(ln["returnable"]) > 0 for ln in s["lines"])]
        if not sales:
            return Refusal(
                "no_sale",
                f"no sale with anything left to return matches {query}: "
                "check it, or receive the parcel blind",
            )
        self.found = sales
        if len(sales) == 1:
            return self.choose_sale(sales[0]["number"])
        listed = "; ".join(_sale_words(s) for s in sales)
        more = " (more match: narrow the search)" if answer.get("more") else ""
        return Accepted(f"{len(sales)} sales match {query}{more}: {listed}. Choose one.")

    def choose_sale(self, number: str) -> Outcome:
        if self.sale is not None and number in (self.sale["number"], self.sale.get("reference")):
            return Accepted(f"{self.sale['number']} is already open: scan the items")
        if self.the_return() is not None or self.blind is not None:
            return Refusal("task_open", "a receipt is open: confirm or cancel it first")
        sale = next((s for s in self.found if s["number"] == number or s.get("reference") == number), None)
        if sale is None:
            choices = ", ".join(s["number"] for s in self.found) or "none: search first"
            return Refusal("unknown_sale", f"{number} is not one of the sales found ({choices})")
        self.sale = sale
        units = sum(float(ln["returnable"]) for ln in sale["lines"])
        return Accepted(
            f"unannounced return of {_sale_words(sale)}: up to {units:g} item(s) can come back. "
            "Scan each item in the box."
        )

    def receive_blind(self) -> Outcome:
        if self.the_return() is not None or self.blind is not None:
            return Refusal("task_open", "a receipt is open: confirm or cancel it first")
        self.blind = "offline" if self.searched_offline else "no sale found"
        return Accepted(
            "blind receipt: scan each item in the box; they go to quarantine and a supervisor is told"
        )

    def subject(self) -> str | None:
        ret = self.the_return()
        return ret["rma"] if ret else None

    def _open(self, ret: Return) -> Outcome:
        label = ret["rma"]
        if ret["state"] != "draft":
            return Refusal(
                "already_received", f"{label} is already {ret['state']}: it cannot be received again"
            )
        if receipt_queued_here(self.desk, ret["id"]):
            return Refusal("already_received", f"{label} was already received at this station")
        self.subject_id = ret["id"]
        units = sum(float(line["quantity"]) for line in ret["lines"])
        return Accepted(
            f"{label} ({ret['number']}, {ret['customer']}): {units:g} item(s) expected. "
            "Scan each item in the box."
        )

    def scan(self, code: ScannedCode) -> Outcome:
        ret = self.the_return()
        if ret is None and self.blind is not None:
            return self._scan_blind(code)
        if ret is None:
            found = self.desk.store.find_return(code.data) or self.desk.store.find_return(code.text)
            if found is None:
                if lookup_product(self.desk, code) is None:
                    self.parcel_code = code.text
                return Refusal(
                    "unknown_return",
                    f"no return matches {code.text}: scan the RMA, return number, "
                    "tracking number or order number on the parcel. Nothing announced it? "
                    "Search the sale (order number, customer email or name, a serial sold) "
                    "or receive it blind",
                )
            return self._open(found)
        product = lookup_product(self.desk, code)
        if product is None:
            other = self.desk.store.find_return(code.data)
            if other is not None:
                if other["id"] == ret["id"]:
                    return Accepted(f"{ret['rma']} is already open: scan the items")
                return Refusal(
                    "other_return",
                    f"another return's label: this box is {ret['rma']}, scanned "
                    f"{other['rma']}. Confirm or cancel {ret['rma']} first",
                )
            pending = self._awaiting()
            if pending is not None and not code.gtin and not code.problem:
                return self._attach_serial(pending, code.data)
            if refusal := unreadable(code):
                return refusal
        item = self._new_item(code, product)
        if item.serial and any(
            i.serial == item.serial and i.product_id == item.product_id for i in self.items
        ):
            return Refusal(
                "duplicate_serial", f"duplicate serial: {item.serial} was already scanned in this box"
            )
        self._add(item, product)
        return self._feedback(item)

    def _scan_blind(self, code: ScannedCode) -> Outcome:
        product = lookup_product(self.desk, code)
        if product is None:
            if self.desk.store.find_return(code.data) is not None:
                return Refusal(
                    "other_return", f"{code.text} is a return's label: cancel the blind receipt to receive it"
                )
            pending = self._awaiting()
            if pending is not None and not code.gtin and not code.problem:
                return self._attach_serial(pending, code.data)
            if refusal := unreadable(code):
                return refusal
        item = self._new_item(code, product)
        self._add(item, product)
        name = (
            product_name(self.desk, item.product_id) if item.product_id else f"unknown barcode {item.barcode}"
        )
        hint = " — scan its serial label" if self.awaiting_serial == item.seq else ""
        return Accepted(f"{name}: {len(self.items)} item(s) in the blind receipt{hint}")

    def _attach_serial(self, item: ScannedItem, serial: str) -> Outcome:
        if any(i.serial == serial and i.product_id == item.product_id for i in self.items):
            return Refusal("duplicate_serial", f"duplicate serial: {serial} was already scanned in this box")
        updated = self._give_serial(item, serial)
        if self.blind is not None:
            return Accepted(f"serial {serial} recorded")
        result = self._feedback(updated)
        return Accepted(f"serial {serial} recorded. {result.message}", warning=result.warning)

    def _feedback(self, item: ScannedItem) -> Accepted:
        rec = self._reconcile()
        outcome = rec.outcomes[item.seq]
        name = product_name(self.desk, item.product_id) if item.product_id else None
        if outcome == "matched":
            line = next(ln for ln in rec.lines if item in ln.items)
            hint = " — scan its serial label" if self.awaiting_serial == item.seq else ""
            return Accepted(f"{name}: {line.received} of {line.expected:g}{hint}")
        if outcome == "unknown_barcode":
            return Accepted(
                f"unknown barcode {item.barcode}: recorded as an extra item, put it aside", warning=True
            )
        if outcome == "wrong_item":
            return Accepted(f"{name} is not on this return: recorded as a wrong item", warning=True)
        if outcome == "wrong_lot":
            extra = next(e for e in rec.extras if e.item.seq == item.seq)
            scanned = item.serial or item.lot
            what = "serial" if item.serial else "lot"
            return Accepted(
                f"wrong {what}: expected {extra.expected}, scanned {scanned} ({name}); recorded", warning=True
            )
        expected = sum(ln.expected for ln in rec.lines if ln.product_id == item.product_id)
        return Accepted(
            f"quantity over: the return expects {expected:g} × {name}; this one is extra, recorded",
            warning=True,
        )

    def _reconcile(self):
        ret = self.the_return()
        lines = ret["lines"] if ret else []
        products = {
            pid: p
            for pid in {ln["product_id"] for ln in lines} | {i.product_id for i in self.items}
            if pid is not None and (p := self.desk.store.product(pid)) is not None
        }
        return reconcile(lines, self.items, products)

    def undo(self) -> Outcome:
        item = self._take_back()
        if item is None:
            return Refusal("nothing_to_undo", "nothing scanned yet")
        return Accepted(f"took back the last scan ({item.barcode})")

    def cancel(self) -> Accepted:
        label = self.subject() or "the receipt"
        self._reset()
        return Accepted(f"receipt of {label} cancelled: nothing was sent")

    def confirm(self, reason: str | None) -> Outcome:
        if self.blind is not None:
            return self._confirm_blind()
        if self.sale is not None:
            return self._confirm_unannounced()
        ret = self.the_return()
        if ret is None:
            return Refusal("no_return", "scan the return's label first")
        if receipt_queued_here(self.desk, ret["id"]):  # another tab, or before a restart
            self._reset()
            return Refusal(
                "already_received",
                f"{ret['rma']} was already received at this station (in another tab, or before the "
                "station restarted): it was not queued again",
            )
        rec = self._reconcile()
        reason = (reason or "").strip() or None
        if not rec.complete and reason is None:
            missing = ", ".join(
                f"{ln.missing:g} × {product_name(self.desk, ln.product_id)}" for ln in rec.missing
            )
            return Refusal(
                "reason_needed",
                f"partial receipt: missing {missing}. Give a reason to receive it "
                "as partial, or scan the missing items",
            )
        payload = {
            "return_id": ret["id"],
            "return_number": ret["number"],
            "rma": ret["rma"],
            "lines": rec.payload_lines(),
            "extra": rec.payload_extra(),
            "missing": rec.payload_missing(),
            "partial_reason": reason if not rec.complete else None,
        }
        op = self.desk.operation("receive_return", payload)
        self.desk.queue([op], f"received {ret['rma']}")
        received = sum(ln.received for ln in rec.lines)
        words = f"{ret['rma']} received: {received} item(s)"
        if rec.extras:
            words += f", {len(rec.extras)} extra"
        if not rec.complete:
            words += f", partial ({reason})"
        self._reset()
        return Accepted(words + ". Scan the next parcel.", operations=(op,))

    def _label(self) -> str:
        """The label the station gives a return it opens (the ERP keeps it as the return's RMA)."""
        prefix = "BLIND" if self.blind is not None else "UA"
        return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"

    def _confirm_unannounced(self) -> Outcome:
        sale = self.sale
        assert sale is not None
        rec = self._reconcile()
        received = [ln for ln in rec.lines if ln.received > 0]
        if not received:
            return Refusal(
                "nothing_sold_scanned",
                f"nothing scanned was sold on {sale['number']}: "
                "scan the items, or cancel and receive it blind",
            )
        rma = self._label()
        opened = self.desk.operation(
            "open_return",
            {
                "sale_id": sale["sale_id"], "sale_number": sale["number"], "rma": rma,
                "parcel_code": self.parcel_code, "reason": "unannounced",
                "lines": [
                    {"sold_move_id": ln.move_id, "product_id": ln.product_id, "quantity": ln.received}
                    for ln in received
                ],
            },
        )  # fmt: skip
        lines = [
            {**line, "move_id": None, "sold_move_id": line["move_id"], "expected": line["received"]}
            for line in rec.payload_lines()
            if line["received"] > 0
        ]
        receipt = self.desk.operation(
            "receive_return",
            {
                "return_id": None, "return_op": opened.id, "return_number": None, "rma": rma,
                "lines": lines, "extra": rec.payload_extra(), "missing": [], "partial_reason": None,
            },
            depends_on=[opened.id],
        )  # fmt: skip
        self.desk.queue(
            [opened, receipt], f"opened and received unannounced return {rma} of {sale['number']}"
        )
        count = sum(ln.received for ln in received)
        words = f"unannounced return {rma} of {sale['number']} received: {count} item(s)"
        if rec.extras:
            words += f", {len(rec.extras)} extra"
        self._reset()
        return Accepted(words + ". Scan the next parcel.", operations=(opened, receipt))

    def _confirm_blind(self) -> Outcome:
        if not self.items:
            return Refusal("nothing_scanned", "scan the items in the box first")
        rma = self._label()
        op = self.desk.operation(
            "blind_receipt",
            {
                "rma": rma, "parcel_code": self.parcel_code, "why": self.blind,
                "items": [
                    {"barcode": i.barcode, "product_id": i.product_id, "quantity": 1, "lot": i.lot,
                     "serial": i.serial}
                    for i in self.items
                ],
            },
        )  # fmt: skip
        self.desk.queue([op], f"blind receipt {rma}")
        count = len(self.items)
        self._reset()
        return Accepted(
            f"blind receipt {rma}: {count} item(s) to quarantine; a supervisor will identify the sender. "
            "Scan the next parcel.",
            operations=(op,),
        )

    def view(self) -> TaskView:
        ret = self.the_return()
        if ret is None and self.blind is not None:
            return TaskView(
                kind=self.kind,
                title="Blind receipt (to quarantine)",
                subject="blind receipt",
                prompt="Scan each item in the box, then confirm: they go to quarantine for a supervisor",
                extras=tuple(
                    ExtraView(
                        key=f"scan-{i.seq}", barcode=i.barcode,
                        product=product_name(self.desk, i.product_id) if i.product_id else None,
                        outcome="blind", message=i.serial or i.lot or "",
                    )
                    for i in self.items
                ),
                can_confirm=bool(self.items),
                confirm_label="Confirm blind receipt",
                extra={"blind": self.blind, "parcel_code": self.parcel_code},
            )  # fmt: skip
        if ret is None:
            prompt = "Scan the parcel's RMA, return number, tracking number or order number"
            if self.parcel_code or self.found:
                prompt = (
                    "Nothing announced this parcel: search the sale (order number, customer email or "
                    "name, a serial sold), choose it, or receive it blind"
                )
            return TaskView(
                kind=self.kind,
                title="Receive a return",
                subject=None,
                prompt=prompt,
                extra={"parcel_code": self.parcel_code, "sales": tuple(self.found)},
            )
        rec = self._reconcile()
        lines = []
        for ln in rec.lines:
            product = self.desk.store.product(ln.product_id)
            scanned_ids = tuple(i.serial or i.lot for i in ln.items if i.serial or i.lot)
            words = {
                "matched": f"{ln.received} of {ln.expected:g}",
                "partial": f"{ln.missing:g} missing",
                "missing": "missing",
            }[ln.outcome]
            lines.append(
                LineView(
                    key=str(ln.move_id),
                    product=product["name"] if product else str(ln.product_id),
                    sku=product["code"] if product else "",
                    expected=ln.expected,
                    scanned=ln.received,
                    outcome=ln.outcome,
                    lot=ln.lot_expected,
                    lots_scanned=scanned_ids,
                    message=words,
                )
            )
        extras = []
        for extra in rec.extras:
            name = product_name(self.desk, extra.item.product_id) if extra.item.product_id else None
            words = EXTRA_WORDS[extra.outcome]
            if extra.outcome == "wrong_lot":
                words = f"wrong lot: expected {extra.expected}, scanned {extra.item.serial or extra.item.lot}"
            extras.append(
                ExtraView(
                    key=f"scan-{extra.item.seq}",
                    barcode=extra.item.barcode,
                    product=name,
                    outcome=extra.outcome,
                    message=words,
                )
            )
        complete = rec.complete
        prompt = (
            "All expected items scanned: confirm the receipt"
            if complete
            else "Scan each item in the box; confirm with a reason if something is missing"
        )
        return TaskView(
            kind=self.kind,
            title=(
                f"Unannounced return of {ret['number']} — {ret['customer']}"
                if self.sale is not None
                else f"Return {ret['rma']} ({ret['number']}) — {ret['customer']}"
            ),
            subject=ret["rma"],
            prompt=prompt,
            lines=tuple(lines),
            extras=tuple(extras),
            can_confirm=True,
            confirm_needs_reason=not complete and self.sale is None,
            confirm_label=(
                "Open the return and receive"
                if self.sale is not None
                else "Confirm receipt"
                if complete
                else "Confirm partial receipt"
            ),
            extra={"reason": ret.get("reason"), "state": ret["state"], "sale": self.sale},
        )
