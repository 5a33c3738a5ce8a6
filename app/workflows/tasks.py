"""The four tasks of the station — receive, inspect, pack, supervise — as small state machines.

A task holds only what the worker did (scans, answers, photo hashes); everything shown is derived
from that and the reference cache on each :meth:`Task.view`, so a task saved as a draft and loaded
again after a crash shows the same screen. Tasks are driven by :class:`app.workflows.station.StationSession`;
they reach the store, rules and clock only through a :class:`Desk`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from app.workflows.approvals import find_request, pending_approvals, why_cannot_decide
from app.workflows.grading import GRADES, Answer, family
from app.workflows.packing import check_unit, pack_payload, packed_lines
from app.workflows.receiving import ScannedItem, reconcile
from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.rules import DISPOSITION_LABELS, DISPOSITIONS, Decision, Facts, RuleBook
from app.workflows.scanning import ScannedCode
from app.workflows.views import (
    ApprovalView,
    CheckView,
    ExtraView,
    LineView,
    TaskView,
    UnitView,
)
from sync.operations import Operation
from sync.reference import Person, Product, Return, Shipment

EXTRA_WORDS = {
    "quantity_over": "more than the return expects",
    "wrong_item": "not on this return",
    "wrong_lot": "wrong lot",
    "unknown_barcode": "unknown barcode",
}


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

    def queued(self, type: str) -> list[dict[str, Any]]: ...


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


# ==================================================================================================
class ReceiveTask(Task):
    """Scan a return's label, then every item in the box; confirm (with a reason when partial)."""

    kind = "receive"

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self.return_id: int | None = None
        self.items: list[ScannedItem] = []
        self.next_seq = 1
        self.awaiting_serial: int | None = None

    def to_draft(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "return_id": self.return_id,
            "items": [i.to_dict() for i in self.items],
            "next_seq": self.next_seq,
            "awaiting_serial": self.awaiting_serial,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self.return_id = data.get("return_id")
        self.items = [ScannedItem.from_dict(i) for i in data.get("items", [])]
        self.next_seq = int(data.get("next_seq", len(self.items) + 1))
        self.awaiting_serial = data.get("awaiting_serial")

    def has_progress(self) -> bool:
        return bool(self.items)

    def the_return(self) -> Return | None:
        return self.desk.store.return_(self.return_id) if self.return_id is not None else None

    def subject(self) -> str | None:
        ret = self.the_return()
        return ret["rma"] if ret else None

    def _already_received_here(self, return_id: int) -> dict[str, Any] | None:
        return next(
            (op for op in self.desk.queued("receive_return") if op["payload"].get("return_id") == return_id),
            None,
        )

    def _open(self, ret: Return) -> Outcome:
        label = ret["rma"]
        if ret["state"] != "draft":
            return Refusal(
                "already_received", f"{label} is already {ret['state']}: it cannot be received again"
            )
        if self._already_received_here(ret["id"]):
            return Refusal("already_received", f"{label} was already received at this station")
        self.return_id = ret["id"]
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
        item = item_from(self.next_seq, code, product)
        if item.serial and any(
            i.serial == item.serial and i.product_id == item.product_id for i in self.items
        ):
            return Refusal(
                "duplicate_serial", f"duplicate serial: {item.serial} was already scanned in this box"
            )
        self.items.append(item)
        self.next_seq += 1
        self.awaiting_serial = (
            item.seq if (product and product.get("serial_tracked") and not item.serial) else None
        )
        return self._feedback(item)

    def _awaiting(self) -> ScannedItem | None:
        return next((i for i in self.items if i.seq == self.awaiting_serial), None)

    def _attach_serial(self, item: ScannedItem, serial: str) -> Outcome:
        if any(i.serial == serial and i.product_id == item.product_id for i in self.items):
            return Refusal("duplicate_serial", f"duplicate serial: {serial} was already scanned in this box")
        updated = ScannedItem(item.seq, item.barcode, item.product_id, item.lot, serial, item.expiry)
        self.items = [updated if i.seq == item.seq else i for i in self.items]
        self.awaiting_serial = None
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
        if not self.items:
            return Refusal("nothing_to_undo", "nothing scanned yet")
        item = self.items.pop()
        self.awaiting_serial = None
        return Accepted(f"took back the last scan ({item.barcode})")

    def cancel(self) -> Accepted:
        label = self.subject() or "the receipt"
        self.return_id, self.items, self.next_seq, self.awaiting_serial = None, [], 1, None
        return Accepted(f"receipt of {label} cancelled: nothing was sent")

    def confirm(self, reason: str | None) -> Outcome:
        ret = self.the_return()
        if ret is None:
            return Refusal("no_return", "scan the return's label first")
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
        self.return_id, self.items, self.next_seq, self.awaiting_serial = None, [], 1, None
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


# ==================================================================================================
class InspectTask(Task):
    """Scan a received return's label (or an item of it), then each unit: photos, grade, checklist,
    the rules' disposition; confirm queues ``inspect_item`` (and an approval request when gated)."""

    kind = "inspect"

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self.return_id: int | None = None
        self.unit: dict[str, Any] | None = None
        self.finished: list[str] = []

    def to_draft(self) -> dict[str, Any]:
        return {"kind": self.kind, "return_id": self.return_id, "unit": self.unit, "finished": self.finished}

    def restore(self, data: Mapping[str, Any]) -> None:
        self.return_id = data.get("return_id")
        self.unit = dict(data["unit"]) if data.get("unit") else None
        self.finished = list(data.get("finished", []))

    def has_progress(self) -> bool:
        return self.unit is not None

    def the_return(self) -> Return | None:
        return self.desk.store.return_(self.return_id) if self.return_id is not None else None

    def subject(self) -> str | None:
        ret = self.the_return()
        return ret["rma"] if ret else None

    # --- what is waiting ---------------------------------------------------------------------
    def _receipt_here(self, return_id: int) -> dict[str, Any] | None:
        return next(
            (op for op in self.desk.queued("receive_return") if op["payload"].get("return_id") == return_id),
            None,
        )

    def _received(self, ret: Return) -> dict[int, float]:
        """Units received per product: from this station's receipt when it made one, else the ERP's."""
        receipt = self._receipt_here(ret["id"])
        counts: dict[int, float] = {}
        if receipt is not None:
            for line in receipt["payload"]["lines"]:
                counts[line["product_id"]] = counts.get(line["product_id"], 0) + float(line["received"])
            for extra in receipt["payload"]["extra"]:
                if extra.get("product_id") is not None:
                    counts[extra["product_id"]] = counts.get(extra["product_id"], 0) + float(
                        extra["quantity"]
                    )
            return counts
        for line in ret["lines"]:
            counts[line["product_id"]] = counts.get(line["product_id"], 0) + float(line["quantity"])
        return counts

    def _inspected(self, return_id: int) -> dict[int, float]:
        counts: dict[int, float] = {}
        for op in self.desk.queued("inspect_item"):
            if op["payload"].get("return_id") == return_id:
                pid = op["payload"]["product_id"]
                counts[pid] = counts.get(pid, 0) + float(op["payload"].get("quantity", 1))
        return counts

    def _waiting(self, ret: Return) -> dict[int, float]:
        received, inspected = self._received(ret), self._inspected(ret["id"])
        return {
            pid: qty - inspected.get(pid, 0)
            for pid, qty in received.items()
            if qty - inspected.get(pid, 0) > 0
        }

    def _inspectable(self, ret: Return) -> Refusal | None:
        if ret["state"] == "draft" and self._receipt_here(ret["id"]) is None:
            return Refusal("not_received", f"{ret['rma']} has not been received yet: receive it first")
        if ret["state"] in ("done", "cancelled") or not self._waiting(ret):
            return Refusal("nothing_to_inspect", f"every unit of {ret['rma']} is already inspected")
        return None

    # --- scans -----------------------------------------------------------------------------------
    def scan(self, code: ScannedCode) -> Outcome:
        store = self.desk.store
        product = lookup_product(self.desk, code)
        if product is None:
            if self.unit is not None and self.unit.get("awaiting_serial") and not code.problem:
                return self._attach_serial(code.data)
            found = store.find_return(code.data) or store.find_return(code.text)
            if found is None:
                if refusal := unreadable(code):
                    return refusal
                return Refusal(
                    "unknown_code", f"{code.text} is neither a return nor a product this station knows"
                )
            if self.unit is not None and found["id"] != self.return_id:
                return Refusal(
                    "unit_open",
                    f"finish the {self.unit['name']} of {self.subject()} first "
                    f"(confirm it, or cancel), then scan {found['rma']}",
                )
            refusal = self._inspectable(found)
            if refusal:
                return refusal
            self.return_id = found["id"]
            waiting = self._waiting(found)
            names = ", ".join(f"{q:g} × {product_name(self.desk, pid)}" for pid, q in waiting.items())
            return Accepted(f"{found['rma']}: waiting for inspection: {names}. Scan a unit.")
        ret = self.the_return()
        if ret is None:
            ret = self._return_holding(product["id"])
            if isinstance(ret, Refusal):
                return ret
            self.return_id = ret["id"]
        if self.unit is not None:
            return Refusal(
                "unit_open",
                f"finish the {self.unit['name']} first (confirm it, or cancel); scanned {product['name']}",
            )
        waiting = self._waiting(ret)
        if product["id"] not in waiting:
            received = self._received(ret)
            if product["id"] in received:
                return Refusal(
                    "already_inspected", f"every {product['name']} of {ret['rma']} is already inspected"
                )
            names = ", ".join(product_name(self.desk, pid) for pid in waiting) or "nothing"
            return Refusal(
                "not_in_return", f"not in this return: {ret['rma']} holds {names}; scanned {product['name']}"
            )
        self._open_unit(ret, product, code)
        spec = family(product["family"])
        hint = " Scan its serial label." if self.unit and self.unit.get("awaiting_serial") else ""
        return Accepted(
            f"{product['name']}: take {spec.photos_required} photo(s), grade it and answer the "
            f"{spec.label.lower()} checklist.{hint}"
        )

    def _return_holding(self, product_id: int) -> Return | Refusal:
        candidates = [r for r in self.desk.store.returns("received") if product_id in self._waiting(r)]
        for op in self.desk.queued("receive_return"):
            ret = self.desk.store.return_(op["payload"]["return_id"])
            if ret and ret["state"] == "draft" and product_id in self._waiting(ret):
                candidates.append(ret)
        if len(candidates) == 1:
            return candidates[0]
        name = product_name(self.desk, product_id)
        if not candidates:
            return Refusal("not_received", f"no received return holds a {name} waiting for inspection")
        return Refusal(
            "which_return", f"{len(candidates)} received returns hold a {name}: scan the return's label first"
        )

    def _sold(self, ret: Return, product_id: int) -> str | None:
        """The lot (or serial) sold for ``product_id``, when the station can know it: from its own
        receipt, or from the return's lines while they are still the expected ones (draft). Once
        another station received it, the ERP's lines hold what came back, not what was sold."""
        receipt = self._receipt_here(ret["id"])
        if receipt is not None:
            lines = [ln for ln in receipt["payload"]["lines"] if "lot_expected" in ln]
            return next(
                (ln["lot_expected"] for ln in lines if ln["product_id"] == product_id and ln["lot_expected"]),
                None,
            )
        if ret["state"] != "draft":
            return None
        return next(
            (ln.get("lot") for ln in ret["lines"] if ln["product_id"] == product_id and ln.get("lot")), None
        )

    def _open_unit(self, ret: Return, product: Product, code: ScannedCode) -> None:
        item = item_from(0, code, product)
        self.unit = {
            "product_id": product["id"],
            "name": product["name"],
            "barcode": code.text,
            "lot": item.lot,
            "serial": item.serial,
            "expiry": item.expiry,
            "awaiting_serial": bool(product.get("serial_tracked") and not item.serial),
            "photos": [],
            "grade": None,
            "answers": {},
            "chosen": None,
            "note": None,
        }
        if product.get("lot_tracked") and not item.lot:
            self.unit["lot"] = self._sold(ret, product["id"])  # the plain barcode: assume the lot sold

    def _attach_serial(self, serial: str) -> Outcome:
        assert self.unit is not None
        self.unit["serial"] = serial
        self.unit["awaiting_serial"] = False
        return Accepted(f"serial {serial} recorded for {self.unit['name']}")

    # --- the unit ----------------------------------------------------------------------------
    def _no_unit(self) -> Refusal:
        return Refusal("no_unit", "scan a unit first")

    def photo(self, sha256: str, mime: str) -> Outcome:
        if self.unit is None:
            return self._no_unit()
        if any(p["sha256"] == sha256 for p in self.unit["photos"]):
            return Refusal("duplicate_photo", "that photo was already added")
        self.unit["photos"].append({"sha256": sha256, "mime": mime})
        spec = family(self.desk.store.product(self.unit["product_id"])["family"])
        return Accepted(f"photo {len(self.unit['photos'])} of {spec.photos_required} saved")

    def grade(self, grade: str) -> Outcome:
        if self.unit is None:
            return self._no_unit()
        grade = (grade or "").strip().upper()
        if grade not in GRADES:
            choices = ", ".join(f"{g} ({w})" for g, w in GRADES.items())
            return Refusal("unknown_grade", f"no grade {grade or '(empty)'}: choose {choices}")
        self.unit["grade"] = grade
        return Accepted(f"grade {grade} ({GRADES[grade]})")

    def check(self, answers: Mapping[str, Answer]) -> Outcome:
        if self.unit is None:
            return self._no_unit()
        spec = family(self.desk.store.product(self.unit["product_id"])["family"])
        for name, value in answers.items():
            item = spec.item(name)
            if item is None:
                known = ", ".join(i.name for i in spec.checklist)
                return Refusal("unknown_check", f"{spec.label} has no check {name!r}: its checks are {known}")
            problem = item.refusal_for(value)
            if problem:
                return Refusal("bad_answer", problem)
        self.unit["answers"].update(answers)
        return Accepted(f"{len(answers)} answer(s) saved")

    def choose(self, disposition: str | None) -> Outcome:
        if self.unit is None:
            return self._no_unit()
        if disposition is not None and disposition not in DISPOSITIONS:
            return Refusal(
                "unknown_disposition", f"no disposition {disposition!r}: choose {', '.join(DISPOSITIONS)}"
            )
        facts = self._facts()
        if disposition == "restock" and (facts.lot_expired or facts.lot_recalled):
            why = "recalled" if facts.lot_recalled else "expired"
            return Refusal("never_restock", f"an {why} lot is never restocked: lot {self.unit['lot']}")
        self.unit["chosen"] = disposition
        if disposition is None:
            return Accepted("back to the rules' disposition")
        return Accepted(f"{DISPOSITION_LABELS[disposition]} chosen: a supervisor must approve it")

    def _lot_record(self):
        if self.unit and self.unit.get("lot"):
            return self.desk.store.lot(self.unit["product_id"], self.unit["lot"])
        if self.unit and self.unit.get("serial"):
            return self.desk.store.lot(self.unit["product_id"], self.unit["serial"])
        return None

    def _derived(self) -> dict[str, Answer]:
        """Answers the station knows from the scan and the return: lot/serial match, days to expiry."""
        assert self.unit is not None
        ret = self.the_return()
        sold = self._sold(ret, self.unit["product_id"]) if ret else None
        out: dict[str, Answer] = {}
        if sold and self.unit.get("serial"):
            out["serial_matches"] = self.unit["serial"] == sold
        if sold and self.unit.get("lot"):
            out["lot_matches"] = self.unit["lot"] == sold
        days = self._days_to_expiry()
        if days is not None:
            out["days_to_expiry"] = days
        return out

    def _days_to_expiry(self) -> int | None:
        assert self.unit is not None
        expiry = self.unit.get("expiry")
        if not expiry:
            lot = self._lot_record()
            expiry = lot.get("expiration_date") if lot else None
        if not expiry:
            return None
        return (date.fromisoformat(expiry) - self.desk.today()).days

    def _answers(self) -> dict[str, Answer]:
        assert self.unit is not None
        return {**self._derived(), **self.unit["answers"]}

    def _facts(self) -> Facts:
        assert self.unit is not None
        product = self.desk.store.product(self.unit["product_id"])
        ret = self.the_return()
        days = self._days_to_expiry()
        lot = self._lot_record()
        return Facts(
            family=product["family"],
            grade=self.unit.get("grade") or "",
            checklist=self._answers(),
            unit_value=float(product.get("unit_value") or 0.0),
            days_to_expiry=days,
            reason=ret.get("reason") if ret else None,
            lot_expired=days is not None and days < 0,
            lot_recalled=bool(lot and lot.get("recalled")),
        )

    def _still_needed(self) -> list[str]:
        assert self.unit is not None
        product = self.desk.store.product(self.unit["product_id"])
        spec = family(product["family"])
        needed = []
        more = spec.photos_required - len(self.unit["photos"])
        if more > 0:
            needed.append(f"{more} more photo(s)")
        if not self.unit.get("grade"):
            needed.append("a grade")
        answers = self._answers()
        for item in spec.checklist:
            if answers.get(item.name) is None and not (
                item.kind == "days" and not product.get("lot_tracked")
            ):
                needed.append(f"answer: {item.question}")
        return needed

    def _decision(self) -> Decision | None:
        if self.unit is None or not self.unit.get("grade"):
            return None
        return self.desk.rules.decide(self._facts(), chosen=self.unit.get("chosen"))

    def cancel(self) -> Accepted:
        if self.unit is not None:
            name = self.unit["name"]
            self.unit = None
            return Accepted(
                f"inspection of {name} cancelled: nothing was sent; its photos are kept on the station"
            )
        label = self.subject() or "inspection"
        self.return_id, self.finished = None, []
        return Accepted(f"{label} closed")

    def confirm(self, reason: str | None) -> Outcome:
        if self.unit is None:
            return self._no_unit()
        needed = self._still_needed()
        if needed:
            return Refusal("incomplete", f"{self.unit['name']} needs " + ", ".join(needed))
        ret = self.the_return()
        assert ret is not None
        decision = self._decision()
        assert decision is not None
        facts = self._facts()
        unit = self.unit
        photo_ops = [
            self.desk.operation(
                "upload_photo", {"sha256": p["sha256"], "mime": p["mime"], "return_id": ret["id"]}
            )
            for p in unit["photos"]
        ]
        depends = [op.id for op in photo_ops]
        receipt = self._receipt_here(ret["id"])
        if receipt is not None:
            depends.append(receipt["id"])
        note = (reason or "").strip() or None
        checklist = {k: v for k, v in self._answers().items() if v is not None}
        inspect = self.desk.operation(
            "inspect_item",
            {
                "return_id": ret["id"],
                "product_id": unit["product_id"],
                "quantity": 1,
                "lot": unit.get("serial") or unit.get("lot"),
                "serial": unit.get("serial"),
                "grade": unit["grade"],
                "checklist": checklist,
                "photos": [p["sha256"] for p in unit["photos"]],
                "disposition": decision.disposition,
                "rule_id": decision.rule_id,
                "rules_version": decision.rules_version,
                "refund": decision.refund_payload,
                "approval_required": decision.approval_required,
                "note": note,
            },
            depends_on=depends,
        )
        ops = [*photo_ops, inspect]
        if decision.approval_required:
            ident = unit.get("serial") or unit.get("lot")
            summary = (
                f"{ret['rma']}: {unit['name']}{f' ({ident})' if ident else ''}, grade {unit['grade']} → "
                f"{DISPOSITION_LABELS[decision.disposition]}, refund {decision.refund}"
            )
            ops.append(
                self.desk.operation(
                    "request_approval",
                    {
                        "request_id": str(uuid.uuid4()),
                        "kind": decision.approval_kind,
                        "subject_op": inspect.id,
                        "return_id": ret["id"],
                        "shipment_id": None,
                        "product_id": unit["product_id"],
                        "reason": "; ".join(decision.approval_reasons) + (f" — {note}" if note else ""),
                        "summary": summary,
                        "value": facts.unit_value,
                        "rule_id": decision.rule_id,
                        "evidence": [p["sha256"] for p in unit["photos"]],
                    },
                    depends_on=[inspect.id],
                )
            )
        self.desk.queue(ops, f"inspected {unit['name']} of {ret['rma']}")
        words = f"{unit['name']}: {decision.describe()}"
        self.finished.append(words)
        self.unit = None
        left = self._waiting(ret)
        if left:
            words += ". Scan the next unit."
        else:
            words += f". {ret['rma']} is fully inspected."
            self.return_id = None
        return Accepted(words, operations=tuple(ops))

    def view(self) -> TaskView:
        ret = self.the_return()
        if ret is None:
            return TaskView(
                kind=self.kind,
                title="Inspect and grade",
                subject=None,
                finished=tuple(self.finished),
                prompt="Scan a received return's label, or a unit from it",
            )
        received, inspected = self._received(ret), self._inspected(ret["id"])
        lines = []
        for pid, qty in received.items():
            product = self.desk.store.product(pid)
            done = inspected.get(pid, 0)
            lines.append(
                LineView(
                    key=str(pid),
                    product=product["name"] if product else str(pid),
                    sku=product["code"] if product else "",
                    expected=qty,
                    scanned=done,
                    outcome="inspected" if done >= qty else "waiting",
                    lot=self._sold(ret, pid),
                    message=f"{done:g} of {qty:g} inspected",
                )
            )
        unit_view = None
        if self.unit is not None:
            product = self.desk.store.product(self.unit["product_id"])
            spec = family(product["family"])
            answers = self._answers()
            derived = self._derived()
            checks = tuple(
                CheckView(
                    i.name,
                    i.question,
                    i.kind,
                    i.choices,
                    answers.get(i.name),
                    i.good,
                    i.derived and i.name in derived,
                )
                for i in spec.checklist
            )
            needed = tuple(self._still_needed())
            unit_view = UnitView(
                product=product["name"],
                sku=product["code"],
                family=spec.name,
                unit_value=float(product.get("unit_value") or 0.0),
                lot=self.unit.get("lot"),
                serial=self.unit.get("serial"),
                expiry=self.unit.get("expiry") or ((self._lot_record() or {}).get("expiration_date")),
                photos=tuple(p["sha256"] for p in self.unit["photos"]),
                photos_required=spec.photos_required,
                grade=self.unit.get("grade"),
                checklist=checks,
                decision=self._decision(),
                chosen=self.unit.get("chosen"),
                still_needed=needed,
            )
            prompt = "Confirm the disposition" if not needed else "Still needed: " + ", ".join(needed)
        else:
            prompt = "Scan the next unit of this return"
        decision = unit_view.decision if unit_view else None
        return TaskView(
            kind=self.kind,
            title=f"Inspect {ret['rma']} ({ret['number']}) — reason: {ret.get('reason')}",
            subject=ret["rma"],
            prompt=prompt,
            lines=tuple(lines),
            unit=unit_view,
            finished=tuple(self.finished),
            can_confirm=bool(unit_view and not unit_view.still_needed),
            confirm_label="Confirm and ask a supervisor"
            if decision and decision.approval_required
            else "Confirm disposition",
        )


# ==================================================================================================
class PackTask(Task):
    """Scan an order's pick list (shipment or order number), then every unit packed; confirm when
    complete, or short with a reason (a supervisor approves it)."""

    kind = "pack"

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self.shipment_id: int | None = None
        self.items: list[ScannedItem] = []
        self.next_seq = 1
        self.awaiting_serial: int | None = None

    def to_draft(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "shipment_id": self.shipment_id,
            "items": [i.to_dict() for i in self.items],
            "next_seq": self.next_seq,
            "awaiting_serial": self.awaiting_serial,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self.shipment_id = data.get("shipment_id")
        self.items = [ScannedItem.from_dict(i) for i in data.get("items", [])]
        self.next_seq = int(data.get("next_seq", len(self.items) + 1))
        self.awaiting_serial = data.get("awaiting_serial")

    def has_progress(self) -> bool:
        return bool(self.items)

    def the_shipment(self) -> Shipment | None:
        return self.desk.store.shipment(self.shipment_id) if self.shipment_id is not None else None

    def subject(self) -> str | None:
        shipment = self.the_shipment()
        return shipment["number"] if shipment else None

    def _open(self, shipment: Shipment) -> Outcome:
        number = shipment["number"]
        if shipment["state"] in ("packed", "shipped", "done"):
            return Refusal("already_packed", f"order {number} is already {shipment['state']}")
        if shipment["state"] == "cancelled":
            return Refusal("cancelled", f"order {number} was cancelled: do not pack it")
        if shipment["state"] == "waiting":
            return Refusal("not_ready", f"order {number} is waiting for stock: it cannot be packed yet")
        if any(op["payload"].get("shipment_id") == shipment["id"] for op in self.desk.queued("confirm_pack")):
            return Refusal("already_packed", f"order {number} was already packed at this station")
        self.shipment_id = shipment["id"]
        units = sum(float(line["quantity"]) for line in shipment["lines"])
        return Accepted(f"order {number} for {shipment['customer']}: pack {units:g} item(s). Scan each item.")

    def scan(self, code: ScannedCode) -> Outcome:
        store = self.desk.store
        shipment = self.the_shipment()
        if shipment is None:
            found = store.find_shipment(code.data) or store.find_shipment(code.text)
            if found is None:
                return Refusal(
                    "unknown_order",
                    f"no order to pack matches {code.text}: scan the pick list's shipment or order number",
                )
            return self._open(found)
        product = lookup_product(self.desk, code)
        if product is None:
            awaiting = next((i for i in self.items if i.seq == self.awaiting_serial), None)
            if awaiting is not None and not code.gtin and not code.problem:
                return self._attach_serial(awaiting, code.data)
            other = store.find_shipment(code.data)
            if other is not None and other["id"] != shipment["id"]:
                return Refusal(
                    "other_order",
                    f"another order's pick list: packing {shipment['number']}, scanned "
                    f"{other['number']}. Confirm or cancel {shipment['number']} first",
                )
            if refusal := unreadable(code):
                return refusal
        item = item_from(self.next_seq, code, product)
        lot_number = item.serial or item.lot
        lot = store.lot(product["id"], lot_number) if product and lot_number else None
        refusal = check_unit(
            shipment,
            self.items,
            item,
            product=product,
            lot=lot,
            today=self.desk.today(),
            min_days_to_expiry=self.desk.rules.current.pack_min_days_to_expiry,
            name_of=lambda pid: product_name(self.desk, pid),
        )
        if refusal is not None:
            return refusal
        self.items.append(item)
        self.next_seq += 1
        self.awaiting_serial = (
            item.seq if (product and product.get("serial_tracked") and not item.serial) else None
        )
        return Accepted(
            self._progress(item.product_id)
            + (" — scan its serial label" if self.awaiting_serial == item.seq else "")
        )

    def _attach_serial(self, item: ScannedItem, serial: str) -> Outcome:
        if any(i.serial == serial for i in self.items):
            return Refusal("duplicate_serial", f"duplicate serial: {serial} is already in this parcel")
        updated = ScannedItem(item.seq, item.barcode, item.product_id, item.lot, serial, item.expiry)
        self.items = [updated if i.seq == item.seq else i for i in self.items]
        self.awaiting_serial = None
        return Accepted(f"serial {serial} recorded for {product_name(self.desk, item.product_id)}")

    def _progress(self, product_id: int | None) -> str:
        shipment = self.the_shipment()
        assert shipment is not None
        needed = sum(float(ln["quantity"]) for ln in shipment["lines"] if ln["product_id"] == product_id)
        packed = sum(1 for i in self.items if i.product_id == product_id)
        left = sum(ln.short for ln in packed_lines(shipment, self.items))
        tail = "order complete: confirm the pack" if not left else f"{left:g} item(s) to go"
        return f"{product_name(self.desk, product_id)}: {packed} of {needed:g}; {tail}"

    def undo(self) -> Outcome:
        if not self.items:
            return Refusal("nothing_to_undo", "nothing packed yet")
        item = self.items.pop()
        self.awaiting_serial = None
        return Accepted(f"took back the last scan ({item.barcode}): take it out of the parcel")

    def cancel(self) -> Accepted:
        label = self.subject() or "the pack"
        self.shipment_id, self.items, self.next_seq, self.awaiting_serial = None, [], 1, None
        return Accepted(f"pack of {label} cancelled: nothing was sent; unpack the parcel")

    def confirm(self, reason: str | None) -> Outcome:
        shipment = self.the_shipment()
        if shipment is None:
            return Refusal("no_order", "scan the order's pick list first")
        lines = packed_lines(shipment, self.items)
        short = [ln for ln in lines if ln.short > 0]
        reason = (reason or "").strip() or None
        ops: list[Operation] = []
        request_id = None
        if short:
            words = ", ".join(f"{ln.short:g} × {product_name(self.desk, ln.product_id)}" for ln in short)
            if reason is None:
                return Refusal(
                    "incomplete",
                    f"order {shipment['number']} is not complete: {words} still to pack. "
                    "Scan them, or give a reason to ship it short (a supervisor must approve)",
                )
            if not self.items:
                return Refusal("empty", f"nothing packed for {shipment['number']}: scan the items first")
            request_id = str(uuid.uuid4())
        pack = self.desk.operation(
            "confirm_pack",
            pack_payload(
                shipment, lines, short_reason=reason if short else None, approval_request=request_id
            ),
        )
        if request_id is not None:
            request = self.desk.operation(
                "request_approval",
                {
                    "request_id": request_id,
                    "kind": "short_pack",
                    "subject_op": pack.id,
                    "return_id": None,
                    "shipment_id": shipment["id"],
                    "product_id": None,
                    "reason": f"short pack: {words} — {reason}",
                    "summary": f"order {shipment['number']} for {shipment['customer']} "
                    f"shipped short: {words}",
                    "value": None,
                    "rule_id": None,
                    "evidence": [],
                },
            )
            pack = Operation(**{**pack.__dict__, "depends_on": (request.id,)})
            ops = [request, pack]
        else:
            ops = [pack]
        self.desk.queue(ops, f"packed {shipment['number']}")
        number = shipment["number"]
        self.shipment_id, self.items, self.next_seq, self.awaiting_serial = None, [], 1, None
        if short:
            return Accepted(
                f"order {number} packed short ({reason}): waiting for a supervisor's approval",
                operations=tuple(ops),
                warning=True,
            )
        return Accepted(
            f"order {number} packed and confirmed. Scan the next pick list.", operations=tuple(ops)
        )

    def view(self) -> TaskView:
        shipment = self.the_shipment()
        if shipment is None:
            return TaskView(
                kind=self.kind,
                title="Pack an order",
                subject=None,
                prompt="Scan the pick list's shipment or order number",
            )
        lines = []
        for ln in packed_lines(shipment, self.items):
            product = self.desk.store.product(ln.product_id)
            lines.append(
                LineView(
                    key=str(ln.move_id),
                    product=product["name"] if product else str(ln.product_id),
                    sku=product["code"] if product else "",
                    expected=ln.quantity,
                    scanned=ln.packed,
                    outcome="packed" if not ln.short else "open",
                    lot=ln.lot_required,
                    lots_scanned=tuple(i.serial or i.lot for i in ln.items if i.serial or i.lot),
                    message=f"{ln.packed} of {ln.quantity:g}",
                )
            )
        complete = all(line.outcome == "packed" for line in lines)
        return TaskView(
            kind=self.kind,
            title=f"Order {shipment['number']} — {shipment['customer']}",
            subject=shipment["number"],
            prompt="Order complete: confirm the pack" if complete else "Scan each item as you pack it",
            lines=tuple(lines),
            can_confirm=True,
            confirm_needs_reason=not complete,
            confirm_label="Confirm pack" if complete else "Ship short (needs a supervisor)",
        )


# ==================================================================================================
class SuperviseTask(Task):
    """Approval requests waiting for a decision; approve or refuse each with a note."""

    kind = "supervise"

    def _pending(self):
        store = self.desk.store
        decided = [op["payload"]["request_id"] for op in self.desk.queued("decide_approval")]
        return pending_approvals(store.approvals("pending"), self.desk.queued("request_approval"), decided)

    def _subjects(self, approval) -> set[str]:
        store = self.desk.store
        names: set[str] = set()
        if approval.get("return_id") is not None:
            ret = store.return_(approval["return_id"])
            if ret:
                names |= {v for v in (ret["rma"], ret["number"], ret.get("order"), ret.get("tracking")) if v}
        if approval.get("shipment_id") is not None:
            shipment = store.shipment(approval["shipment_id"])
            if shipment:
                names |= {v for v in (shipment["number"], shipment.get("order")) if v}
        return names

    def scan(self, code: ScannedCode) -> Outcome:
        pending = [a for a, _ in self._pending()]
        subjects = {a["request_id"]: self._subjects(a) for a in pending}
        found = find_request(pending, code.data, subjects)
        if isinstance(found, Refusal):
            return found
        return Accepted(f"{found['summary']} — {found['reason']}")

    def decide(self, ref: str, decision: str, note: str) -> Outcome:
        pairs = self._pending()
        pending = [a for a, _ in pairs]
        synced = {a["request_id"]: s for a, s in pairs}
        subjects = {a["request_id"]: self._subjects(a) for a in pending}
        found = find_request(pending, ref, subjects)
        if isinstance(found, Refusal):
            return found
        why = why_cannot_decide(found, self.desk.person)
        if why:
            return Refusal("cannot_decide", why)
        note = (note or "").strip()
        if decision == "refuse" and not note:
            return Refusal("note_needed", "say why you refuse: a note is needed")
        depends = []
        if not synced[found["request_id"]]:
            depends = [
                op["id"]
                for op in self.desk.queued("request_approval")
                if op["payload"]["request_id"] == found["request_id"]
            ]
        op = self.desk.operation(
            "decide_approval",
            {"request_id": found["request_id"], "decision": decision, "note": note or None},
            depends_on=depends,
        )
        self.desk.queue([op], f"{decision}d approval {found['request_id']}")
        verb = "approved" if decision == "approve" else "refused"
        return Accepted(f"{verb}: {found['summary']}", operations=(op,))

    def view(self) -> TaskView:
        approvals = []
        for approval, synced in self._pending():
            why = why_cannot_decide(approval, self.desk.person)
            approvals.append(
                ApprovalView(
                    request_id=approval["request_id"],
                    kind=approval["kind"],
                    state=approval["state"],
                    requested_by=approval["requested_by"],
                    requested_at=approval["requested_at"],
                    station=approval["station"],
                    reason=approval["reason"],
                    summary=approval["summary"],
                    value=approval.get("value"),
                    rule_id=approval.get("rule_id"),
                    evidence=tuple(approval.get("evidence") or ()),
                    can_decide=why is None,
                    why_not=why,
                    synced=synced,
                )
            )
        prompt = (
            f"{len(approvals)} approval request(s) waiting" if approvals else "No approval request is waiting"
        )
        return TaskView(
            kind=self.kind,
            title="Supervise: approvals",
            subject=None,
            prompt=prompt,
            approvals=tuple(approvals),
        )


TASKS: dict[str, type[Task]] = {t.kind: t for t in (ReceiveTask, InspectTask, PackTask, SuperviseTask)}
