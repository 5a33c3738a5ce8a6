"""Packing an order: every unit scanned is checked against the order; confirm when complete or short."""

from __future__ import annotations

import uuid

from app.workflows.packing import check_unit, pack_payload, packed_lines
from app.workflows.priority import by_urgency, late_count, not_packed_here, order_view
from app.workflows.receiving import ScannedItem
from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.scanning import ScannedCode
from app.workflows.tasks.base import UnitScanTask, lookup_product, product_name, unreadable
from app.workflows.views import (
    LineView,
    TaskView,
)
from sync.operations import Operation
from sync.progress import PACKED
from sync.reference import Shipment


class PackTask(UnitScanTask):
    """Scan an order's pick list (shipment or order number), then every unit packed; confirm when
    complete, or short with a reason (a supervisor approves it)."""

    kind = "pack"

    subject_key = "shipment_id"

    def the_shipment(self) -> Shipment | None:
        return self.desk.store.shipment(self.subject_id) if self.subject_id is not None else None

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
        packed_here = self._packed_here(shipment)
        if isinstance(packed_here, Refusal):
            return packed_here
        self.subject_id = shipment["id"]
        units = sum(float(line["quantity"]) for line in shipment["lines"])
        opened = f"order {number} for {shipment['customer']}: pack {units:g} item(s). Scan each item."
        return Accepted(packed_here + opened, warning=bool(packed_here))

    def _packed_here(self, shipment: Shipment) -> Refusal | str:
        """Whether this station packed the order already: a Refusal if it did (complete, or short and
        not refused), else what the packer is told first ("" if never packed here; the refusal's words
        if the supervisor refused its short pack, which the ERP then never shipped)."""
        number = shipment["number"]
        packs = [row for row in self.desk.progress(PACKED, shipment["id"]) if not row["line"]]
        if not packs:
            return ""
        request_id = (packs[-1]["data"] or {}).get("approval_request")
        if not request_id:
            return Refusal("already_packed", f"order {number} was already packed at this station")
        approval = self.desk.store.approval(request_id)
        if approval is None or approval["state"] == "pending":  # not pulled yet is not decided yet
            return Refusal(
                "awaiting_approval",
                f"order {number} was packed short at this station and is waiting for a supervisor's "
                "decision: it cannot be packed again until then",
            )
        if approval["state"] != "refused":
            return Refusal(
                "already_packed", f"order {number} was already packed at this station (short, approved)"
            )
        note = (approval.get("note") or "").strip()
        return (
            f"{approval.get('decided_by') or 'a supervisor'} refused shipping {number} short"
            + (f": '{note}'" if note else "")
            + "; pack it again — "
        )

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
            awaiting = self._awaiting()
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
        item = self._new_item(code, product)
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
        self._add(item, product)
        return Accepted(
            self._progress(item.product_id)
            + (" — scan its serial label" if self.awaiting_serial == item.seq else "")
        )

    def _attach_serial(self, item: ScannedItem, serial: str) -> Outcome:
        if any(i.serial == serial for i in self.items):
            return Refusal("duplicate_serial", f"duplicate serial: {serial} is already in this parcel")
        self._give_serial(item, serial)
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
        item = self._take_back()
        if item is None:
            return Refusal("nothing_to_undo", "nothing packed yet")
        return Accepted(f"took back the last scan ({item.barcode}): take it out of the parcel")

    def cancel(self) -> Accepted:
        label = self.subject() or "the pack"
        self._reset()
        return Accepted(f"pack of {label} cancelled: nothing was sent; unpack the parcel")

    def confirm(self, reason: str | None) -> Outcome:
        shipment = self.the_shipment()
        if shipment is None:
            return Refusal("no_order", "scan the order's pick list first")
        no_serial = [i for i in self.items if not i.serial and self._serial_tracked(i.product_id)]
        if no_serial:
            # The serial shipped is what a return of this unit is checked against later.
            names = ", ".join(sorted({product_name(self.desk, i.product_id) for i in no_serial}))
            return Refusal(
                "serial_needed",
                f"scan the serial label of {names}: {len(no_serial)} unit(s) packed without one",
            )
        packed_here = self._packed_here(shipment)
        if isinstance(packed_here, Refusal):  # another tab, or before a restart, confirmed it
            self._reset()
            return Refusal(
                packed_here.code,
                packed_here.message
                + " (confirmed in another tab or before a restart): nothing was queued again",
            )
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
        self._reset()
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
            now = self.desk.now()
            waiting = by_urgency(not_packed_here(self.desk.store), now)
            late = late_count(waiting, now)
            return TaskView(
                kind=self.kind,
                title="Pack an order",
                subject=None,
                prompt="Scan the pick list's shipment or order number"
                + (f" — {late} late order(s) first" if late else ""),
                orders=tuple(order_view(s, now) for s in waiting),
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
