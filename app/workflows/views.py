"""View models: what a screen shows of the current task, and what replay prints.

Plain frozen dataclasses built by :meth:`StationSession.view`; a screen renders them and never
computes anything itself. Each row has a stable ``key`` for list controls."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from app.workflows.results import Accepted, Refusal
from sync.common.families import Answer
from sync.common.rules import Decision


@dataclass(frozen=True)
class LineView:
    """One expected line: a return's line (receive, inspect) or an order's line (pack).

    ``outcome``: receive ``matched | partial | missing``; pack ``packed | open``; inspect
    ``inspected | waiting``."""

    key: str
    product: str
    sku: str
    expected: float
    scanned: float
    outcome: str
    lot: str | None = None
    lots_scanned: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class ExtraView:
    """A scanned item that is not on an expected line: ``quantity_over | wrong_item | wrong_lot |
    unknown_barcode`` (receive) — recorded, shown amber, sent to the ERP."""

    key: str
    barcode: str
    product: str | None
    outcome: str
    message: str


@dataclass(frozen=True)
class CheckView:
    name: str
    question: str
    kind: str  # yes_no | choice | days
    choices: tuple[str, ...]
    answer: Answer
    good: Answer
    derived: bool


@dataclass(frozen=True)
class UnitView:
    """The unit being inspected, and what is still needed before it can be confirmed."""

    product: str
    sku: str
    family: str
    unit_value: float
    lot: str | None
    serial: str | None
    expiry: str | None
    photos: tuple[str, ...]
    photos_required: int
    grade: str | None
    checklist: tuple[CheckView, ...]
    decision: Decision | None
    chosen: str | None
    still_needed: tuple[str, ...]


@dataclass(frozen=True)
class ApprovalView:
    request_id: str
    kind: str
    state: str
    requested_by: str
    requested_at: str
    station: str
    reason: str
    summary: str
    value: float | None
    rule_id: str | None
    evidence: tuple[str, ...]
    can_decide: bool
    why_not: str | None = None
    synced: bool = True  # False: requested at this station, not yet in the ERP


@dataclass(frozen=True)
class OrderView:
    """An order waiting to be packed (app.workflows.priority): ``late`` when past its due time;
    ``ready`` False while it waits for stock; ``label`` says all of it in words (its accessible
    name), "LATE" included, so the mark is never colour alone."""

    key: str
    number: str
    order: str | None
    customer: str
    service_class: str
    due_at: str | None
    late: bool
    ready: bool
    units: float
    label: str


@dataclass(frozen=True)
class TaskView:
    """The current task as a screen shows it. ``prompt`` says what to do next in a worker's words;
    ``last`` is the feedback of the last action (green ``Accepted``, amber when ``warning``, red
    ``Refusal``); ``refusals`` are this task's recent refusals, newest last."""

    kind: str
    title: str
    subject: str | None
    prompt: str
    lines: tuple[LineView, ...] = ()
    extras: tuple[ExtraView, ...] = ()
    unit: UnitView | None = None
    approvals: tuple[ApprovalView, ...] = ()
    orders: tuple[OrderView, ...] = ()  # Pack with no order open: the waiting orders, most urgent first
    finished: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    last: Accepted | Refusal | None = None
    can_confirm: bool = False
    confirm_needs_reason: bool = False
    confirm_label: str = "Confirm"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (replay --json, debugging)."""
        data = asdict(self)
        if self.last is not None:
            data["last"] = {
                "ok": self.last.ok,
                "message": self.last.message,
                "code": getattr(self.last, "code", None),
            }
        data["refusals"] = [{"code": r.code, "message": r.message} for r in self.refusals]
        return data
