"""The sync engine: the one owner of all ERP traffic and of the station's sync state.

It pushes the outbox in dependency order, in batches, pulls reference data on a schedule and on
demand, and answers online requests (:meth:`SyncEngine.request`: a question that needs the ERP
now). Views never call the ERP: they subscribe with :meth:`SyncEngine.add_listener` and render
:class:`SyncStatus` (the model is Home Assistant's DataUpdateCoordinator: one refresh at a time,
requests debounced, one log line when the ERP goes away and one when it is back).

Failures, by kind (sync.erp.protocol):
- unavailable (network, timeout, 5xx, locked): the batch goes back to ``pending``; a circuit
  breaker then waits (exponential, jittered, capped) before trying the ERP again;
- rejected: that operation becomes ``failed`` with the ERP's message; the rest go on;
- conflict: that operation becomes ``conflict`` with the ERP's reason; the rest go on;
- auth failed: nothing more is sent until the next scheduled attempt; the status says why;
- the ERP answered but failed on the request as a whole (a handler error, HTTP 4xx such as a batch
  too large): the batch is split in halves until the operation at fault is alone; it counts a
  fault, and after ``outbox.MAX_FAULTS`` it becomes ``failed`` with the ERP's words. The rest of
  the batch is applied meanwhile. An unreachable ERP never counts a fault.

One engine sends a station's outbox at a time: it holds the outbox's lease (``Outbox.acquire``)
and beats its heartbeat from a thread of its own. Another engine on the same store (``station
sync`` beside the app) waits for the lease; its status names the holder.
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

from sync import identity, outbox
from sync.erp.protocol import (
    Connector,
    ErpAuthFailed,
    ErpConflict,
    ErpError,
    ErpFault,
    ErpMethodRefused,
    ErpRejected,
    ErpUnavailable,
    Offline,
    Refused,
)
from sync.operations import ApplyResult, Operation, utc_now
from sync.outbox import BACKOFF_CAP_S, DONE, FAILED, HEARTBEAT_S, RETENTION_DAYS, LeaseHolder, new_holder_id
from sync.station_status import DEFAULT_INTERVAL_S, queue_status, status_waiting
from sync.store import Store, StoreFault

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
    lease_holder: str | None = None  # another process sends this outbox: who, while this one waits
    store_fault: str | None = None  # the store could not be written: plain words for a red banner

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
            "lease_holder": self.lease_holder,
            "store_fault": self.store_fault,
            **self.counts,
        }


@dataclass
class SyncReport:
    """What one :meth:`SyncEngine.sync_once` did."""

    pulled: dict[str, int] = field(default_factory=dict)
    applied: int = 0
    already: int = 0  # re-sends the ERP had applied before (lost responses)
    faults: int = 0  # times the ERP failed on an operation sent alone (counted toward its cap)
    lease_holder: str | None = None  # set when another process holds the send lease: nothing sent
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
        retention_days: float = RETENTION_DAYS,
        status_interval: float = DEFAULT_INTERVAL_S,
        app_version: str | None = None,
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
        # Online requests use a connector of their own, so a question does not wait for a push.
        self._request_lock = threading.Lock()
        self._request_connector: Connector | None = None
        self.retention_days = retention_days
        self._prune_due = 0.0
        self.owner = new_holder_id()  # this engine's name on the outbox's send lease
        self._waiting_for: LeaseHolder | None = None
        self._heart: threading.Thread | None = None
        self._heart_stop = threading.Event()
        # The station's own status (sync.station_status): every status_interval seconds (0: never),
        # the first one interval after start.
        self.status_interval = status_interval
        self.app_version = app_version
        self._status_due = time.monotonic() + status_interval if status_interval > 0 else None
        self._speaks_for: str | None = None  # the station id the ERP confirmed this login speaks for

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Run in a background thread: push when there is work, pull every ``pull_interval``."""
        if self._thread and self._thread.is_alive():
            return
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
        self._let_go()
        with self._run_lock:
            if self._connector is not None:
                try:
                    self._connector.close()
                finally:
                    self._connector = None
        with self._request_lock:
            if self._request_connector is not None:
                try:
                    self._request_connector.close()
                finally:
                    self._request_connector = None

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

    # --- online requests ---------------------------------------------------------------------------
    def request(self, method: str, *args: Any, timeout: float = 10.0) -> Any | Offline | Refused:
        """Ask the ERP something now: call the station-facing module method ``method`` (e.g.
        ``returns.station.clock.now``) with ``args`` and return its answer, or :class:`Offline` when
        the ERP cannot be reached within ``timeout`` seconds or refuses the station's login, or
        :class:`Refused` with the ERP's words when it refuses the request. Blocking: call it off
        the UI loop. Never raises for an ERP fault; ValueError for a method that is not the
        module's (a bug). One request at a time; pushes and pulls go on beside it."""
        with self._request_lock:
            try:
                if self._request_connector is None:
                    self._request_connector = self._factory()
                return self._request_connector.request(method, *args, timeout=timeout)
            except ErpMethodRefused as exc:
                return Refused(str(exc))
            except ErpAuthFailed as exc:
                return Offline(str(exc), auth_failed=True)
            except ErpUnavailable as exc:
                return Offline(str(exc))
            except (ErpRejected, ErpConflict) as exc:
                return Refused(str(exc))

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
            next_at = self.store.outbox.next_due_at()
        return SyncStatus(
            online=self._online,
            last_success=self._last_success,
            last_error=self._last_error,
            counts=counts,
            oldest_pending_age_s=None if age is None else round(age, 1),
            next_attempt_at=next_at,
            last_pull=self.store.last_pull_at(),
            blocked=len(self.store.outbox.blocked_ids()),
            syncing=self._syncing,
            auth_failed=self._auth_failed,
            lease_holder=self._waiting_for.describe() if self._waiting_for is not None else None,
            store_fault=self.store.fault,
        )

    # --- one exchange --------------------------------------------------------------------------
    def sync_once(self, *, pull: bool = True, push: bool = True) -> SyncReport:
        """Push everything deliverable, then pull once (what ``station sync --once`` does).

        Ignores the circuit breaker's wait (a person asked for it). Never raises for an ERP fault:
        the report and :meth:`status` say what happened. When another process holds the outbox's
        send lease, nothing is sent and ``report.lease_holder`` names it.
        """
        report = SyncReport()
        background = self._thread is not None and self._thread.is_alive()
        with self._run_lock:
            self._set_syncing(True)
            try:
                if push:
                    self._push_all(report)
                    self._maybe_prune()
                if pull and not self._auth_failed and not (report.errors and self._online is False):
                    self._pull(report)
            finally:
                report.transient_left = self._transient_left()
                if not background:
                    self._let_go()
                self._set_syncing(False)
        return report

    # --- internals ---------------------------------------------------------------------------------
    # --- the send lease ------------------------------------------------------------------------
    def _hold_lease(self) -> bool:
        """True when this engine holds the outbox's send lease (taking it if free or abandoned)."""
        before = self.store.queue_counts()["sending"]
        holder = self.store.outbox.acquire(self.owner, station=self.station)
        was_waiting = self._waiting_for is not None
        self._waiting_for = holder
        if holder is not None:
            if not was_waiting:
                log.info("sync: %s sends this station's outbox; waiting for it", holder.describe())
            return False
        if before and not self._heart_alive():
            log.info("sync: operation(s) left sending by a stopped sender will be sent again")
        self._start_heart()
        return True

    def _heart_alive(self) -> bool:
        return self._heart is not None and self._heart.is_alive()

    def _start_heart(self) -> None:
        if self._heart_alive():
            return
        self._heart_stop.clear()
        self._heart = threading.Thread(target=self._beat, name="sync-lease-heartbeat", daemon=True)
        self._heart.start()

    def _beat(self) -> None:
        while not self._heart_stop.wait(HEARTBEAT_S):
            try:
                if not self.store.outbox.heartbeat(self.owner):
                    log.warning("sync: another process took over sending this station's outbox")
                    return
            except StoreFault:
                continue  # the banner says so; try again at the next beat
            except Exception:  # the store was closed under it: stop quietly
                return

    def _let_go(self) -> None:
        """Stop the heartbeat and release the lease (what this engine claimed is settled by now)."""
        self._heart_stop.set()
        if self._heart is not None:
            self._heart.join(2.0)
            self._heart = None
        try:
            self.store.outbox.release_lease(self.owner)
        except Exception:  # closed store, or a fault: a stale lease is taken over after 30 s anyway
            log.debug("sync: could not release the send lease", exc_info=True)

    def _maybe_prune(self) -> None:
        if time.monotonic() < self._prune_due:
            return
        self._prune_due = time.monotonic() + 3600.0
        try:
            pruned = self.store.prune(retention_days=self.retention_days)
        except StoreFault:
            return
        if pruned["operations"] or pruned["photos"]:
            log.info(
                "sync: pruned %d delivered operation(s) older than %g days and %d photo(s) the ERP holds",
                pruned["operations"],
                self.retention_days,
                pruned["photos"],
            )

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
            # Queued even while the ERP is away: at most one waits, and it goes when the ERP is back.
            self._maybe_queue_status()
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
                        self._maybe_prune()
                        if pull_now and self._online is not False:
                            self._pull(report)
                    finally:
                        self._set_syncing(False)
            except Exception:  # a bug, not an ERP fault: keep the engine alive, say so once
                log.exception("sync: unexpected error; will try again")
                self._note_failure("unexpected error in the sync engine (see the log)")
                continue
            attempted = (
                report.applied
                + report.already
                + report.failed
                + report.conflicts
                + report.requeued
                + report.faults
            )
            if not attempted:
                # Pending work that cannot go yet (waiting on a dependency's retry): do not spin.
                self._wake.wait(1.0)

    def _seconds_to_next_work(self) -> float:
        now = time.monotonic()
        status = [max(0.0, self._status_due - now)] if self._status_due is not None else []
        if self._retry_at is not None:
            return min([max(0.0, self._retry_at - now), *status])
        waits = [max(0.0, self._pull_due - now), *status]
        if self._waiting_for is not None:
            waits.append(HEARTBEAT_S)  # look at the lease again soon
        elif self.store.outbox.deliverable_now():
            waits.append(0.0)
        else:
            due = self.store.outbox.next_due_at()
            if due is not None:
                wait = (_parse(due) - datetime.now(UTC)).total_seconds()
                # Further ahead than any backoff: the clock jumped back; it is due now.
                waits.append(0.0 if wait > BACKOFF_CAP_S else max(0.0, wait))
        return min(min(waits), self.pull_interval)

    def _maybe_queue_status(self) -> None:
        if self._status_due is None or time.monotonic() < self._status_due:
            return
        self._status_due = time.monotonic() + self.status_interval
        try:
            self.queue_status()
        except StoreFault:
            pass  # the banner says so; the next status carries the counts

    def queue_status(self) -> Operation | None:
        """Queue this station's status now (sync.station_status; None when one is still waiting to
        be delivered), with its clock measured against the ERP's when the ERP answers."""
        if status_waiting(self.store):
            return None
        return queue_status(
            self.store, self.station, clock_offset_s=self.clock_offset(), app_version=self.app_version
        )

    def clock_offset(self) -> float | None:
        """This station's clock minus the ERP's, in seconds (to within half a round trip), from one
        ``returns.station.clock.now`` request; None when the ERP does not answer."""
        before = datetime.now(UTC)
        answer = self.request("returns.station.clock.now", timeout=5.0)
        after = datetime.now(UTC)
        if not isinstance(answer, str):
            return None
        try:
            erp = datetime.fromisoformat(answer.replace("Z", "+00:00"))
        except ValueError:
            return None
        return ((before + (after - before) / 2) - erp).total_seconds()

    def _transient_left(self) -> int:
        counts = self.store.queue_counts()
        return counts["pending"] + counts["sending"] - len(self.store.outbox.blocked_ids())

    def _push_all(self, report: SyncReport) -> None:
        if not self._same_station(report):
            return
        if not self._hold_lease():
            report.lease_holder = self._waiting_for.describe() if self._waiting_for else "another process"
            return
        while True:
            batch = self.store.outbox.claim(self.batch_size, owner=self.owner)
            if not batch:
                return
            if not self._push_batch(batch, report):
                return

    def _same_station(self, report: SyncReport) -> bool:
        """Whether the ERP login speaks for this station's configured id (sync.identity): asked once
        per id; an ERP that cannot say (offline, an older module) is not held against the station.
        When it speaks for another, nothing is sent and the status says why, as for a refused login."""
        station = self.station
        if self._speaks_for == station:
            return True
        try:  # on the push's own connection: one exchange with the ERP, as before
            answer = self._connector_().request(identity.METHOD, timeout=5.0)
        except (ErpFault, ErpRejected, ErpConflict):
            answer = None  # the ERP cannot say (an older module): the push goes on as before
        except (ErpUnavailable, ErpAuthFailed):
            return True  # the push finds out what is wrong with the ERP; the next push asks again
        except Exception:  # a connector without the request port cannot say either
            return True
        problem = identity.mismatch(answer, station)
        if problem is None:
            self._speaks_for = station
            return True
        report.errors.append(problem)
        self._note_failure(problem, auth=True)
        return False

    def _push_batch(self, batch: list[Operation], report: SyncReport) -> bool:
        """Send one claimed batch; False when the ERP is unavailable (stop pushing for now)."""
        box = self.store.outbox
        try:
            results = self._send(batch)
        except ErpFault as exc:  # the ERP answered, and failed on the request as a whole
            self._note_success()
            return self._isolate(batch, str(exc), report)
        except ErpUnavailable as exc:
            self._give_back(batch, str(exc), report)
            self._note_failure(str(exc))
            return False
        except ErpAuthFailed as exc:
            self._give_back(batch, str(exc), report)
            self._note_failure(str(exc), auth=True)
            return False
        except ErpRejected as exc:  # the whole request refused (HTTP 4xx: too large, malformed)
            self._note_success()
            return self._isolate(batch, str(exc), report)
        except Exception as exc:
            self._give_back(batch, f"unexpected error: {type(exc).__name__}", report)
            self._note_failure("unexpected error in the ERP connector (see the log)")
            log.exception("sync: connector raised while applying a batch")
            return False
        self._note_success()
        # One transaction (one fsync) records the whole batch's outcome. An outcome for a row this
        # engine no longer holds (taken over after its heartbeat stopped) is dropped: re-sent later.
        with self.store.atomic():
            for op, result in zip(batch, results, strict=True):
                if isinstance(result, ApplyResult):
                    if box.ack(op.id, erp_refs=result.erp_refs, already=result.already, owner=self.owner):
                        if result.already:
                            report.already += 1
                        else:
                            report.applied += 1
                elif isinstance(result, ErpConflict):
                    if box.conflict(op.id, str(result), owner=self.owner):
                        report.conflicts += 1
                elif isinstance(result, ErpRejected):
                    if box.fail(op.id, str(result), owner=self.owner):
                        report.failed += 1
                elif isinstance(result, ErpFault):
                    self._count_fault(op, str(result), report)
                elif isinstance(result, ErpUnavailable):
                    if box.requeue(
                        op.id, str(result), delay=outbox.backoff_delay(1, rng=self._rng), owner=self.owner
                    ):
                        report.requeued += 1
                else:  # not attempted: a dependency in this batch did not apply
                    box.release([op.id], owner=self.owner)
        self._notify()
        return True

    def _send(self, batch: list[Operation]) -> list[BatchResult]:
        connector = self._connector_()
        batch = [identity.stamped(op, self.station) for op in batch]
        apply_batch = getattr(connector, "apply_batch", None)
        if apply_batch is not None:
            return apply_batch(batch, self.store.photo_bytes)
        results: list[BatchResult] = []
        for op in batch:
            try:
                results.append(connector.apply(op, self.store.photo_bytes))
            except (ErpRejected, ErpConflict) as exc:
                results.append(exc)
        return results

    def _isolate(self, batch: list[Operation], message: str, report: SyncReport) -> bool:
        """The ERP failed on the whole batch: split it until the operation at fault is alone, so
        the others are applied; the one at fault counts a fault (failed at the cap)."""
        if len(batch) == 1:
            self._count_fault(batch[0], message, report)
            self._notify()
            return True
        middle = len(batch) // 2
        first, second = batch[:middle], batch[middle:]
        if not self._push_batch(first, report):
            self.store.outbox.release([op.id for op in second], owner=self.owner)
            return False
        # What depends on an operation of the first half that did not apply waits for it.
        unsettled = {op.id for op in first if (self.store.operation(op.id) or {}).get("state") != DONE}
        ready = [op for op in second if not unsettled & set(op.depends_on)]
        waiting = [op.id for op in second if unsettled & set(op.depends_on)]
        if waiting:
            self.store.outbox.release(waiting, owner=self.owner)
            unsettled |= set(waiting)
        if not ready:
            return True
        return self._push_batch(ready, report)

    def _count_fault(self, op: Operation, message: str, report: SyncReport) -> None:
        state = self.store.outbox.fault(op.id, message, owner=self.owner, rng=self._rng)
        report.faults += 1
        if state == FAILED:
            report.failed += 1
            log.warning("sync: operation %s (%s) failed: %s", op.id, op.type, message)

    def _give_back(self, batch: list[Operation], message: str, report: SyncReport) -> None:
        with self.store.atomic():
            for op in batch:
                self.store.outbox.requeue(op.id, message, delay=0.0, owner=self.owner)
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
