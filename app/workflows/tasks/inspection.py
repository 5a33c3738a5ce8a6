"""Inspecting a received return's units: photos, grade, checklist, the rules' disposition."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.scanning import ScannedCode
from app.workflows.tasks.base import (
    Desk,
    Receipt,
    Task,
    item_from,
    lookup_product,
    product_name,
    receipt_queued_here,
    unreadable,
)
from app.workflows.tasks.sorting import Sorting
from app.workflows.views import (
    CheckView,
    LineView,
    TaskView,
    UnitView,
)
from sync.common.families import Answer, family
from sync.common.rules import Decision, Facts
from sync.common.vocabulary import DISPOSITION_LABELS, DISPOSITIONS, GRADES
from sync.progress import INSPECTED, RECEIVED
from sync.reference import Product, Return


class InspectTask(Task):
    """Scan a received return's label (or an item of it), then each unit: photos, grade, checklist,
    the rules' disposition; confirm queues ``inspect_item`` (and an approval request when gated)."""

    kind = "inspect"

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self.return_id: int | None = None
        self.unit: dict[str, Any] | None = None
        self.finished: list[str] = []
        self.sorting = Sorting(desk)

    def to_draft(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "return_id": self.return_id,
            "unit": self.unit,
            "finished": self.finished,
            "sorting": self.sorting.to_draft(),
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self.return_id = data.get("return_id")
        self.unit = dict(data["unit"]) if data.get("unit") else None
        self.finished = list(data.get("finished", []))
        self.sorting.restore(data.get("sorting"))

    def has_progress(self) -> bool:
        return self.unit is not None or self.sorting.waiting is not None

    def the_return(self) -> Return | None:
        return self.desk.store.return_(self.return_id) if self.return_id is not None else None

    def subject(self) -> str | None:
        ret = self.the_return()
        return ret["rma"] if ret else None

    # --- what is waiting ---------------------------------------------------------------------
    def _receipt_here(self, return_id: int) -> Receipt | None:
        return receipt_queued_here(self.desk, return_id)

    def _received(self, ret: Return) -> dict[int, float]:
        """Units received per product: from this station's receipt when it made one, else the ERP's."""
        receipt = self._receipt_here(ret["id"])
        if receipt is not None:
            return receipt.received()
        counts: dict[int, float] = {}
        for line in ret["lines"]:
            counts[line["product_id"]] = counts.get(line["product_id"], 0) + float(line["quantity"])
        return counts

    def _inspected(self, return_id: int) -> dict[int, float]:
        counts: dict[int, float] = {}
        for row in self.desk.progress(INSPECTED, return_id):
            pid = row["data"]["product_id"]
            counts[pid] = counts.get(pid, 0) + float(row["quantity"])
        return counts

    def _serial_inspected(self, return_id: int, serial: str | None) -> bool:
        return bool(serial) and any(
            (row["data"] or {}).get("serial") == serial for row in self.desk.progress(INSPECTED, return_id)
        )

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
        sorted_ = self.sorting.scan(code)  # a tote label, or anything while a unit waits for its tote
        if sorted_ is not None:
            return sorted_
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
        for row in self.desk.progress(RECEIVED):
            if row["line"]:
                continue
            ret = self.desk.store.return_(int(row["subject"]))
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
            return receipt.lot_expected(product_id)
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

    def _unanswered(self) -> list[str]:
        """The checklist questions still without an answer (days to expiry only for lot-tracked goods)."""
        assert self.unit is not None
        product = self.desk.store.product(self.unit["product_id"])
        answers = self._answers()
        return [
            item.question
            for item in family(product["family"]).checklist
            if answers.get(item.name) is None and not (item.kind == "days" and not product.get("lot_tracked"))
        ]

    def _still_needed(self) -> list[str]:
        assert self.unit is not None
        spec = family(self.desk.store.product(self.unit["product_id"])["family"])
        needed = []
        more = spec.photos_required - len(self.unit["photos"])
        if more > 0:
            needed.append(f"{more} more photo(s)")
        if not self.unit.get("grade"):
            needed.append("a grade")
        needed.extend(f"answer: {question}" for question in self._unanswered())
        return needed

    def _decision(self) -> Decision | None:
        """The rules' decision, once the unit is graded and its checklist answered (photos are not
        an input of the rules, so the disposition shows while the inspector still takes them)."""
        if self.unit is None or not self.unit.get("grade") or self._unanswered():
            return None
        return self.desk.rules.decide(self._facts(), chosen=self.unit.get("chosen"))

    def close_tote(self) -> Outcome:
        """The "Close tote" button: the next tote label scanned is closed (sorting.py)."""
        return self.sorting.arm_close()

    def cancel(self) -> Outcome:
        if self.sorting.waiting is not None:
            return Refusal(
                "tote_needed",
                f"the {self.sorting.waiting['name']} is inspected and sent: put it in its tote "
                "(scan the tote)",
            )
        if self.sorting.closing:
            self.sorting.closing = False
            return Accepted("closing a tote cancelled")
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
        unit = self.unit
        # Re-checked inside the confirm's transaction: another tab, or this one before a crash or
        # a reload, may have confirmed this unit already.
        if unit["product_id"] not in self._waiting(ret) or self._serial_inspected(
            ret["id"], unit.get("serial")
        ):
            self.unit = None
            return Refusal(
                "already_inspected",
                f"{unit['name']} of {ret['rma']} was already confirmed at this station (in another tab, "
                "or before the station restarted): it was not queued again. Scan the next unit.",
            )
        decision = self._decision()
        assert decision is not None
        facts = self._facts()
        photo_ops = [
            self.desk.operation(
                "upload_photo", {"sha256": p["sha256"], "mime": p["mime"], "return_id": ret["id"]}
            )
            for p in unit["photos"]
        ]
        depends = [op.id for op in photo_ops]
        receipt = self._receipt_here(ret["id"])
        if receipt is not None:
            depends.append(receipt.op_id)
        note = (reason or "").strip() or None
        checklist = {k: v for k, v in self._answers().items() if v is not None}
        to_sort = self.sorting.enabled and not decision.approval_required
        inspect = self.desk.operation(
            "inspect_item",
            {
                **({"to_sort": True} if to_sort else {}),
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
        if to_sort:
            words += ". " + self.sorting.wait_for_tote(inspect.id, inspect.payload, unit["name"]) + "."
        elif left:
            words += ". Scan the next unit."
        if not left:
            words += f"{' ' if to_sort else '. '}{ret['rma']} is fully inspected."
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
                prompt=self.sorting.prompt() or "Scan a received return's label, or a unit from it",
                extra=self._sort_extra(),
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
        prompt = self.sorting.prompt() or prompt
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
            extra=self._sort_extra(),
        )

    def _sort_extra(self) -> dict[str, Any]:
        """What the screen shows of sorting: the unit waiting for a tote, the tote last filled."""
        if not self.sorting.enabled:
            return {}
        waiting = self.sorting.waiting
        return {
            "sorting": True,
            "tote_for": waiting["disposition"] if waiting else None,
            "last_tote": self.sorting.last_tote,
            "closing": self.sorting.closing,
        }
