"""The session facade: one person at one station doing one task at a time.

The UI, the CLI and ``station replay`` all drive the station through :class:`StationSession`, so
there is one code path. Every action returns :class:`Accepted` or :class:`Refusal` (a value, never
an exception for a person's mistake); :meth:`StationSession.view` gives the current task's view
model. The task in progress is saved as a store draft after every action, so a reload or a crash
loses nothing: the same person signing in again finds it where they left it.

Typical use::

    session = StationSession(store, "dock-1")
    session.sign_in("U-RECV-1", "1111")
    session.start("receive")
    session.scan("RMA-000123")          # the return
    session.scan("0950600013435")       # each item
    session.confirm()                   # or confirm(reason="second parcel expected")
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.workflows.people import SIGN_IN_REFUSED, TASK_LABELS, TASK_ROLES, authenticate, tasks_for
from app.workflows.pulled_rules import PulledRuleBook
from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.scanning import read_scan
from app.workflows.tasks import TASKS, Task
from app.workflows.tasks.base import lookup_product
from app.workflows.views import TaskView
from sync.common.families import Answer
from sync.common.pins import CLEARS, MAX_PIN_LOCKOUT, REFUSED, locked_for
from sync.common.rules import RuleBook
from sync.erp.protocol import Offline, Refused
from sync.operations import Operation, new_operation
from sync.outbox import IllegalTransition, OutboxError, allowed_actions
from sync.reference import Person
from sync.store import PhotoRefused, StoreFault

if TYPE_CHECKING:  # the domain never opens SQLite itself: it is handed a store
    from sync.store import Store

DEFAULT_IDLE_SIGN_OUT = timedelta(minutes=10)
MAX_REFUSALS_SHOWN = 5
SIGN_IN_CHECK = "returns.station.signin.check"  # the ERP module's signin.py
SIGN_IN_UNLOCK = "returns.station.signin.unlock"
# "12*" typed before a scan: that many identical units (the count, a star, the scan)
QUANTITY = re.compile(r"(?P<count>\d{1,4})\*(?P<code>.+)", re.S)
MAX_QUANTITY = 999


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _audit_time(at: str) -> datetime:
    return datetime.strptime(at.rstrip("Z")[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def _locked(wait: timedelta) -> Refusal:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return Refusal(
        "locked_out", f"too many wrong tries for this badge: wait {minutes} minutes, or ask a supervisor"
    )


class StationSession:
    """One station's working session. Not thread-safe: call it from one thread (the UI's, or replay's).

    ``store`` is a :class:`sync.store.Store`; ``rules`` the rule book in force (default: the rules
    pulled from the ERP into ``store``, see :func:`rules_for`); ``clock`` returns an aware UTC
    datetime (tests pass a fake one); ``idle_sign_out`` signs the person out after that long
    without an action."""

    def __init__(
        self,
        store: Store,
        station_id: str,
        *,
        rules: RuleBook | None = None,
        clock: Callable[[], datetime] = _utc_now,
        idle_sign_out: timedelta = DEFAULT_IDLE_SIGN_OUT,
        gs_replacement: str | None = None,
        requester: Callable[..., Any] | None = None,
        sort_to_totes: bool | Callable[[], bool] = False,
    ) -> None:
        self.store = store
        self.station_id = station_id
        self.rules = rules or rules_for(store)
        self.clock = clock
        self.idle_sign_out = idle_sign_out
        self.gs_replacement = gs_replacement  # the scanner's printable stand-in for GS1's GS
        # The sync engine's online request port (SyncEngine.request); None: no ERP, always offline.
        self.requester = requester
        # Inspect asks for the tote of each unit's disposition (app/workflows/tasks/sorting.py); a
        # function gives the station's setting as it is now (the Settings screen may change it)
        self.sort_to_totes = sort_to_totes
        self._person: Person | None = None
        self._task: Task | None = None
        self._last_action: datetime | None = None
        self._last: Outcome | None = None
        self._refusals: list[Refusal] = []
        self.fault: str | None = None  # the last hard fault of the store, in plain words

    # --- the clock and the desk (what tasks use) ------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().date()

    @property
    def person(self) -> Person:
        assert self._person is not None, "no one is signed in"
        return self._person

    def operation(
        self, type: str, payload: dict[str, Any], depends_on: list[str] | tuple[str, ...] = ()
    ) -> Operation:
        """A new operation stamped with this station, the signed-in person's badge and the clock."""
        stamp = self.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return new_operation(
            type,
            payload,
            station=self.station_id,
            user=self.person["badge"],
            depends_on=tuple(depends_on),
            created_at=stamp,
        )

    def queue(self, ops: list[Operation], what: str) -> None:
        """Queue ``ops`` with their audit row and the progress they carry, in one transaction (the
        caller's: a confirm's draft commits with them). All of them or none."""
        with self.store.atomic():
            for op in ops:
                self.store.enqueue(op)
                self.store.record_progress(op)
            self.store.audit(
                who=self.person["badge"],
                what=what,
                station=self.station_id,
                op_id=ops[-1].id if ops else None,
                detail={"operations": [op.id for op in ops]},
            )

    def progress(self, kind: str, subject: str | int | None = None) -> list[dict[str, Any]]:
        """What this station confirmed (sync.progress rows of ``kind``, for ``subject`` if given)."""
        return self.store.progress(kind, subject)

    def request(self, method: str, *args: Any) -> Any:
        """Ask the ERP something now through the sync engine: its answer, Offline or Refused."""
        if self.requester is None:
            return Offline("this station has no ERP configured")
        return self.requester(method, *args)

    # --- people ----------------------------------------------------------------------------------
    @property
    def signed_in(self) -> Person | None:
        """The person signed in, or None (also after an idle sign-out)."""
        self.expire_if_idle()
        return self._person

    def sign_in(self, badge: str, pin: str) -> Outcome:
        """Sign in by badge and PIN. A wrong badge and a wrong PIN get the same refusal. Signing in
        while someone else is signed in signs them out first (their work is kept as a draft).

        When the ERP can be reached it checks the PIN (``returns.station.signin.check``), counts
        wrong PINs for the badge across every station, and hands this station a verifier that
        lets the person sign in here offline until it expires. Offline, only a person holding a
        valid verifier signs in; anyone else is told the ERP is needed. After ``MAX_PIN_TRIES``
        wrong PINs a badge is locked, here and (online) in the ERP, for a time that grows."""
        badge = badge.strip()
        # Online, the ERP's count (every station's tries) decides, so a supervisor's unlock at any
        # station frees the badge here too; offline, this station's own count does.
        answer = self.request(SIGN_IN_CHECK, badge, pin)
        if isinstance(answer, Refused):
            refusal = Refusal("sign_in_erp_refused", f"the ERP refused to check the PIN: {answer.reason}")
            return self._record(refusal)
        if isinstance(answer, Offline) or not isinstance(answer, dict):
            lock = self._lockout(badge)
            if lock is not None:
                self.store.audit(who=badge, what="sign-in while locked", station=self.station_id)
                return self._record(_locked(lock))
            found = authenticate(self.store, badge, pin, self.now())
        elif answer.get("status") == "locked":
            self.store.audit(who=badge, what="sign-in while locked", station=self.station_id)
            return self._record(_locked(timedelta(seconds=float(answer.get("wait_s") or 60))))
        elif answer.get("status") == "ok":
            found = self._verified(answer)
        else:
            found = SIGN_IN_REFUSED
        if isinstance(found, Refusal):
            if found.code == "sign_in_refused":
                # Text that is no badge may be a PIN typed in the wrong field: it is never written down.
                who = badge if self.store.person(badge) is not None else "(unknown badge)"
                self.store.audit(who=who, what=REFUSED, station=self.station_id)
            return self._record(found)
        if self._person is not None and self._person["badge"] != found["badge"]:
            self.sign_out()
        self._person = found
        self._last_action = self.now()
        self._refusals = []
        self._task = None
        self.store.audit(who=found["badge"], what="signed in", station=self.station_id)
        draft = self.store.load_draft(self._draft_key())
        resumed = ""
        if draft and draft.get("kind") in TASKS:
            task = TASKS[draft["kind"]](self)
            task.restore(draft)
            self._task = task
            resumed = f" Resumed your {TASK_LABELS[task.kind].lower()}"
            resumed += f" of {task.subject()}." if task.subject() else "."
        tasks = ", ".join(TASK_LABELS[t] for t in tasks_for(found)) or "none (ask a supervisor for a role)"
        return self._record(Accepted(f"Hello {found['name']}. Your tasks: {tasks}.{resumed}"))

    def _verified(self, answer: dict[str, Any]) -> Person:
        """The person the ERP just checked: cached with the verifier it gave this station."""
        person = answer["person"]
        with self.store.atomic():
            self.store.upsert_reference("people", [person])
            self.store.save_verifier(
                person["badge"],
                answer["verifier"],
                answer["expires_at"],
                pin_version=int(person.get("pin_version") or 0),
            )
        return self.store.person(person["badge"]) or person

    def _lockout(self, badge: str) -> timedelta | None:
        """How much longer ``badge`` is locked at this station (None: not locked), counted by time
        from the audit log (so the lock holds across tabs and restarts; sync.common.pins.locked_for).
        Online, the ERP counts the badge's wrong PINs at every station as well."""
        if not badge or self.store.person(badge) is None:
            return None
        now = datetime.now(UTC)  # the audit log's clock
        since = (now - MAX_PIN_LOCKOUT).strftime("%Y-%m-%dT%H:%M:%S")
        entries = self.store.audit_log(10_000, who=badge, what=(REFUSED, *CLEARS), since=since)
        return locked_for(((e["what"], _audit_time(e["at"])) for e in entries), now)

    def unlock(self, badge: str) -> Outcome:
        """A signed-in supervisor lifts the PIN lock of ``badge`` at this station and, online, in
        the ERP (for every station); audited with who did it."""
        if self._person is None or "supervisor" not in (self._person.get("roles") or ()):
            return self._record(Refusal("not_allowed", "only a signed-in supervisor can unlock a badge"))
        badge = badge.strip()
        if self.store.person(badge) is None:
            return self._record(Refusal("unknown_badge", f"no person has badge {badge}"))
        here = self._lockout(badge) is not None
        answer = self.request(SIGN_IN_UNLOCK, badge, self._person["badge"])
        in_erp = isinstance(answer, dict) and bool(answer.get("was_locked"))
        if isinstance(answer, Refused):
            return self._record(Refusal("unlock_refused", f"the ERP refused the unlock: {answer.reason}"))
        if not here and not in_erp:
            return self._record(Refusal("not_locked", f"badge {badge} is not locked"))
        self.store.audit(
            who=badge, what="unlocked", station=self.station_id, detail={"by": self._person["badge"]}
        )
        if isinstance(answer, Offline):
            return self._record(
                Accepted(
                    f"badge {badge} unlocked at this station (the ERP is out of reach: other stations "
                    "may still hold it locked)"
                )
            )
        return self._record(Accepted(f"badge {badge} unlocked: they can sign in again"))

    def sign_out(self, *, why: str = "signed out") -> Outcome:
        """Sign out; the task in progress stays saved as this person's draft."""
        if self._person is None:
            return Accepted("no one is signed in")
        self._save_draft()
        self.store.audit(who=self._person["badge"], what=why, station=self.station_id)
        name = self._person["name"]
        self._person, self._task, self._last_action = None, None, None
        self._refusals = []
        return Accepted(f"{name} signed out")

    def expire_if_idle(self) -> bool:
        """Sign out when idle too long (the UI calls this on a timer). True when it signed out."""
        if self._person is None or self._last_action is None:
            return False
        if self.now() - self._last_action <= self.idle_sign_out:
            return False
        self.sign_out(why="signed out after being idle")
        return True

    def tasks(self) -> list[str]:
        """The tasks the signed-in person may start (``receive``, ``inspect``, ``pack``, ``supervise``)."""
        return tasks_for(self._person) if self._person else []

    @property
    def task(self) -> str | None:
        """The kind of the task in progress, or None."""
        return self._task.kind if self._task else None

    # --- tasks -----------------------------------------------------------------------------------
    def start(self, kind: str) -> Outcome:
        """Begin (or go back to) a task. Refused without the role, or while another task has work
        that would be lost (confirm or cancel it first)."""
        refusal = self._gate()
        if refusal:
            return refusal
        if kind not in TASKS:
            return self._record(
                Refusal("unknown_task", f"no task {kind!r}: choose one of {', '.join(TASKS)}")
            )
        role = TASK_ROLES[kind]
        if role not in (self.person.get("roles") or ()):
            return self._record(
                Refusal(
                    "no_role",
                    f"{TASK_LABELS[kind]} needs the {role} role; {self.person['name']} does not have it",
                )
            )
        if self._task is not None and self._task.kind == kind:
            return self._record(Accepted(f"{TASK_LABELS[kind]}: {self._task.view().prompt}"))
        if self._task is not None and self._task.has_progress():
            current = TASK_LABELS[self._task.kind].lower()
            subject = f" of {self._task.subject()}" if self._task.subject() else ""
            return self._record(
                Refusal("task_open", f"finish your {current}{subject} first: confirm or cancel it")
            )
        self._task = TASKS[kind](self)
        self._refusals = []
        self._save_draft()
        return self._record(Accepted(f"{TASK_LABELS[kind]}: {self._task.view().prompt}"))

    def scan(self, text: str) -> Outcome:
        """What the scanner (or a person at the keyboard) typed, exactly. A badge scanned into a task
        is refused (never recorded as an item): people change at the sign-in screen.

        ``12*`` typed before a scan counts it 12 times (Receive and Pack: a line of many identical
        units): the units are checked one by one as if scanned, and when one of them is refused
        none of the 12 is recorded."""
        counted = QUANTITY.fullmatch(text.strip()) if "*" in text[:5] else None
        if counted is not None:
            return self._scan_many(int(counted["count"]), counted["code"])
        code = read_scan(text, gs_replacement=self.gs_replacement)
        if code.data and not code.gtin and self.store.person(code.data) is not None:
            refusal = self._gate(need_task=True)
            return refusal or self._record(
                Refusal(
                    "badge_scanned",
                    f"{code.data} is a badge, not an item: to change who works here, sign out first",
                )
            )
        return self._act(lambda task: task.scan(code))

    def _scan_many(self, count: int, text: str) -> Outcome:
        refusal = self._gate(need_task=True)
        if refusal:
            return refusal
        if self._task.kind not in ("receive", "pack"):
            return self._record(Refusal("no_quantity", "a quantity (12*) is for Receive and Pack"))
        if not 1 <= count <= MAX_QUANTITY:
            return self._record(
                Refusal("bad_quantity", f"a quantity is 1 to {MAX_QUANTITY} (typed {count}*): type it again")
            )
        code = read_scan(text, gs_replacement=self.gs_replacement)
        product = lookup_product(self, code)
        job_open = self._task.subject() is not None or getattr(self._task, "blind", None) is not None
        if product is None or not job_open:
            return self._record(
                Refusal("no_quantity", f"{count}* needs an item's barcode after it, with the job open")
            )
        if product.get("serial_tracked") or code.serial:
            return self._record(
                Refusal(
                    "no_quantity", f"{product['name']} has a serial per unit: scan each unit, not {count}*"
                )
            )
        before = self._task.to_draft()
        last: Outcome | None = None
        for n in range(count):
            last = self._task.scan(code)
            if isinstance(last, Refusal):
                self._task.restore(before)
                return self._record(
                    Refusal(
                        last.code,
                        f"{count} × {product['name']}: unit {n + 1} refused, none recorded. {last.message}",
                    )
                )
        self._save_draft()
        assert isinstance(last, Accepted)
        return self._record(
            Accepted(f"{count} × {product['name']} recorded. {last.message}", warning=last.warning)
        )

    def photo(self, data: bytes, *, mime: str = "image/jpeg") -> Outcome:
        """A photo of the unit being inspected; stored on the station (content-addressed) at once."""
        refusal = self._gate(need_task=True)
        if refusal:
            return refusal
        if not data:
            return self._record(Refusal("empty_photo", "the photo is empty: take it again"))
        if self._task.kind != "inspect":
            return self._record(Refusal("not_here", "photos are taken in Inspect"))
        try:
            sha = self.store.add_photo(data, mime=mime)
        except PhotoRefused as exc:
            return self._record(Refusal("photo_refused", str(exc)))
        except StoreFault as exc:
            return self._record(self._fault(exc))
        return self._act(lambda task: task.photo(sha, mime))

    def grade(self, grade: str) -> Outcome:
        """Grade the unit: A like new, B good, C fair, D damaged, F unsaleable."""
        return self._act(lambda task: task.grade(grade))

    def check(self, answers: Mapping[str, Answer]) -> Outcome:
        """Answer checklist items of the unit's family, e.g. ``{"powers_on": True}``."""
        return self._act(lambda task: task.check(dict(answers)))

    def choose_disposition(self, disposition: str | None) -> Outcome:
        """Override the rules' disposition (needs a supervisor's approval); None goes back to the rule's."""
        return self._act(lambda task: task.choose(disposition))

    def confirm(self, reason: str | None = None) -> Outcome:
        """Finish the step: a receipt, an inspected unit, a pack. ``reason`` is needed for a partial
        receipt or a short pack (and is kept as the note of an inspection)."""
        return self._act(lambda task: task.confirm(reason))

    def undo(self) -> Outcome:
        """Take back the last scan of a receipt or a pack."""
        return self._act(lambda task: task.undo())

    def cancel(self) -> Outcome:
        """Drop the work in progress of the current task; nothing is sent."""
        return self._act(lambda task: task.cancel())

    def close_tote(self) -> Outcome:
        """Inspect, sorting into totes: the next tote label scanned is closed (a full tote)."""
        refusal = self._gate(need_task=True)
        if refusal:
            return refusal
        if self._task.kind != "inspect":
            return self._record(Refusal("not_here", "totes are closed in Inspect"))
        return self._act(lambda task: task.close_tote())

    def search_sales(self, query: str) -> Outcome:
        """Receive: find the sale an unannounced parcel came from (online; customer data masked)."""
        return self._receiving(lambda task: task.search(query))

    def choose_sale(self, number: str) -> Outcome:
        """Receive: open an unannounced return against one of the sales the search found."""
        return self._receiving(lambda task: task.choose_sale(number))

    def receive_blind(self) -> Outcome:
        """Receive: a parcel no sale matches (or the ERP is out of reach): scan its items to quarantine."""
        return self._receiving(lambda task: task.receive_blind())

    def _receiving(self, action: Callable[[Any], Outcome]) -> Outcome:
        refusal = self._gate(need_task=True)
        if refusal:
            return refusal
        if self._task.kind != "receive":
            return self._record(Refusal("not_here", "unannounced parcels are received in Receive"))
        return self._act(action)

    def approve(self, request: str = "oldest", note: str = "") -> Outcome:
        """Approve the request named by id, by the return/order number it concerns, or ``oldest``."""
        return self._decide(request, "approve", note)

    def refuse(self, request: str = "oldest", note: str = "") -> Outcome:
        """Refuse a request (a note saying why is required)."""
        return self._decide(request, "refuse", note)

    def decide_approval(self, request_id: str, decision: str, note: str | None = None) -> Outcome:
        """Approve (``decision="approve"``) or refuse (``"refuse"``) one request (the Supervise screen)."""
        if decision not in ("approve", "refuse"):
            return self._record(Refusal("unknown_decision", f"decide approve or refuse (got {decision!r})"))
        return self._decide(request_id, decision, note or "")

    def _decide(self, request: str, decision: str, note: str) -> Outcome:
        refusal = self._gate()
        if refusal:
            return refusal
        if self._task is None or self._task.kind != "supervise":
            started = self.start("supervise")
            if isinstance(started, Refusal):
                return started
        return self._act(lambda task: task.decide(request, decision, note))

    def view(self) -> TaskView | None:
        """The current task's view model, with this task's recent refusals and the last feedback;
        None when no task is open (show the home screen: :meth:`tasks`)."""
        if self._task is None or self._person is None:
            return None
        base = self._task.view()
        return TaskView(
            **{**base.__dict__, "refusals": tuple(self._refusals[-MAX_REFUSALS_SHOWN:]), "last": self._last}
        )

    @property
    def last(self) -> Outcome | None:
        """The feedback of the last action (for a status line)."""
        return self._last

    # --- plumbing --------------------------------------------------------------------------------
    def _draft_key(self) -> str:
        return f"task:{self.person['badge']}"

    def _save_draft(self) -> None:
        if self._person is None:
            return
        if self._task is None:
            self.store.clear_draft(self._draft_key())
        else:
            self.store.save_draft(self._draft_key(), self._task.to_draft())

    def _gate(self, *, need_task: bool = False) -> Refusal | None:
        if self._person is not None and self.expire_if_idle():
            minutes = int(self.idle_sign_out.total_seconds() // 60)
            return self._record(
                Refusal(
                    "signed_out",
                    f"signed out after {minutes} minutes without activity: "
                    "scan your badge to sign in again; your work is kept",
                )
            )
        if self._person is None:
            return self._record(Refusal("not_signed_in", "sign in first: scan your badge and type your PIN"))
        self._last_action = self.now()
        if need_task and self._task is None:
            return self._record(Refusal("no_task", "choose a task first"))
        return None

    def _act(self, action: Callable[[Task], Outcome]) -> Outcome:
        """Run ``action`` and save the task's draft in one transaction with whatever the action
        queued: a crash, a full disk or another tab leaves all of it or none of it."""
        refusal = self._gate(need_task=True)
        if refusal:
            return refusal
        task = self._task
        before = task.to_draft()
        try:
            with self.store.atomic():
                outcome = action(task)
                self._save_draft()
        except StoreFault as exc:
            task.restore(before)  # what the worker sees is what the store holds
            return self._record(self._fault(exc))
        self.fault = None
        return self._record(outcome)

    def _fault(self, exc: StoreFault) -> Refusal:
        self.fault = str(exc)
        return Refusal("store_fault", str(exc))

    # --- the outbox, for a supervisor (the Supervise screen goes through these) -------------------
    def outbox_rows(self, state: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """This station's operations in ``state`` (oldest first), each with ``actions``: the
        supervisor actions the outbox's state table allows for it."""
        rows = self.store.operations(state, limit=limit)
        for row in rows:
            row["actions"] = sorted(allowed_actions(row["state"]))
        return rows

    def held_by_erp(self, *, limit: int = 20) -> list[dict[str, Any]]:
        """This station's delivered operations the ERP holds for a supervisor, newest first; each
        row's ``erp_refs["held"]`` is the ERP's reason."""
        return self.store.outbox.held_by_erp(limit=limit)

    def outbox_counts(self) -> dict[str, int]:
        return self.store.queue_counts()

    def retry_operation(self, op_id: str) -> Outcome:
        """Send a failed or conflicting operation again (a supervisor; audited)."""
        return self._outbox_action(
            "Sent again", lambda who: self.store.outbox.retry(op_id, who=who, station=self.station_id)
        )

    def cancel_operation(self, op_id: str, reason: str) -> Outcome:
        """Give up on an operation, saying why (a supervisor; audited). What it confirmed here is
        released: the unit can be inspected again, the order packed again."""
        if not (reason or "").strip():
            return self._record(
                Refusal("reason_needed", "type why it is cancelled in the Reason field first")
            )
        return self._outbox_action(
            "Cancelled",
            lambda who: self.store.outbox.cancel(op_id, who=who, station=self.station_id, reason=reason),
        )

    def edit_operation(self, op_id: str, payload: Any) -> Outcome:
        """Correct a failed or conflicting operation's payload and send it again (a supervisor; audited)."""
        return self._outbox_action(
            "Edited and sent again",
            lambda who: self.store.outbox.edit(op_id, payload, who=who, station=self.station_id),
        )

    def _outbox_action(self, done: str, fn: Callable[[str], None]) -> Outcome:
        refusal = self._gate()
        if refusal:
            return refusal
        if "supervisor" not in (self.person.get("roles") or ()):
            return self._record(
                Refusal("no_role", "only a supervisor can retry, edit or cancel an operation")
            )
        try:
            fn(self.person["badge"])
        except (IllegalTransition, OutboxError) as exc:
            return self._record(Refusal("outbox_refused", f"{done}: refused: {exc}"))
        except StoreFault as exc:
            return self._record(self._fault(exc))
        return self._record(Accepted(done))

    def _record(self, outcome: Outcome) -> Outcome:
        self._last = outcome
        if isinstance(outcome, Refusal):
            self._refusals.append(outcome)
            del self._refusals[:-MAX_REFUSALS_SHOWN]
            # Counted for the ERP (sync.station_status): a wrong item stopped by scan is something
            # only the station sees. A count lost to a failing disk costs the worker nothing.
            if outcome.code != "store_fault":
                try:
                    self.store.count_refusal(outcome.code)
                except StoreFault:
                    pass
        return outcome


def rules_for(store: Store) -> RuleBook:
    """The rule book of a station: the rules version pulled from the ERP into ``store`` (followed
    as new versions are pulled), the packaged default before the first pull. A station reads no
    rules file of its own: the ERP holds the rules and checks every decision with them."""
    return PulledRuleBook(store)
