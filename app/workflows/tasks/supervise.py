"""Supervising: approval requests waiting for a decision."""

from __future__ import annotations

from app.workflows.approvals import find_request, pending_approvals, why_cannot_decide
from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.scanning import ScannedCode
from app.workflows.tasks.base import Task
from app.workflows.views import (
    ApprovalView,
    TaskView,
)
from sync.progress import ASKED, DECIDED


class SuperviseTask(Task):
    """Approval requests waiting for a decision; approve or refuse each with a note."""

    kind = "supervise"

    def _pending(self):
        store = self.desk.store
        decided = [row["subject"] for row in self.desk.progress(DECIDED)]
        asked = [row["data"]["operation"] for row in self.desk.progress(ASKED)]
        return pending_approvals(store.approvals("pending"), asked, decided)

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
            depends = [row["op_id"] for row in self.desk.progress(ASKED, found["request_id"])]
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
