"""The sync engine: the one owner of all ERP traffic and of the station's sync state.

It pushes the outbox in dependency order, in batches, and pulls reference data on a schedule and
on demand. Views never call the ERP: they subscribe with :meth:`SyncEngine.add_listener` and render
:class:`SyncStatus` (the model is Home Assistant's DataUpdateCoordinator: one refresh at a time,
requests debounced, one log line when the ERP goes away and one when it is back).

Failures, by kind (sync.erp.protocol):
- unavailable (network, timeout, 5xx, locked): the batch goes back to ``pending``; a circuit
  breaker then waits (exponential, jittered, capped) before trying the ERP again;
- rejected: that operation becomes ``failed`` with the ERP's message; the rest go on;
- conflict: that operation becomes ``conflict`` with the ERP's reason; the rest go on;
- auth failed: nothing more is sent until the next scheduled attempt; the status says why.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sync import outbox
from sync.erp.protocol import Connector, ErpAuthFailed, ErpConflict, ErpError, ErpRejected, ErpUnavailable
from sync.operations import ApplyResult, Operation, utc_now
from sync.store import Store

if TYPE_CHECKING:
    from sync.erp.address import ErpAddress

log = logging.getLogger(__name__)

BatchResult = ApplyResult | ErpError | None  # None: not attempted (its dependency failed in the batch)


@dataclass(frozen=True)
class SyncStatus:
    """What the station shows about sync. ``last_error`` is readable and never holds a secret."""

    online: bool | None  # None: not tried yet
    last_success: str | None  # station time of the last exchange that worked
    last_error: str | None
    counts: dict[str, int]  # outbox rows by state (pending, sending, done, failed, conflict, cancelled)
    oldest_pending_age_s: float | None  # age of the oldest operation not yet delivered
    next_attempt_at: str | None  # when the engine will try the ERP again, if it is waiting
    last_pull: str | None = None
    blocked: int = 0  # pending operations waiting on a failed / conflicting / cancelled one
    syncing: bool = False
    auth_failed: bool = False

    @property
    def unsynced(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)

    @property
    def needs_attention(self) -> int:
        return self.counts.get("failed", 0) + self.counts.get("conflict", 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "last_success": self.last_success,
            "last_error": self.last_error,
            "last_pull": self.last_pull,
            "next_attempt_at": self.next_attempt_at,
            "oldest_pending_age_s": self.oldest_pending_age_s,
            "blocked": self.blocked,
            "syncing": self.syncing,
            "auth_failed": self.auth_failed,
            **self.counts,
        }


@dataclass
class SyncReport:
    """What one :meth:`SyncEngine.sync_once` did."""

    pulled: dict[str, int] = field(default_factory=dict)
    applied: int = 0
    already: int = 0  # re-sends the ERP had applied before (lost responses)
    failed: int = 0
    conflicts: int = 0
    requeued: int = 0
    errors: list[str] = field(default_factory=list)
    transient_left: int = 0  # operations still waiting for the ERP (pending, not blocked)

    @property
    def ok(self) -> bool:
        """Nothing transient is left: every deliverable operation reached the ERP."""
        return self.transient_left == 0 and not self.errors


class SyncEngine:
    """Owns the connector, pushes the outbox, pulls reference data, and publishes its status."""

    def __init__(
        self,
        store: Store,
        connector_factory: Callable[[], Connector],
        *,
        pull_interval: float = 30.0,
        station: str = "station",
        batch_size: int = 100,
        debounce: float = 0.3,
        breaker_base: float = 1.0,
        breaker_cap: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self._factory = connector_factory
        self._connector: Connector | None = None
        self.pull_interval = pull_interval
        self.station = station
        self.batch_size = batch_size
        self.debounce = debounce
        self.breaker_base = breaker_base
        self.breaker_cap = breaker_cap
        self._rng = rng or random.Random()
        self._run_lock = threading.Lock()  # one exchange with the ERP at a time
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._online: bool | None = None
        self._last_success: str | None = None
        self._last_error: str | None = None
        self._failures = 0  # consecutive exchanges that found the ERP unavailable
        self._retry_at: float | None = None  # monotonic time the breaker lets the next attempt through
        self._auth_failed = False
        self._syncing = False
        self._pull_due = 0.0
        self._pull_requested = False  # set by request_sync, taken by the next cycle
        self._recovered = False

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Run in a background thread: push when there is work, pull every ``pull_interval``."""
        if self._thread and self._thread.is_alive():
            return
        self._recover_once()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sync-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread (after the exchange in progress) and close the connector."""
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None
        with self._run_lock:
            if self._connector is not None:
                try:
                    self._connector.close()
                finally:
                    self._connector = None

    def request_sync(self) -> None:
        """Ask for a push and pull soon (debounced, non-blocking). The UI calls it after each save."""
        self._pull_requested = True
        self._wake.set()

    def add_listener(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``callback(status)`` after every change; returns a function that unsubscribes."""
        with self._state_lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._state_lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    # --- status ------------------------------------------------------------------------------------
    def status(self) -> SyncStatus:
        counts = self.store.queue_counts()
        oldest = self.store.oldest_pending_created_at()
        age = None
        if oldest:
            age = max(0.0, (datetime.now(UTC) - _parse(oldest)).total_seconds())
        next_at = None
        if self._retry_at is not None and (counts["pending"] or self._online is False):
            next_at = _iso(datetime.now(UTC) + timedelta(seconds=max(0.0, self._retry_at - time.monotonic())))
        elif counts["pending"]:
            due = self.store._one(
                "SELECT min(next_attempt_at) AS at FROM outbox"
                " WHERE state = 'pending' AND next_attempt_at IS NOT NULL"
            )
            next_at = due["at"] if due else None
        return SyncStatus(
            online=self._online,
            last_success=self._last_success,
            last_error=self._last_error,
            counts=counts,
            oldest_pending_age_s=None if age is None else round(age, 1),
            next_attempt_at=next_at,
            last_pull=self.store.last_pull_at(),
            blocked=len(self._blocked_ids()),
            syncing=self._syncing,
            auth_failed=self._auth_failed,
        )

    # --- one exchange --------------------------------------------------------------------------
    def sync_once(self, *, pull: bool = True, push: bool = True) -> SyncReport:
        """Push everything deliverable, then pull once (what ``station sync --once`` does).

        Ignores the circuit breaker's wait (a person asked for it). Never raises for an ERP fault:
        the report and :meth:`status` say what happened.
        """
        self._recover_once()
        report = SyncReport()
        with self._run_lock:
            self._set_syncing(True)
            try:
                if push:
                    self._push_all(report)
                if pull and not self._auth_failed and not (report.errors and self._online is False):
                    self._pull(report)
            finally:
                report.transient_left = self._transient_left()
                self._set_syncing(False)
        return report

    # --- internals ---------------------------------------------------------------------------------
    def _recover_once(self) -> None:
        if not self._recovered:
            self._recovered = True
            recovered = outbox.recover(self.store, station=self.station)
            if recovered:
                log.info("sync: %d operation(s) interrupted while sending will be sent again", recovered)

    def _connector_(self) -> Connector:
        if self._connector is None:
            self._connector = self._factory()
        return self._connector

    def _run(self) -> None:
        while not self._stopping.is_set():
            timeout = self._seconds_to_next_work()
            if timeout > 0:
                self._wake.wait(timeout)
            if self._stopping.is_set():
                break
            if self._wake.is_set():
                self._wake.clear()
                # Debounce: a burst of saves becomes one exchange.
                if self._stopping.wait(self.debounce):
                    break
                self._wake.clear()
            if self._retry_at is not None and time.monotonic() < self._retry_at:
                continue  # circuit open: wait for the breaker, not for every request
            pull_now = self._pull_requested or time.monotonic() >= self._pull_due
            self._pull_requested = False
            try:
                with self._run_lock:
                    self._set_syncing(True)
                    try:
                        report = SyncReport()
                        self._push_all(report)
                        if pull_now and self._online is not False:
                            self._pull(report)
                    finally:
                        self._set_syncing(False)
            except Exception:  # a bug, not an ERP fault: keep the engine alive, say so once
                log.exception("sync: unexpected error; will try again")
                self._note_failure("unexpected error in the sync engine (see the log)")
                continue
            attempted = report.applied + report.already + report.failed + report.conflicts + report.requeued
            if not attempted:
                # Pending work that cannot go yet (waiting on a dependency's retry): do not spin.
                self._wake.wait(1.0)

    def _seconds_to_next_work(self) -> float:
        now = time.monotonic()
        if self._retry_at is not None:
            return max(0.0, self._retry_at - now)
        waits = [max(0.0, self._pull_due - now)]
        due = self.store._one(
            "SELECT min(coalesce(next_attempt_at, '')) AS at FROM outbox WHERE state = 'pending'"
        )
        if due and due["at"] is not None:
            if due["at"] == "":
                if self._deliverable_exists():
                    waits.append(0.0)
            else:
                waits.append(max(0.0, (_parse(due["at"]) - datetime.now(UTC)).total_seconds()))
        return min(min(waits), self.pull_interval)

    def _deliverable_exists(self) -> bool:
        blocked = self._blocked_ids()
        return any(
            row["id"] not in blocked for row in self.store.operations("pending", limit=len(blocked) + 1)
        )

    def _blocked_ids(self) -> set[str]:
        rows = self.store._rows(
            "SELECT id, depends_on AS deps FROM outbox WHERE state = 'pending' AND depends_on != '[]'"
        )
        if not rows:
            return set()
        states = {r["id"]: r["state"] for r in self.store._rows("SELECT id, state FROM outbox")}
        blocked: set[str] = set()
        # A dependency chain: blocked if any dependency is stuck with a person, or itself blocked.
        changed = True
        deps_of = {row["id"]: _json_list(row["deps"]) for row in rows}
        while changed:
            changed = False
            for op_id, deps in deps_of.items():
                if op_id in blocked:
                    continue
                if any(states.get(d) in ("failed", "conflict", "cancelled") or d in blocked for d in deps):
                    blocked.add(op_id)
                    changed = True
        return blocked

    def _transient_left(self) -> int:
        counts = self.store.queue_counts()
        return counts["pending"] + counts["sending"] - len(self._blocked_ids())

    def _push_all(self, report: SyncReport) -> None:
        while True:
            batch = outbox.claim(self.store, self.batch_size)
            if not batch:
                return
            if not self._push_batch(batch, report):
                return

    def _push_batch(self, batch: list[Operation], report: SyncReport) -> bool:
        """Send one claimed batch; False when the ERP is unavailable (stop pushing for now)."""
        connector = None
        try:
            connector = self._connector_()
            apply_batch = getattr(connector, "apply_batch", None)
            if apply_batch is not None:
                results: list[BatchResult] = apply_batch(batch, self.store.photo_bytes)
            else:
                results = []
                for op in batch:
                    try:
                        results.append(connector.apply(op, self.store.photo_bytes))
                    except (ErpRejected, ErpConflict) as exc:
                        results.append(exc)
        except ErpUnavailable as exc:
            self._give_back(batch, str(exc), report)
            self._note_failure(str(exc))
            return False
        except ErpAuthFailed as exc:
            self._give_back(batch, str(exc), report)
            self._note_failure(str(exc), auth=True)
            return False
        except Exception as exc:
            self._give_back(batch, f"unexpected error: {type(exc).__name__}", report)
            self._note_failure("unexpected error in the ERP connector (see the log)")
            log.exception("sync: connector raised while applying a batch")
            return False
        self._note_success()
        # One transaction (one fsync) records the whole batch's outcome.
        with self.store.atomic():
            for op, result in zip(batch, results, strict=True):
                if isinstance(result, ApplyResult):
                    outbox.ack(self.store, op.id, erp_refs=result.erp_refs, already=result.already)
                    if result.already:
                        report.already += 1
                    else:
                        report.applied += 1
                elif isinstance(result, ErpConflict):
                    outbox.conflict(self.store, op.id, str(result))
                    report.conflicts += 1
                elif isinstance(result, ErpRejected):
                    outbox.fail(self.store, op.id, str(result))
                    report.failed += 1
                elif isinstance(result, ErpUnavailable):
                    outbox.requeue(
                        self.store, op.id, str(result), delay=outbox.backoff_delay(1, rng=self._rng)
                    )
                    report.requeued += 1
                else:  # not attempted: a dependency in this batch did not apply
                    outbox.release(self.store, [op.id])
        self._notify()
        return True

    def _give_back(self, batch: list[Operation], message: str, report: SyncReport) -> None:
        with self.store.atomic():
            for op in batch:
                outbox.requeue(self.store, op.id, message, delay=0.0)
        report.requeued += len(batch)
        report.errors.append(message)

    def _pull(self, report: SyncReport) -> None:
        try:
            result = self._connector_().pull(self.store.cursors())
        except ErpAuthFailed as exc:
            self._note_failure(str(exc), auth=True)
            report.errors.append(str(exc))
            return
        except ErpError as exc:
            self._note_failure(str(exc))
            report.errors.append(str(exc))
            return
        self.store.apply_pull(result.records, result.cursors)
        report.pulled = {kind: len(rows) for kind, rows in result.records.items()}
        self._pull_due = time.monotonic() + self.pull_interval
        self._note_success()

    def _note_success(self) -> None:
        with self._state_lock:
            was_down = self._online is False
            self._online = True
            self._failures = 0
            self._retry_at = None
            self._auth_failed = False
            self._last_success = utc_now()
            self._last_error = None
        if was_down:
            log.info("sync: the ERP is reachable again")
        self._notify()

    def _note_failure(self, message: str, *, auth: bool = False) -> None:
        with self._state_lock:
            was_up = self._online is not False
            self._online = False
            self._failures += 1
            self._auth_failed = auth
            self._last_error = message
            ceiling = min(self.breaker_cap, self.breaker_base * 2 ** (self._failures - 1))
            if auth:
                ceiling = max(ceiling, self.pull_interval)
            self._retry_at = time.monotonic() + self._rng.uniform(ceiling / 2, ceiling)
        if was_up:
            log.warning("sync: cannot sync with the ERP (%s); operations stay queued", message)
        self._notify()

    def _set_syncing(self, value: bool) -> None:
        self._syncing = value
        self._notify()

    def _notify(self) -> None:
        with self._state_lock:
            listeners = list(self._listeners)
        if not listeners:
            return
        status = self.status()
        for callback in listeners:
            try:
                callback(status)
            except Exception:
                log.exception("sync: a status listener raised; the others still get the status")


def connector_for(erp: ErpAddress) -> Connector:
    """The connector for the ERP at ``erp`` (Tryton over JSON-RPC)."""
    from sync.erp.tryton.connector import TrytonConnector

    return TrytonConnector(erp)


def _parse(value: str) -> datetime:
    return datetime.strptime(value.rstrip("Z")[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json_list(text: str) -> list[str]:
    import json

    return list(json.loads(text or "[]"))
