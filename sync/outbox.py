"""The outbox: one class owns every SQL statement on the ``outbox`` and ``outbox_lease`` tables.

::

    pending ──claim──► sending ──ack──► done ──(prune, after the retention window)
       ▲                  │ ├──fail────► failed   ─┐
       │                  │ └──conflict► conflict ─┤ retry / edit (supervisor) ─► pending
       └── requeue ───────┘                        └ cancel (supervisor) ──────► cancelled
       (also: rows a dead lease holder left 'sending', reclaimed by the next holder)

``pending`` and ``sending`` are "not yet delivered"; ``done`` and ``cancelled`` are final.
Nothing leaves the outbox silently: ``failed`` and ``conflict`` wait for a person, and each
supervisor action is written to the audit log with who, where and why. :data:`MOVES` is the one
table: it decides which moves are legal and which supervisor buttons show.

One process sends a station's outbox at a time: the holder of its lease (:meth:`Outbox.acquire`),
which beats a heartbeat while it holds it. Another process waits; it takes the lease over only
once the holder's heartbeat has stopped for :data:`LEASE_STALE_S` (or the holder's process is gone
from this host), and only then moves the rows that holder left in ``sending`` back to ``pending``.
A row's outcome is recorded only by the holder that claimed it, so a late answer to a holder that
lost its lease is dropped (its re-send is idempotent) instead of breaking the state table.
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
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
STUCK_STATES = (FAILED, CONFLICT, CANCELLED)  # what a dependant waits on in vain

LEASE_STALE_S = 30.0  # a holder whose heartbeat stopped this long is gone
HEARTBEAT_S = 5.0
MAX_FAULTS = 3  # times the ERP may fail on an operation sent alone before it waits for a person
RETENTION_DAYS = 30
BACKOFF_CAP_S = 300.0


@dataclass(frozen=True)
class Move:
    name: str
    from_state: str
    to_state: str
    by: str  # "engine" or "supervisor"


# The one table: the legal moves, and the supervisor's buttons (the moves ``by="supervisor"``).
MOVES: tuple[Move, ...] = (
    Move("claim", PENDING, SENDING, "engine"),
    Move("ack", SENDING, DONE, "engine"),  # the ERP applied it (now or before: a re-send)
    Move("requeue", SENDING, PENDING, "engine"),  # transient failure; not tried; reclaimed
    Move("fail", SENDING, FAILED, "engine"),  # the ERP refused it, or failed on it too often
    Move("conflict", SENDING, CONFLICT, "engine"),  # the ERP's state moved under it
    Move("retry", FAILED, PENDING, "supervisor"),
    Move("retry", CONFLICT, PENDING, "supervisor"),
    Move("edit", FAILED, PENDING, "supervisor"),
    Move("edit", CONFLICT, PENDING, "supervisor"),
    Move("cancel", FAILED, CANCELLED, "supervisor"),
    Move("cancel", CONFLICT, CANCELLED, "supervisor"),
    Move("cancel", PENDING, CANCELLED, "supervisor"),  # one that can never go (blocked forever)
)
TRANSITIONS: frozenset[tuple[str, str]] = frozenset((m.from_state, m.to_state) for m in MOVES)


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
    return {m.name for m in MOVES if m.by == "supervisor" and m.from_state == state}


def _supervisor_move(action: str, state: str) -> Move:
    for move in MOVES:
        if move.by == "supervisor" and move.name == action and move.from_state == state:
            return move
    to = next(m.to_state for m in MOVES if m.name == action)
    raise IllegalTransition(state, to)


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a station's outbox lease, for a message: ``station sync`` on host, pid, beat age."""

    holder: str
    host: str
    pid: int
    heartbeat_at: str
    beats: int

    def describe(self) -> str:
        age = max(0.0, (datetime.now(UTC) - _parse(self.heartbeat_at)).total_seconds())
        return f"process {self.pid} on {self.host} (last heartbeat {age:.0f} s ago)"


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Outbox:
    """The station's outbox in its store. ``store.outbox`` is the one instance per open store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._seen: dict[str, tuple[int, float]] = {}  # holder -> (beats, monotonic time first seen)

    # --- writing ---------------------------------------------------------------------------------
    def enqueue(self, op: Operation) -> None:
        """Durably queue ``op`` (committed with the caller's transaction). Same id again: a no-op."""
        now = utc_now()
        self._store._write(
            "enqueue",
            "INSERT OR IGNORE INTO outbox (id, type, version, station, user, created_at, queued_at,"
            " updated_at, state, attempts, next_attempt_at, error, depends_on, operation)"
            " VALUES (?,?,?,?,?,?,?,?,'pending',0,NULL,NULL,?,?)",
            (
                op.id,
                op.type,
                op.version,
                op.station,
                op.user,
                op.created_at,
                now,
                now,
                json.dumps(list(op.depends_on)),
                op.to_json(),
            ),
        )

    # --- reading ---------------------------------------------------------------------------------
    def get(self, op_id: str) -> dict[str, Any] | None:
        row = self._store._one("SELECT * FROM outbox WHERE id = ?", (op_id,))
        return _outbox_row(row) if row else None

    def rows(self, state: str | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM outbox"
        params: list[Any] = []
        if state is not None:
            sql += " WHERE state = ?"
            params.append(state)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_outbox_row(row) for row in self._store._rows(sql, params)]

    def held_by_erp(self, *, limit: int = 20) -> list[dict[str, Any]]:
        """Delivered operations the ERP applied but holds for a supervisor (its answer's ``held``
        says why, e.g. an inspection that differs from the ERP's rules), newest first."""
        sql = (
            "SELECT * FROM outbox WHERE state = 'done' AND json_extract(erp_refs, '$.held') IS NOT NULL"
            " ORDER BY seq DESC LIMIT ?"
        )
        return [_outbox_row(row) for row in self._store._rows(sql, (limit,))]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTBOX_STATES, 0)
        for row in self._store._rows("SELECT state, count(*) AS n FROM outbox GROUP BY state"):
            counts[row["state"]] = row["n"]
        return counts

    def oldest_undelivered_created_at(self) -> str | None:
        row = self._store._one(
            "SELECT min(created_at) AS at FROM outbox WHERE state IN ('pending', 'sending')"
        )
        return row["at"] if row else None

    def next_due_at(self) -> str | None:
        """The soonest ``next_attempt_at`` of a pending operation waiting for its backoff, if any."""
        row = self._store._one(
            "SELECT min(next_attempt_at) AS at FROM outbox"
            " WHERE state = 'pending' AND next_attempt_at IS NOT NULL"
        )
        return row["at"] if row else None

    def blocked_ids(self) -> set[str]:
        """Pending operations that wait, directly or through a chain, on a failed, conflicting or
        cancelled one (they cannot go until a person acts). Costs as much as the stuck rows, not
        the outbox's history."""
        rows = self._store._rows(
            """WITH RECURSIVE stuck(id) AS (
                   SELECT id FROM outbox WHERE state IN ('failed', 'conflict', 'cancelled')
                   UNION
                   SELECT o.id FROM stuck s
                   JOIN outbox o ON o.state = 'pending' AND o.depends_on LIKE '%' || s.id || '%'
               )
               SELECT s.id FROM stuck s JOIN outbox o ON o.id = s.id WHERE o.state = 'pending'"""
        )
        return {row["id"] for row in rows}

    def deliverable_now(self) -> bool:
        """True when some pending operation is due and waits on nothing undelivered elsewhere."""
        row = self._store._one(
            """SELECT 1 AS x FROM outbox o
               WHERE o.state = 'pending' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)
               AND NOT EXISTS (
                   SELECT 1 FROM json_each(o.depends_on) j JOIN outbox d ON d.id = j.value
                   WHERE d.state NOT IN ('done', 'pending', 'sending'))
               LIMIT 1""",
            (utc_now(),),
        )
        return row is not None

    def blocked_by(self, op_id: str) -> list[str]:
        row = self.get(op_id)
        if row is None:
            return []
        states = self._states(set(row["depends_on"]))
        return [dep for dep in row["depends_on"] if dep in states and states[dep] != DONE]

    def _states(self, ids: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._store._rows(f"SELECT id, state FROM outbox WHERE id IN ({marks})", chunk):
                found[row["id"]] = row["state"]
        return found

    # --- the one move ---------------------------------------------------------------------------
    def _move(self, op_id: str, state: str, *, owner: str | None = None, **fields: Any) -> bool:
        """Move a row to ``state`` (checked against :data:`MOVES`), setting ``fields`` with it.

        With ``owner`` (an engine's lease id), an outcome for a row that is no longer ``sending``
        under that owner is dropped (False): the row was reclaimed after a takeover.
        """
        allowed = {"error", "attempts", "faults", "next_attempt_at", "erp_refs", "operation", "claimed_by"}
        if set(fields) - allowed:
            raise TypeError(f"cannot set {sorted(set(fields) - allowed)} on an outbox row")
        with self._store.atomic():
            row = self._store._one("SELECT state, claimed_by FROM outbox WHERE id = ?", (op_id,))
            if row is None:
                raise KeyError(f"no operation {op_id} in this station's outbox")
            if owner is not None and (row["state"] != SENDING or row["claimed_by"] != owner):
                return False
            check_transition(row["state"], state)
            values: dict[str, Any] = {"state": state, "updated_at": utc_now()}
            if state != SENDING:
                values["claimed_by"] = None
            for name, value in fields.items():
                if name == "erp_refs":
                    value = json.dumps(value, sort_keys=True) if value is not None else None
                elif name == "operation":
                    values["depends_on"] = json.dumps(list(value.depends_on))
                    value = value.to_json()
                values[name] = value
            assignments = ", ".join(f"{name} = ?" for name in values)
            self._store._write(
                "outbox", f"UPDATE outbox SET {assignments} WHERE id = ?", [*values.values(), op_id]
            )
            return True

    def set_state(self, op_id: str, state: str, **fields: Any) -> dict[str, Any]:
        self._move(op_id, state, **fields)
        return self.get(op_id)  # type: ignore[return-value]

    # --- the engine's moves ----------------------------------------------------------------------
    def claim(self, limit: int = 100, *, owner: str | None = None, now: str | None = None) -> list[Operation]:
        """Move up to ``limit`` deliverable operations to ``sending`` and return them in dependency order.

        Deliverable: ``pending``, due (``next_attempt_at`` passed, or further ahead than the backoff
        cap: the clock jumped back), and every ``depends_on`` either ``done``, unknown to this
        outbox (queued elsewhere), or claimed earlier in this same batch.
        """
        now = now or utc_now()
        horizon = _iso(_parse(now) + timedelta(seconds=BACKOFF_CAP_S + 1))
        with self._store.atomic():
            chosen: list[str] = []
            picked: set[str] = set()
            page, offset = max(limit * 2, 200), 0
            while len(chosen) < limit:
                rows = self._store._rows(
                    "SELECT id, depends_on FROM outbox WHERE state = 'pending'"
                    " AND (next_attempt_at IS NULL OR next_attempt_at <= ? OR next_attempt_at > ?)"
                    " ORDER BY seq LIMIT ? OFFSET ?",
                    (now, horizon, page, offset),
                )
                if not rows:
                    break
                offset += page
                deps = {dep for row in rows for dep in json.loads(row["depends_on"])}
                states = self._states(deps - picked)
                for row in rows:
                    if len(chosen) >= limit:
                        break
                    if all(
                        dep in picked or states.get(dep, DONE) == DONE
                        for dep in json.loads(row["depends_on"])
                    ):
                        chosen.append(row["id"])
                        picked.add(row["id"])
            batch = []
            for op_id in chosen:
                self._move(op_id, SENDING, claimed_by=owner)
                batch.append(Operation.from_dict(self.get(op_id)["operation"]))  # type: ignore[index]
            return batch

    def ack(
        self,
        op_id: str,
        *,
        erp_refs: dict[str, Any] | None = None,
        already: bool = False,
        owner: str | None = None,
    ) -> bool:
        """The ERP applied the operation (``already``: it had before; a lost response re-sent)."""
        refs = dict(erp_refs or {})
        if already:
            refs["already"] = True
        return self._move(op_id, DONE, owner=owner, error=None, next_attempt_at=None, erp_refs=refs)

    def fail(self, op_id: str, message: str, *, owner: str | None = None) -> bool:
        """The ERP refused the operation: it waits for a supervisor with the ERP's ``message``."""
        with self._store.atomic():
            row = self.get(op_id)
            return self._move(
                op_id,
                FAILED,
                owner=owner,
                error=message,
                attempts=(row["attempts"] if row else 0) + 1,
                next_attempt_at=None,
            )

    def conflict(self, op_id: str, reason: str, *, owner: str | None = None) -> bool:
        """The ERP's state moved under the operation: it waits for a supervisor with ``reason``."""
        with self._store.atomic():
            row = self.get(op_id)
            return self._move(
                op_id,
                CONFLICT,
                owner=owner,
                error=reason,
                attempts=(row["attempts"] if row else 0) + 1,
                next_attempt_at=None,
            )

    def requeue(
        self, op_id: str, message: str, *, delay: float | None = None, owner: str | None = None
    ) -> bool:
        """A transient failure: back to ``pending``, next attempt after an exponential, jittered delay."""
        with self._store.atomic():
            row = self.get(op_id)
            attempts = (row["attempts"] if row else 0) + 1
            wait = backoff_delay(attempts) if delay is None else delay
            return self._move(
                op_id, PENDING, owner=owner, error=message, attempts=attempts, next_attempt_at=_later(wait)
            )

    def fault(
        self, op_id: str, message: str, *, owner: str | None = None, rng: random.Random | None = None
    ) -> str:
        """The ERP failed on this operation sent alone (a handler error, a request it refuses whole).

        Counts toward :data:`MAX_FAULTS`; at the cap the operation becomes ``failed`` with the ERP's
        words, else it waits a backoff. Returns the state it is left in.
        """
        with self._store.atomic():
            row = self.get(op_id)
            faults = (row["faults"] if row else 0) + 1
            attempts = (row["attempts"] if row else 0) + 1
            if faults >= MAX_FAULTS:
                self._move(
                    op_id,
                    FAILED,
                    owner=owner,
                    error=f"the ERP failed on it {faults} times: {message}",
                    attempts=attempts,
                    faults=faults,
                    next_attempt_at=None,
                )
                return FAILED
            self._move(
                op_id,
                PENDING,
                owner=owner,
                error=message,
                attempts=attempts,
                faults=faults,
                next_attempt_at=_later(backoff_delay(faults, rng=rng)),
            )
            return PENDING

    def release(self, op_ids: list[str], *, owner: str | None = None) -> None:
        """Hand claimed operations back untouched (not attempted: e.g. a dependency failed in the batch)."""
        with self._store.atomic():
            for op_id in op_ids:
                self._move(op_id, PENDING, owner=owner)

    def recover(self, *, station: str) -> int:
        """Rows left ``sending`` by a sender that is gone go back to ``pending`` (audited).

        Called only by a new lease holder (the old one is gone, or released the lease): the ERP may
        have applied them; re-sending is safe because the connector applies an id once.
        Returns how many.
        """
        with self._store.atomic():
            stuck = self._store._rows("SELECT id FROM outbox WHERE state = 'sending'")
            for row in stuck:
                self._move(row["id"], PENDING)
                self._store.audit(
                    who="sync", what="recovered after an interrupted send", station=station, op_id=row["id"]
                )
            return len(stuck)

    # --- the lease: one sender per station -------------------------------------------------------
    def lease_holder(self) -> LeaseHolder | None:
        row = self._store._one("SELECT * FROM outbox_lease WHERE name = 'send'")
        if row is None:
            return None
        return LeaseHolder(row["holder"], row["host"], row["pid"], row["heartbeat_at"], row["beats"])

    def _stale(self, holder: LeaseHolder) -> bool:
        if holder.host == socket.gethostname() and not _alive(holder.pid):
            return True  # its process is gone: its heartbeat has stopped for good
        age = (datetime.now(UTC) - _parse(holder.heartbeat_at)).total_seconds()
        if age >= LEASE_STALE_S:
            return True
        # The wall clock can jump: also watch the beat count not move on this process's own clock.
        beats, since = self._seen.get(holder.holder, (-1, 0.0))
        if beats != holder.beats:
            self._seen[holder.holder] = (holder.beats, time.monotonic())
            return False
        return time.monotonic() - since >= LEASE_STALE_S

    def acquire(self, owner: str, *, station: str) -> LeaseHolder | None:
        """Take the send lease for ``owner``. None when it holds it now; else the live holder.

        Taking over from a holder whose heartbeat stopped moves the rows it left ``sending`` back
        to ``pending`` (audited) in the same transaction.
        """
        with self._store.atomic():
            current = self.lease_holder()
            if current is not None and current.holder == owner:
                return None
            if current is not None and not self._stale(current):
                return current
            now = utc_now()
            self._store._write(
                "lease",
                "INSERT OR REPLACE INTO outbox_lease"
                " (name, holder, host, pid, acquired_at, heartbeat_at, beats)"
                " VALUES ('send', ?, ?, ?, ?, ?, 0)",
                (owner, socket.gethostname(), os.getpid(), now, now),
            )
            # Whoever held it before is gone (or released it): nothing of its is in flight any more.
            self.recover(station=station)
            return None

    def heartbeat(self, owner: str) -> bool:
        """Beat the lease's heartbeat; False when ``owner`` no longer holds it (taken over)."""
        with self._store.atomic():
            current = self.lease_holder()
            if current is None or current.holder != owner:
                return False
            self._store._write(
                "lease",
                "UPDATE outbox_lease SET heartbeat_at = ?, beats = beats + 1 WHERE name = 'send'",
                (utc_now(),),
            )
            return True

    def holds(self, owner: str) -> bool:
        current = self.lease_holder()
        return current is not None and current.holder == owner

    def release_lease(self, owner: str) -> None:
        with self._store.atomic():
            self._store._write(
                "lease", "DELETE FROM outbox_lease WHERE name = 'send' AND holder = ?", (owner,)
            )

    # --- bounded growth --------------------------------------------------------------------------
    def prune(self, *, older_than_days: float = RETENTION_DAYS, now: datetime | None = None) -> int:
        """Delete ``done`` operations delivered more than ``older_than_days`` ago; their audit rows
        stay. Nothing not yet done is ever touched. Returns how many were deleted."""
        cutoff = _iso((now or datetime.now(UTC)) - timedelta(days=older_than_days))
        with self._store.atomic():
            cursor = self._store._write(
                "prune", "DELETE FROM outbox WHERE state = 'done' AND updated_at < ?", (cutoff,)
            )
            return cursor.rowcount

    def photos_delivered(self) -> list[str]:
        """Hashes of photos whose ``upload_photo`` the ERP applied (it holds them now)."""
        return [
            row["sha"]
            for row in self._store._rows(
                "SELECT DISTINCT json_extract(operation, '$.payload.sha256') AS sha FROM outbox"
                " WHERE type = 'upload_photo' AND state = 'done'"
            )
            if row["sha"]
        ]

    def photos_still_needed(self) -> set[str]:
        """Hashes of photos an operation not yet done still refers to (never pruned)."""
        rows = self._store._rows(
            "SELECT operation FROM outbox WHERE state NOT IN ('done', 'cancelled')"
            " AND type IN ('upload_photo', 'inspect_item', 'request_approval')"
        )
        needed: set[str] = set()
        for row in rows:
            payload = json.loads(row["operation"]).get("payload", {})
            if payload.get("sha256"):
                needed.add(payload["sha256"])
            needed.update(payload.get("photos") or [])
            needed.update(payload.get("evidence") or [])
        return needed

    # --- supervisor actions, each audited ------------------------------------------------------
    def _require(self, op_id: str) -> dict[str, Any]:
        row = self.get(op_id)
        if row is None:
            raise OutboxError(f"no operation {op_id} in this station's outbox")
        return row

    def retry(self, op_id: str, *, who: str, station: str) -> None:
        """Send a failed or conflicting operation again, now. Audited."""
        with self._store.atomic():
            row = self._require(op_id)
            _supervisor_move("retry", row["state"])
            self._move(op_id, PENDING, next_attempt_at=None, faults=0)
            self._store.audit(
                who=who,
                what="retry",
                station=station,
                op_id=op_id,
                detail={"from": row["state"], "error": row["error"]},
            )

    def cancel(self, op_id: str, *, who: str, station: str, reason: str) -> None:
        """Give up on an operation: it will never be sent. Needs a reason; audited. What it had
        confirmed at this station is released (the unit can be inspected again)."""
        if not reason or not reason.strip():
            raise OutboxError("say why the operation is cancelled")
        with self._store.atomic():
            row = self._require(op_id)
            _supervisor_move("cancel", row["state"])
            self._move(op_id, CANCELLED, next_attempt_at=None)
            self._store.forget_progress(op_id)
            self._store.audit(
                who=who,
                what="cancel",
                station=station,
                op_id=op_id,
                detail={"from": row["state"], "error": row["error"], "reason": reason.strip()},
            )

    def edit(self, op_id: str, payload: dict[str, Any], *, who: str, station: str) -> None:
        """Replace the payload of a failed or conflicting operation and send it again. Audited.

        The id (the idempotency key) stays: the ERP never applied this operation, so it is still the
        same decision, corrected. The payload must stay one of its type and version, and fields the
        rules decide stay as they were (sync.payloads); ``who`` is sent to the ERP as its editor. The
        audit entry keeps the payload before and after.
        """
        if not isinstance(payload, dict):
            raise OutboxError("the edited payload must be a JSON object")
        with self._store.atomic():
            row = self._require(op_id)
            _supervisor_move("edit", row["state"])
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
            self._move(op_id, PENDING, operation=new, next_attempt_at=None, faults=0)
            self._store.audit(
                who=who,
                what="edit",
                station=station,
                op_id=op_id,
                detail={"from": row["state"], "error": row["error"], "before": old.payload, "after": payload},
            )


# --- module-level shorthands (the engine, tests and tools call these with a store) ----------------
def claim(
    store: Store, limit: int = 100, *, now: str | None = None, owner: str | None = None
) -> list[Operation]:
    return store.outbox.claim(limit, owner=owner, now=now)


def ack(store: Store, op_id: str, *, erp_refs: dict[str, Any] | None = None, already: bool = False) -> None:
    store.outbox.ack(op_id, erp_refs=erp_refs, already=already)


def fail(store: Store, op_id: str, message: str) -> None:
    store.outbox.fail(op_id, message)


def conflict(store: Store, op_id: str, reason: str) -> None:
    store.outbox.conflict(op_id, reason)


def requeue(store: Store, op_id: str, message: str, *, delay: float | None = None) -> None:
    store.outbox.requeue(op_id, message, delay=delay)


def release(store: Store, op_ids: list[str]) -> None:
    store.outbox.release(op_ids)


def recover(store: Store, *, station: str) -> int:
    return store.outbox.recover(station=station)


def blocked_by(store: Store, op_id: str) -> list[str]:
    return store.outbox.blocked_by(op_id)


def retry(store: Store, op_id: str, *, who: str, station: str) -> None:
    store.outbox.retry(op_id, who=who, station=station)


def cancel(store: Store, op_id: str, *, who: str, station: str, reason: str) -> None:
    store.outbox.cancel(op_id, who=who, station=station, reason=reason)


def edit(store: Store, op_id: str, payload: dict[str, Any], *, who: str, station: str) -> None:
    store.outbox.edit(op_id, payload, who=who, station=station)


def backoff_delay(
    attempts: int, *, base: float = 2.0, cap: float = BACKOFF_CAP_S, rng: random.Random | None = None
) -> float:
    """Seconds to wait after ``attempts`` transient failures: exponential, capped, full jitter."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def _outbox_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["operation"] = json.loads(row["operation"])
    out["depends_on"] = json.loads(row["depends_on"])
    out["erp_refs"] = json.loads(row["erp_refs"]) if row["erp_refs"] else None
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _parse(value: str) -> datetime:
    return datetime.strptime(value.rstrip("Z")[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _later(seconds: float) -> str:
    return _iso(datetime.now(UTC) + timedelta(seconds=seconds))
