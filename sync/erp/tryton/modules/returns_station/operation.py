"""Exactly-once application of station operations inside the ERP: the marker and the dispatcher.

``returns.station.operation`` holds one row per applied operation id (the marker). Its RPC method
``apply_batch(operations)`` applies each operation in its own savepoint of the ONE transaction
Tryton gives the call: marker check, the effect (the handler registered for the operation's
type and version in handlers/__init__.py), the marker write. A re-sent batch (its response was
lost) finds every marker and changes nothing: each result says ``already``.

Each result is ``{"id", "status", "message", "refs"}`` where ``status`` is one of
``applied`` / ``already`` / ``conflict`` (the ERP's state moved: another station did it) /
``rejected`` (the ERP refuses this payload; ``message`` says why in its words) / ``skipped``
(a dependency in the same batch did not apply; nothing was tried).

A handler that fails in any other way (a payload it cannot read, a bug it trips on) has its
savepoint rolled back and is answered ``rejected`` with the error's type and message (the
traceback goes to the ERP's log only): one poison operation never fails the batch. A fault of the
database itself (locked, serialization failure, timeout, a transaction Tryton must restart) is
not the operation's fault: it fails the whole call, Tryton retries it, and the station re-sends
the batch later if it still fails.

``pull(cursors)`` returns the ``sync.reference`` shapes changed since each cursor (pull.py).
"""

import json
import logging

from trytond import backend
from trytond.exceptions import TimeOutException, UserError, UserWarning
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import ValidationError
from trytond.model.modelview import ButtonActionException
from trytond.rpc import RPC
from trytond.transaction import Transaction, TransactionError

from . import lookups, trust
from . import pull as reference
from .access import check_station_caller
from .exceptions import StationConflict
from .handlers import handler_for
from .savepoint import open_savepoint, release, rollback_to

logger = logging.getLogger(__name__)
# Faults of the database or of Tryton's transaction, not of the operation: the call fails (and
# Tryton retries it) rather than the operation being refused.
TRANSIENT = (
    backend.DatabaseOperationalError,
    backend.DatabaseTimeoutError,
    TimeOutException,
    TransactionError,
)
MESSAGE_LIMIT = 300


class Operation(ModelSQL, ModelView):
    "Station Operation"

    __name__ = "returns.station.operation"
    _rec_name = "operation_id"

    operation_id = fields.Char("Operation", required=True, readonly=True)
    type = fields.Char("Type", required=True, readonly=True)
    version = fields.Integer("Version", readonly=True)
    station = fields.Char("Station", readonly=True)
    user_badge = fields.Char("User", readonly=True)
    created_at = fields.Char("Created At", readonly=True, help="Station clock, UTC.")
    result = fields.Text("Result", readonly=True)
    payload_hash = fields.Char(
        "Payload Hash", readonly=True, help="sha256 of what was applied (trust.payload_hash)."
    )
    edited_by = fields.Char("Edited By", readonly=True, help="The supervisor who edited it at a station.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("operation_unique", Unique(t, t.operation_id), "Each station operation is applied once."),
        ]
        # Station users hold no right on any model (access.py): the calls are not checked against
        # model rights, they check their caller (check_station_caller) and act as the module.
        cls.__rpc__.update(
            {
                "apply_batch": RPC(readonly=False, check_access=False),
                "pull": RPC(readonly=True, check_access=False),
            }
        )

    @classmethod
    def apply_batch(cls, operations):
        """Apply each ``{"operation": {...}, "photo": base64 | None}`` once; one result per item.

        An id the ERP applied before answers ``already`` when its payload is the same, and
        ``conflict`` naming both fingerprints when it is not (an edited copy is never applied)."""
        check_station_caller("apply_batch")
        token = lookups.BATCH_REFS.set({})
        try:
            return cls._apply_batch(operations)
        finally:
            lookups.BATCH_REFS.reset(token)

    @classmethod
    def _apply_batch(cls, operations):
        cursor = Transaction().connection.cursor()
        ids = [item["operation"]["id"] for item in operations]
        markers = {m.operation_id: m for m in cls.search([("operation_id", "in", ids)])} if ids else {}
        results = []
        new_markers = []
        not_applied = set()
        batch_refs = lookups.BATCH_REFS.get()
        for index, item in enumerate(operations):
            op = item["operation"]
            fingerprint = trust.payload_hash(op)
            if op["id"] in markers:
                marker = markers[op["id"]]
                if marker.payload_hash and marker.payload_hash != fingerprint:
                    message = trust.clash(op["id"], marker.payload_hash, fingerprint)
                    results.append(_result(op, "conflict", message))
                    continue
                refs = json.loads(marker.result or "{}")
                results.append(_result(op, "already", refs=refs))
                continue
            if any(dep in not_applied for dep in op.get("depends_on") or ()):
                not_applied.add(op["id"])
                results.append(_result(op, "skipped"))
                continue
            savepoint = f"station_op_{index}"
            open_savepoint(cursor, savepoint)
            try:
                refs = cls._apply_one(op, item.get("photo"))
            except TRANSIENT:
                raise
            except Exception as exc:
                answer = _answer(exc)
                if not isinstance(exc, (UserError, UserWarning, ButtonActionException)):
                    # Not a refusal the module meant: its traceback for whoever runs the ERP.
                    logger.warning(
                        "station operation %s (%s) failed", op.get("id"), op.get("type"), exc_info=True
                    )
                rollback_to(cursor, savepoint)
                not_applied.add(op["id"])
                results.append(_result(op, *answer))
                continue
            release(cursor, savepoint)
            batch_refs[op["id"]] = refs
            # The markers are written together at the end of the batch, in this same transaction:
            # they commit with the effects or not at all. The unique operation_id makes a
            # concurrent second apply of the same id fail (and roll back) as a whole.
            new_markers.append(
                {
                    "operation_id": op["id"],
                    "type": op["type"],
                    "version": op.get("version", 1),
                    "station": op.get("station"),
                    "user_badge": op.get("user"),
                    "created_at": op.get("created_at"),
                    "result": json.dumps(refs, sort_keys=True, default=str),
                    "payload_hash": fingerprint,
                    "edited_by": op.get("edited_by"),
                }
            )
            results.append(_result(op, "applied", refs=refs))
        if new_markers:
            with Transaction().set_context(_check_access=False):
                cls.create(new_markers)
        return results

    @staticmethod
    def _apply_one(op, photo):
        handler = handler_for(op["type"], op.get("version", 1))
        # The person at the station already confirmed what they did: the ERP's warnings (moves
        # without an origin, …) have nobody to answer them here. The station's ERP user may call
        # this model; the effects are the module's own (buttons of quality and stock run without
        # the user's button groups).
        with Transaction().set_context(_skip_warnings=True, _check_access=False):
            # Whatever the payload says: a real, active person with the role for this type (and
            # a supervisor for an edit). Handlers check the rest of what concerns them.
            trust.check_station(op)  # sent by the station its ERP login speaks for
            trust.check_people(op)
            return handler(op, photo)

    @classmethod
    def pull(cls, cursors):
        """Reference records changed since ``cursors`` ({kind: "YYYY-MM-DD HH:MM:SS.ffffff"})."""
        check_station_caller("pull")
        return reference.pull(cursors)


def _result(op, status, message=None, refs=None):
    return {"id": op["id"], "status": status, "message": message, "refs": refs or {}}


def _answer(exc):
    """``(status, message)`` for an operation whose handler raised ``exc``."""
    if isinstance(exc, StationConflict):
        return "conflict", exc.message
    if isinstance(exc, (UserError, UserWarning, ValidationError)):
        return "rejected", getattr(exc, "message", None) or str(exc)
    if isinstance(exc, ButtonActionException):
        return "rejected", "the ERP asks for a manual step (a wizard) to do this"
    if isinstance(exc, (KeyError, TypeError, ValueError)):
        # A payload this code cannot read: a person must look at it, the rest go on.
        return "rejected", f"the ERP cannot read this operation ({_brief(exc)})"
    # Anything else a handler trips on: the operation is at fault, the rest of the batch goes on.
    return "rejected", f"the ERP failed on this operation ({_brief(exc)})"


def _brief(exc):
    """``Type: message`` of ``exc``, cut to a readable length (no traceback)."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
