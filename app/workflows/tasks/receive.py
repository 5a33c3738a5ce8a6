"""Receiving a return: scan its label, then every item in the box; confirm (with a reason when partial)."""

from __future__ import annotations

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
from sync.reference import Return

EXTRA_WORDS = {
    "quantity_over": "more than the return expects",
    "wrong_item": "not on this return",
    "wrong_lot": "wrong lot",
    "unknown_barcode": "unknown barcode",
}


class ReceiveTask(UnitScanTask):
    """Scan a return's label, then every item in the box; confirm (with a reason when partial)."""

    kind = "receive"

    subject_key = "return_id"

    def the_return(self) -> Return | None:
        return self.desk.store.return_(self.subject_id) if self.subject_id is not None else None

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
        if ret is None:
            found = self.desk.store.find_return(code.data) or self.desk.store.find_return(code.text)
            if found is None:
                return Refusal(
                    "unknown_return",
                    f"no return matches {code.text}: scan the RMA, return number, "
                    "tracking number or order number on the parcel",
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

    def _attach_serial(self, item: ScannedItem, serial: str) -> Outcome:
        if any(i.serial == serial and i.product_id == item.product_id for i in self.items):
            return Refusal("duplicate_serial", f"duplicate serial: {serial} was already scanned in this box")
        result = self._feedback(self._give_serial(item, serial))
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

    def view(self) -> TaskView:
        ret = self.the_return()
        if ret is None:
            return TaskView(
                kind=self.kind,
                title="Receive a return",
                subject=None,
                prompt="Scan the parcel's RMA, return number, tracking number or order number",
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
            title=f"Return {ret['rma']} ({ret['number']}) — {ret['customer']}",
            subject=ret["rma"],
            prompt=prompt,
            lines=tuple(lines),
            extras=tuple(extras),
            can_confirm=True,
            confirm_needs_reason=not complete,
            confirm_label="Confirm receipt" if complete else "Confirm partial receipt",
            extra={"reason": ret.get("reason"), "state": ret["state"]},
        )
