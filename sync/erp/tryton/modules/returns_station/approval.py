"""Approval requests raised at stations and decided by a supervisor (pulled as reference ``approvals``).

Written only by the ``request_approval`` and ``decide_approval`` operations (handlers/); every
station pulls them by ``write_date`` so any supervisor can decide a request raised anywhere.

A request is a Tryton ``Workflow``: its states and the moves between them are the data in
``TRANSITIONS``; ``approve`` / ``refuse`` are the only ways out of ``pending``, and a move the
table does not hold is refused with both states named (Tryton's own ``Workflow.transition``
would skip it silently).
"""

from functools import wraps

from trytond.model import ModelSQL, ModelView, Unique, Workflow, fields

from .exceptions import IllegalTransition

STATES = [("pending", "Pending"), ("approved", "Approved"), ("refused", "Refused")]
KINDS = [
    ("disposition", "Disposition"),
    ("write_off", "Write-off"),
    ("override", "Override"),
    ("short_pack", "Short pack"),
]
# (from, to): every move a request may make. Decided requests stay decided.
TRANSITIONS = frozenset({("pending", "approved"), ("pending", "refused")})


def transition(state):
    """``Workflow.transition(state)``, except that a record which cannot move to ``state`` is
    refused (IllegalTransition naming both states) instead of silently left where it was."""

    def decorator(func):
        moved = Workflow.transition(state)(func)

        @wraps(func)
        def wrapper(cls, records, *args, **kwargs):
            for record in records:
                current = getattr(record, cls._transition_state)
                if (current, state) not in cls._transitions:
                    raise IllegalTransition(
                        f"approval request {record.rec_name} cannot go from {current} to {state}"
                    )
            return moved(cls, records, *args, **kwargs)

        return wrapper

    return decorator


class Approval(Workflow, ModelSQL, ModelView):
    "Station Approval Request"

    __name__ = "returns.station.approval"
    _rec_name = "request_id"

    request_id = fields.Char("Request", required=True, readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    subject_op = fields.Char(
        "Subject Operation",
        readonly=True,
        help="The station operation (inspect_item, confirm_pack) this request gates.",
    )
    requested_by = fields.Char("Requested By", required=True, readonly=True, help="The requester's badge.")
    requested_at = fields.Char("Requested At", readonly=True, help="Station clock, UTC.")
    station = fields.Char("Station", readonly=True)
    reason = fields.Text("Reason", readonly=True)
    summary = fields.Text("Summary", readonly=True)
    value = fields.Float("Value", readonly=True)
    rule_id = fields.Char("Rule", readonly=True)
    return_shipment = fields.Many2One(
        "stock.shipment.out.return", "Return", readonly=True, ondelete="SET NULL"
    )
    shipment = fields.Many2One("stock.shipment.out", "Shipment", readonly=True, ondelete="SET NULL")
    product = fields.Many2One("product.product", "Product", readonly=True, ondelete="SET NULL")
    evidence = fields.Text("Evidence", readonly=True, help="Photo hashes, one per line.")
    decided_by = fields.Char("Decided By", readonly=True)
    decided_at = fields.Char("Decided At", readonly=True)
    note = fields.Text("Note", readonly=True)
    held_pack = fields.Text(
        "Held Pack",
        readonly=True,
        help="The confirm_pack payload (JSON) waiting on this short-pack approval: packed when approved.",
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("request_unique", Unique(t, t.request_id), "Each approval request is recorded once."),
        ]
        cls._order = [("write_date", "ASC NULLS FIRST"), ("id", "ASC")]
        cls._transitions |= TRANSITIONS

    @staticmethod
    def default_state():
        return "pending"

    @classmethod
    @transition("approved")
    def approve(cls, approvals):
        pass

    @classmethod
    @transition("refused")
    def refuse(cls, approvals):
        pass

    def to_reference(self) -> dict:
        """The ``sync.reference.Approval`` shape of this request."""
        changed = self.write_date or self.create_date
        return {
            "request_id": self.request_id,
            "kind": self.kind,
            "state": self.state,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at,
            "station": self.station,
            "reason": self.reason or "",
            "summary": self.summary or "",
            "value": self.value,
            "rule_id": self.rule_id,
            "return_id": self.return_shipment.id if self.return_shipment else None,
            "shipment_id": self.shipment.id if self.shipment else None,
            "product_id": self.product.id if self.product else None,
            "evidence": [line for line in (self.evidence or "").splitlines() if line],
            "decided_by": self.decided_by,
            "note": self.note,
            "write_date": str(changed) if changed else "",
        }
