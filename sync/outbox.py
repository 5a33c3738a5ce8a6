"""The outbox state machine: which moves an operation may make, checked in one place.

::

    pending ──claim──► sending ──ack──► done
       ▲                  │ ├──fail────► failed   ─┐
       │                  │ └──conflict► conflict ─┤ retry / edit (supervisor) ─► pending
       └── transient ─────┘                        └ cancel (supervisor) ──────► cancelled
       (also: a crash while sending, recovered at start)

``pending`` and ``sending`` are "not yet delivered"; ``done`` and ``cancelled`` are final.
Nothing leaves the outbox silently: ``failed`` and ``conflict`` wait for a person, and each
supervisor action is written to the audit log with who, where and why.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sync.operations import Operation, utc_now
from sync.payloads import edit_problems

if TYPE_CHECKING:
    from sync.store import Store

PENDING, SENDING, DONE, FAILED, CONFLICT, CANCELLED = (
    "pending",
    "sending",
    "done",
    "failed",
    "conflict",
    "cancelled",
)
OUTBOX_STATES: tuple[str, ...] = (PENDING, SENDING, DONE, FAILED, CONFLICT, CANCELLED)
FINAL_STATES = frozenset({DONE, CANCELLED})
NEEDS_A_PERSON = frozenset({FAILED, CONFLICT})

TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (PENDING, SENDING),  # claimed by the engine
        (SENDING, DONE),  # the ERP applied it (now or before: a re-send)
        (SENDING, PENDING),  # transient failure, or recovered after a crash mid-send
        (SENDING, FAILED),  # the ERP refused it
        (SENDING, CONFLICT),  # the ERP's state moved under it
        (FAILED, PENDING),  # supervisor: retry, or edit
        (CONFLICT, PENDING),  # supervisor: retry, or edit
        (FAILED, CANCELLED),  # supervisor: cancel
        (CONFLICT, CANCELLED),  # supervisor: cancel
        (PENDING, CANCELLED),  # supervisor: cancel an operation that can never go (e.g. blocked forever)
    }
)


class IllegalTransition(ValueError):
    """A move the outbox state table does not allow; the message names both states."""

    def __init__(self, from_state: str, to_state: str) -> None:
        super().__init__(f"an operation in state {from_state!r} cannot move to {to_state!r}")
        self.from_state = from_state
        self.to_state = to_state


class OutboxError(ValueError):
    """A supervisor action that cannot be done (unknown id, wrong payload); the message says why."""


def can_transition(from_state: str, to_state: str) -> bool:
    return (from_state, to_state) in TRANSITIONS


def check_transition(from_state: str, to_state: str) -> None:
    """Raise :class:`IllegalTransition` unless the table allows ``from_state -> to_state``."""
    if (from_state, to_state) not in TRANSITIONS:
        raise IllegalTransition(from_state, to_state)


def allowed_actions(state: str) -> set[str]:
    """The supervisor actions enabled for an operation in ``state`` (the UI's buttons)."""
    actions = set()
    if can_transition(state, PENDING) and state != SENDING:
        actions.update({"retry", "edit"})
    if can_transition(state, CANCELLED):
        actions.add("cancel")
    return actions


# --- the engine's moves ------------------------------------------------------------------------
def claim(store: Store, limit: int = 100, *, now: str | None = None) -> list[Operation]:
    """Move up to ``limit`` deliverable operations to ``sending`` and return them in dependency order.

    Deliverable: ``pending``, due (``next_attempt_at`` passed), and every ``depends_on`` either
    ``done``, unknown to this outbox (queued elsewhere), or claimed earlier in this same batch.
    The batch is in queue order, so a dependency always comes before what depends on it.
    """
    now = now or utc_now()
    with store.atomic():
        chosen: list[str] = []
        picked: set[str] = set()
        page, offset = max(limit * 2, 200), 0
        while len(chosen) < limit:
            rows = store._rows(
                "SELECT id, depends_on FROM outbox WHERE state = 'pending'"
                " AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY seq LIMIT ? OFFSET ?",
                (now, page, offset),
            )
            if not rows:
                break
            offset += page
            deps = {dep for row in rows for dep in json.loads(row["depends_on"])}
            states = _states(store, deps - picked)
            for row in rows:
                if len(chosen) >= limit:
                    break
                if all(
                    dep in picked or states.get(dep, DONE) == DONE for dep in json.loads(row["depends_on"])
                ):
                    chosen.append(row["id"])
                    picked.add(row["id"])
        batch = []
        for op_id in chosen:
            row = store.set_operation_state(op_id, SENDING)
            batch.append(Operation.from_dict(row["operation"]))
        return batch


def _states(store: Store, ids: set[str]) -> dict[str, str]:
    """The outbox state of each of ``ids`` this outbox holds."""
    found: dict[str, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in store._rows(f"SELECT id, state FROM outbox WHERE id IN ({marks})", chunk):
            found[row["id"]] = row["state"]
    return found


def ack(store: Store, op_id: str, *, erp_refs: dict[str, Any] | None = None, already: bool = False) -> None:
    """The ERP applied the operation (``already``: it had before; a lost response re-sent)."""
    refs = dict(erp_refs or {})
    if already:
        refs["already"] = True
    store.set_operation_state(op_id, DONE, error=None, next_attempt_at=None, erp_refs=refs)


def fail(store: Store, op_id: str, message: str) -> None:
    """The ERP refused the operation: it waits for a supervisor with the ERP's ``message``."""
    with store.atomic():
        row = store.operation(op_id)
        store.set_operation_state(
            op_id, FAILED, error=message, attempts=(row["attempts"] if row else 0) + 1, next_attempt_at=None
        )


def conflict(store: Store, op_id: str, reason: str) -> None:
    """The ERP's state moved under the operation: it waits for a supervisor with ``reason``."""
    with store.atomic():
        row = store.operation(op_id)
        store.set_operation_state(
            op_id, CONFLICT, error=reason, attempts=(row["attempts"] if row else 0) + 1, next_attempt_at=None
        )


def backoff_delay(
    attempts: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait after ``attempts`` transient failures: exponential, capped, full jitter."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def requeue(store: Store, op_id: str, message: str, *, delay: float | None = None) -> None:
    """A transient failure: back to ``pending``, next attempt after an exponential, jittered delay."""
    with store.atomic():
        row = store.operation(op_id)
        attempts = (row["attempts"] if row else 0) + 1
        wait = backoff_delay(attempts) if delay is None else delay
        store.set_operation_state(
            op_id, PENDING, error=message, attempts=attempts, next_attempt_at=_later(wait)
        )


def release(store: Store, op_ids: list[str]) -> None:
    """Hand claimed operations back untouched (not attempted: e.g. a dependency failed in the batch)."""
    with store.atomic():
        for op_id in op_ids:
            store.set_operation_state(op_id, PENDING)


def recover(store: Store, *, station: str) -> int:
    """At start: operations left ``sending`` by a crash go back to ``pending`` (audited).

    The ERP may have applied them; re-sending is safe because the connector applies an id once.
    Returns how many were recovered.
    """
    with store.atomic():
        stuck = store.operations(SENDING)
        for row in stuck:
            store.set_operation_state(row["id"], PENDING)
            store.audit(
                who="sync", what="recovered after an interrupted send", station=station, op_id=row["id"]
            )
        return len(stuck)


def blocked_by(store: Store, op_id: str) -> list[str]:
    """The ids this pending operation waits for that are not done (and are in this outbox)."""
    row = store.operation(op_id)
    if row is None:
        return []
    return [
        dep
        for dep in row["depends_on"]
        if (dep_row := store.operation(dep)) is not None and dep_row["state"] != DONE
    ]


# --- supervisor actions, each audited ----------------------------------------------------------
def _require(store: Store, op_id: str) -> dict[str, Any]:
    row = store.operation(op_id)
    if row is None:
        raise OutboxError(f"no operation {op_id} in this station's outbox")
    return row


def retry(store: Store, op_id: str, *, who: str, station: str) -> None:
    """Send a failed or conflicting operation again, now. Audited."""
    with store.atomic():
        row = _require(store, op_id)
        if row["state"] not in NEEDS_A_PERSON:
            raise IllegalTransition(row["state"], PENDING)
        store.set_operation_state(op_id, PENDING, next_attempt_at=None)
        store.audit(
            who=who,
            what="retry",
            station=station,
            op_id=op_id,
            detail={"from": row["state"], "error": row["error"]},
        )


def cancel(store: Store, op_id: str, *, who: str, station: str, reason: str) -> None:
    """Give up on an operation: it will never be sent. Needs a reason; audited."""
    if not reason or not reason.strip():
        raise OutboxError("say why the operation is cancelled")
    with store.atomic():
        row = _require(store, op_id)
        store.set_operation_state(op_id, CANCELLED, next_attempt_at=None)
        store.audit(
            who=who,
            what="cancel",
            station=station,
            op_id=op_id,
            detail={"from": row["state"], "error": row["error"], "reason": reason.strip()},
        )


def edit(store: Store, op_id: str, payload: dict[str, Any], *, who: str, station: str) -> None:
    """Replace the payload of a failed or conflicting operation and send it again. Audited.

    The id (the idempotency key) stays: the ERP never applied this operation, so it is still the
    same decision, corrected. The payload must stay one of its type and version, and fields the
    rules decide stay as they were (sync.payloads); ``who`` is sent to the ERP as its editor. The
    audit entry keeps the payload before and after.
    """
    if not isinstance(payload, dict):
        raise OutboxError("the edited payload must be a JSON object")
    with store.atomic():
        row = _require(store, op_id)
        if row["state"] not in NEEDS_A_PERSON:
            raise IllegalTransition(row["state"], PENDING)
        old = Operation.from_dict(row["operation"])
        problems = edit_problems(old.type, old.version, old.payload, payload)
        if problems:
            raise OutboxError("; ".join(problems))
        new = Operation(
            id=old.id,
            type=old.type,
            station=old.station,
            user=old.user,
            created_at=old.created_at,
            payload=payload,
            depends_on=old.depends_on,
            version=old.version,
            edited_by=who,
        )
        store.set_operation_state(op_id, PENDING, operation=new, next_attempt_at=None)
        store.audit(
            who=who,
            what="edit",
            station=station,
            op_id=op_id,
            detail={"from": row["state"], "error": row["error"], "before": old.payload, "after": payload},
        )


def _later(seconds: float) -> str:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
