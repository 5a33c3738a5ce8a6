"""The station's one SQLite file: reference cache, outbox, drafts, photos and audit log.

One :class:`Store` wraps one ``sqlite_utils.Database`` in WAL mode with ``synchronous=FULL``, so a
call that writes (``enqueue``, ``save_draft``, ``audit``…) has reached the disk when it returns.

Threads: the UI thread and the sync engine's thread share one Store. It holds one connection
guarded by a re-entrant lock: every public method, and every ``atomic()`` block, runs under the
lock, so a block of work is never interleaved with another thread's writes. Other processes (a
``station sync`` next to the app) open their own Store on the same file; WAL and a busy timeout
let them take turns.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from sync.migrations import known_names, migrations
from sync.operations import Operation, utc_now
from sync.outbox import Outbox
from sync.progress import progress_of
from sync.reference import REFERENCE_KINDS, Approval, Location, Lot, Person, Product, Return, Rules, Shipment

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MIME_SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
MAX_PHOTO_BYTES = (
    12 * 1024 * 1024
)  # a phone's full-size JPEG is 3-8 MB; the ERP batch limit is 8 MB of base64


class StoreError(Exception):
    """The store file cannot be used (corrupt, truncated, newer schema); the message says what to do."""


class StoreFault(StoreError):
    """A write could not be saved (disk full, I/O error, locked too long). The transaction was rolled
    back whole: nothing saved before is lost. ``str()`` says so in a worker's words."""


class PhotoRefused(ValueError):
    """A photo the station will not keep (too big, not an image); the message says what to do."""


def _is_fault(exc: BaseException) -> bool:
    """A fault of the disk or the file (full, I/O, locked), not a bug or a refused write."""
    if isinstance(exc, StoreFault):
        return False
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return not any(word in text for word in ("no such", "syntax", "append-only", "constraint"))
    return isinstance(exc, sqlite3.DatabaseError) and "disk" in str(exc).lower()


def _fault_words(exc: BaseException) -> str:
    text = str(exc).lower()
    if "full" in text or getattr(exc, "errno", None) == 28:
        what = "the station's disk is full"
    elif "locked" in text or "busy" in text:
        what = "the station's store is busy (another program holds it)"
    elif "readonly" in text or "read-only" in text or getattr(exc, "errno", None) in (13, 30):
        what = "the station's store cannot be written (read-only)"
    else:
        what = f"the station's store failed to write ({str(exc).splitlines()[0][:80] or type(exc).__name__})"
    return (
        f"NOT SAVED: {what}. Everything confirmed before is kept; the last action was not recorded. "
        "Ask IT to free space or check the disk, then do it again."
    )


def gtin14(code: str) -> str:
    """The comparable form of a scanned or stored barcode.

    GTIN-8, UPC-A (12), EAN-13 and GTIN-14 of the same item are the same number left-padded with
    zeros, so digit strings of those lengths become 14 digits; anything else (a SKU, a Code 128
    label) is compared trimmed and upper-cased. This is a key, not a check: an ERP barcode with a
    wrong check digit must still meet its scan, so it does not validate (``sync.common.gtin``
    does, through biip, where a scan is read).
    """
    text = code.strip()
    if text.isdigit() and len(text) in (8, 12, 13, 14):
        return text.zfill(14)
    return text.upper()


def _damaged(path: Path, detail: str) -> StoreError:
    return StoreError(
        f"the station's store {path} is damaged ({detail}). Nothing was changed. Keep the file (it "
        "may hold operations not yet synced): restore it from a backup, or move it aside and start "
        "again with an empty store, then pull the reference data again."
    )


class Store:
    """The station's SQLite store. Open with :meth:`Store.open`; close with :meth:`close`."""

    def __init__(self, db: Database, path: Path, photos_dir: Path) -> None:
        self._db = db
        self.path = path
        self.photos_dir = photos_dir
        self._lock = threading.RLock()
        self.outbox = Outbox(self)
        # Tests set ``fault_hook(point)``; it is called before each write ("enqueue", "audit",
        # "draft", "progress", "outbox", "commit"...) and may raise, or kill the process.
        self.fault_hook: Callable[[str], None] | None = None
        self.fault: str | None = None  # the last hard fault's words, until a write succeeds again

    # --- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, photos_dir: str | Path | None = None) -> Store:
        """Open (creating if absent) the store at ``path``, run pending migrations. Raises StoreError."""
        path = Path(path)
        photos = Path(photos_dir) if photos_dir is not None else path.parent / "photos"
        if path.exists() and path.stat().st_size == 0 and not Path(f"{path}-wal").exists():
            # SQLite would happily treat an empty file as a new database: a truncated store
            # must not come back silently empty.
            raise _damaged(path, "the file is empty, as if it was truncated")
        if path.exists() and path.is_dir():
            raise StoreError(f"the station's store {path} is a folder, not a file: choose another --data-dir")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            photos.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the station's data folder {path.parent}: {exc.strerror}"
            ) from None
        try:
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the station's store {path}: {exc}") from None
        try:
            db = Database(conn, execute_plugins=False)
            conn.execute("PRAGMA busy_timeout = 10000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(
                    f"the station's store {path} cannot use WAL mode (got {mode}): use a local disk"
                )
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            # Deleted rows (a forgotten PIN hash, a person's draft) are overwritten, not left in
            # free pages: some SQLite builds do it by default, this one must not depend on it.
            conn.execute("PRAGMA secure_delete = ON")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise _damaged(path, check)
            applied = [m.name for m in migrations.applied(db)]
            unknown = [name for name in applied if name not in known_names()]
            if unknown:
                raise StoreError(
                    f"the station's store {path} was written by a newer version of Returns Station "
                    f"(schema {unknown[-1]}): update this station before using it"
                )
            if not applied and db.table_names() and "_sqlite_migrations" not in db.table_names():
                raise StoreError(
                    f"{path} is an SQLite file but not a station store: choose another --data-dir"
                )
            migrations.apply(db)
        except StoreError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _damaged(path, str(exc)) from None
        return cls(db, path, photos)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction (nested: savepoint); any exception rolls back.

        The outer block begins IMMEDIATE: it takes the file's write lock first, so what it reads
        (a confirm's re-check) cannot change under it from another process before it commits.
        An SQLite or disk error becomes :class:`StoreFault` (all of the block rolled back).
        """
        with self._lock:
            conn = self._db.conn
            if conn.in_transaction:
                name = f"sp_{uuid.uuid4().hex}"
                conn.execute(f"SAVEPOINT {name}")
                try:
                    yield
                except BaseException:
                    if conn.in_transaction:
                        conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                        conn.execute(f"RELEASE SAVEPOINT {name}")
                    raise
                else:
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._faulted(exc) from exc
            try:
                yield
                self._hook("commit")
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if _is_fault(exc):
                    raise self._faulted(exc) from exc
                raise
            self.fault = None

    def _faulted(self, exc: BaseException) -> StoreFault:
        fault = StoreFault(_fault_words(exc))
        self.fault = str(fault)
        return fault

    def _hook(self, point: str) -> None:
        if self.fault_hook is not None:
            self.fault_hook(point)

    def _write(self, point: str, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> sqlite3.Cursor:
        """One write statement, inside the caller's ``atomic()`` block; the fault hook runs first."""
        self._hook(point)
        return self._db.conn.execute(sql, params)

    def _rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            try:
                cursor = self._db.conn.execute(sql, params)
            except sqlite3.OperationalError as exc:
                if not _is_fault(exc):
                    raise
                raise self._faulted(exc) from exc
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _one(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _data(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        return [json.loads(row["data"]) for row in self._rows(sql, params)]

    # --- reference cache (sync.reference shapes) -------------------------------------------
    def upsert_reference(self, kind: str, records: list[dict[str, Any]]) -> None:
        """Insert or replace reference records of ``kind`` (one of ``sync.reference.REFERENCE_KINDS``)."""
        if kind not in REFERENCE_KINDS:
            raise ValueError(f"unknown reference kind {kind!r}; expected one of {', '.join(REFERENCE_KINDS)}")
        with self.atomic():
            conn = self._db.conn
            for record in records:
                data = json.dumps(record, sort_keys=True)
                wd = record.get("write_date")
                if kind == "products":
                    conn.execute(
                        "INSERT OR REPLACE INTO products (id, code, name, write_date, data)"
                        " VALUES (?,?,?,?,?)",
                        (record["id"], record.get("code") or "", record.get("name") or "", wd, data),
                    )
                    conn.execute("DELETE FROM product_barcodes WHERE product_id = ?", (record["id"],))
                    codes = {gtin14(c) for c in record.get("barcodes") or [] if c and c.strip()}
                    conn.executemany(
                        "INSERT OR IGNORE INTO product_barcodes (code, product_id) VALUES (?, ?)",
                        [(c, record["id"]) for c in sorted(codes)],
                    )
                elif kind == "lots":
                    conn.execute(
                        "INSERT OR REPLACE INTO lots (id, product_id, number, write_date, data)"
                        " VALUES (?,?,?,?,?)",
                        (record["id"], record["product_id"], record["number"], wd, data),
                    )
                elif kind == "returns":
                    conn.execute(
                        "INSERT OR REPLACE INTO returns (id, number, rma, tracking, order_number, state,"
                        " write_date, data) VALUES (?,?,?,?,?,?,?,?)",
                        (
                            record["id"],
                            record.get("number"),
                            record.get("rma"),
                            record.get("tracking"),
                            record.get("order"),
                            record["state"],
                            wd,
                            data,
                        ),
                    )
                elif kind == "shipments":
                    conn.execute(
                        "INSERT OR REPLACE INTO shipments (id, number, order_number, state, write_date, data)"
                        " VALUES (?,?,?,?,?,?)",
                        (record["id"], record.get("number"), record.get("order"), record["state"], wd, data),
                    )
                elif kind == "locations":
                    conn.execute(
                        "INSERT OR REPLACE INTO locations (id, write_date, data) VALUES (?,?,?)",
                        (record["id"], wd, data),
                    )
                elif kind == "people":
                    # A PIN hash is never cached with a person (an older ERP sent them all): a
                    # station checks PINs with the verifiers of people who signed in here.
                    data = json.dumps({k: v for k, v in record.items() if k != "pin_hash"}, sort_keys=True)
                    conn.execute(
                        "INSERT OR REPLACE INTO people (badge, write_date, data) VALUES (?,?,?)",
                        (record["badge"], wd, data),
                    )
                elif kind == "rules":
                    conn.execute(
                        "INSERT OR REPLACE INTO rules (version, write_date, data) VALUES (?,?,?)",
                        (record["version"], wd, data),
                    )
                else:  # approvals
                    conn.execute(
                        "INSERT OR REPLACE INTO approvals (request_id, state, write_date, data)"
                        " VALUES (?,?,?,?)",
                        (record["request_id"], record["state"], wd, data),
                    )

    def apply_pull(self, records: dict[str, list[dict[str, Any]]], cursors: dict[str, str]) -> None:
        """Cache a pull's records and move its cursors, all in one transaction."""
        with self.atomic():
            for kind, rows in records.items():
                if rows:
                    self.upsert_reference(kind, rows)
            for kind, value in cursors.items():
                self.set_cursor(kind, value)

    def cursors(self) -> dict[str, str]:
        """The pull cursor of each reference kind pulled so far (the ERP's last ``write_date`` seen)."""
        return {row["kind"]: row["value"] for row in self._rows("SELECT kind, value FROM cursors")}

    def set_cursor(self, kind: str, value: str) -> None:
        with self.atomic():
            self._db.conn.execute(
                "INSERT OR REPLACE INTO cursors (kind, value, updated_at) VALUES (?, ?, ?)",
                (kind, value, utc_now()),
            )

    def last_pull_at(self) -> str | None:
        """When any cursor last moved (the station clock), or None if nothing was ever pulled."""
        row = self._one("SELECT max(updated_at) AS at FROM cursors")
        return row["at"] if row else None

    def product(self, product_id: int) -> Product | None:
        rows = self._data("SELECT data FROM products WHERE id = ?", (product_id,))
        return rows[0] if rows else None

    def products(self) -> list[Product]:
        return self._data("SELECT data FROM products ORDER BY code")

    def product_by_barcode(self, code: str) -> Product | None:
        """The product whose barcode (or SKU) matches ``code``; GTIN-8/12/13/14 forms are equivalent."""
        if not code or not code.strip():
            return None
        rows = self._data(
            "SELECT p.data FROM product_barcodes b JOIN products p ON p.id = b.product_id"
            " WHERE b.code = ? ORDER BY p.id LIMIT 1",
            (gtin14(code),),
        )
        if not rows:
            rows = self._data(
                "SELECT data FROM products WHERE code = ? COLLATE NOCASE ORDER BY id LIMIT 1", (code.strip(),)
            )
        return rows[0] if rows else None

    def lot(self, product_id: int, number: str) -> Lot | None:
        rows = self._data(
            "SELECT data FROM lots WHERE product_id = ? AND number = ? ORDER BY id LIMIT 1",
            (product_id, number.strip()),
        )
        return rows[0] if rows else None

    def lots(self, product_id: int) -> list[Lot]:
        return self._data("SELECT data FROM lots WHERE product_id = ? ORDER BY number", (product_id,))

    def find_return(self, text: str) -> Return | None:
        """The return whose RMA, shipment number, tracking number or order number is ``text``.

        When several match (an order returned twice), the one still expected (``draft``) wins,
        then the newest.
        """
        value = text.strip()
        if not value:
            return None
        rows = self._data(
            "SELECT data FROM returns WHERE rma = ?1 COLLATE NOCASE OR number = ?1 COLLATE NOCASE"
            " OR tracking = ?1 COLLATE NOCASE OR order_number = ?1 COLLATE NOCASE"
            " ORDER BY state = 'draft' DESC, id DESC LIMIT 1",
            (value,),
        )
        return rows[0] if rows else None

    def return_(self, return_id: int) -> Return | None:
        rows = self._data("SELECT data FROM returns WHERE id = ?", (return_id,))
        return rows[0] if rows else None

    def returns(self, state: str | None = None) -> list[Return]:
        if state is None:
            return self._data("SELECT data FROM returns ORDER BY id")
        return self._data("SELECT data FROM returns WHERE state = ? ORDER BY id", (state,))

    def find_shipment(self, text: str) -> Shipment | None:
        """The outgoing shipment whose number, order number or customer's reference is ``text``."""
        value = text.strip()
        if not value:
            return None
        rows = self._data(
            "SELECT data FROM shipments WHERE number = ?1 COLLATE NOCASE OR order_number = ?1 COLLATE NOCASE"
            " OR json_extract(data, '$.reference') = ?1 COLLATE NOCASE"
            " ORDER BY state IN ('assigned', 'waiting', 'picked') DESC, id DESC LIMIT 1",
            (value,),
        )
        return rows[0] if rows else None

    def shipment(self, shipment_id: int) -> Shipment | None:
        rows = self._data("SELECT data FROM shipments WHERE id = ?", (shipment_id,))
        return rows[0] if rows else None

    def shipments(self, state: str | None = None) -> list[Shipment]:
        if state is None:
            return self._data("SELECT data FROM shipments ORDER BY id")
        return self._data("SELECT data FROM shipments WHERE state = ? ORDER BY id", (state,))

    def locations(self) -> list[Location]:
        return self._data("SELECT data FROM locations ORDER BY id")

    def person(self, badge: str) -> Person | None:
        rows = self._data("SELECT data FROM people WHERE badge = ?", (badge.strip(),))
        return rows[0] if rows else None

    def people(self) -> list[Person]:
        return self._data("SELECT data FROM people ORDER BY badge")

    # --- PIN verifiers (sync.common.pins) -----------------------------------------------------
    def save_verifier(self, badge: str, verifier: str, expires_at: str, *, pin_version: int = 0) -> None:
        """Keep the ERP's verifier for ``badge`` until ``expires_at`` (ISO UTC), replacing any other."""
        with self.atomic():
            self._write(
                "verifier",
                "INSERT OR REPLACE INTO pin_verifiers (badge, verifier, pin_version, expires_at, saved_at)"
                " VALUES (?,?,?,?,?)",
                (badge.strip(), verifier, int(pin_version or 0), expires_at, utc_now()),
            )

    def verifier(self, badge: str) -> dict[str, Any] | None:
        """``{"badge", "verifier", "pin_version", "expires_at", "saved_at"}`` for ``badge``, or None."""
        return self._one("SELECT * FROM pin_verifiers WHERE badge = ?", (badge.strip(),))

    def forget_verifier(self, badge: str) -> None:
        """Drop ``badge``'s verifier (its next sign-in here needs the ERP)."""
        with self.atomic():
            self._write("verifier", "DELETE FROM pin_verifiers WHERE badge = ?", (badge.strip(),))

    def approvals(self, state: str | None = "pending") -> list[Approval]:
        if state is None:
            return self._data("SELECT data FROM approvals ORDER BY write_date, request_id")
        return self._data(
            "SELECT data FROM approvals WHERE state = ? ORDER BY write_date, request_id", (state,)
        )

    def approval(self, request_id: str) -> Approval | None:
        rows = self._data("SELECT data FROM approvals WHERE request_id = ?", (request_id,))
        return rows[0] if rows else None

    def rules(self) -> Rules | None:
        """The disposition rules last pulled from the ERP (None before the first pull)."""
        rows = self._data("SELECT data FROM rules ORDER BY write_date DESC, rowid DESC LIMIT 1")
        return rows[0] if rows else None

    def is_empty(self) -> bool:
        """True when no reference data was ever pulled (a new station)."""
        return self._one("SELECT 1 AS x FROM cursors UNION ALL SELECT 1 FROM products LIMIT 1") is None

    # --- outbox (all of its SQL lives in sync.outbox.Outbox: ``store.outbox``) ------------------
    def enqueue(self, op: Operation) -> None:
        """Durably queue ``op`` (committed before return). Re-queuing the same id is a no-op."""
        with self.atomic():
            self.outbox.enqueue(op)

    def operation(self, op_id: str) -> dict[str, Any] | None:
        """One outbox row (see :meth:`operations`), or None."""
        return self.outbox.get(op_id)

    def operations(self, state: str | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Outbox rows, oldest first: id, type, state, error, attempts, created_at, operation (dict).

        Also: ``seq``, ``version``, ``station``, ``user``, ``queued_at``, ``updated_at``,
        ``next_attempt_at``, ``depends_on`` (list), ``erp_refs`` (dict, once applied), ``faults``.
        """
        return self.outbox.rows(state, limit=limit)

    def queue_counts(self) -> dict[str, int]:
        """Counts by outbox state: pending, sending, done, failed, conflict, cancelled (all keys present)."""
        return self.outbox.counts()

    def oldest_pending_created_at(self) -> str | None:
        """The station time the oldest operation not yet delivered (pending or sending) was created."""
        return self.outbox.oldest_undelivered_created_at()

    def set_operation_state(self, op_id: str, state: str, **fields: Any) -> dict[str, Any]:
        """Move an outbox row to ``state`` (checked by ``sync.outbox``); see ``Outbox.set_state``."""
        return self.outbox.set_state(op_id, state, **fields)

    def prune(self, *, retention_days: float = 30.0, now: datetime | None = None) -> dict[str, int]:
        """Bounded growth: delete ``done`` operations older than ``retention_days`` (their audit rows
        stay) and the files of photos the ERP holds that nothing here still needs (an operation not
        yet done, a draft, a pending approval's evidence). Never touches anything not yet done."""
        with self.atomic():
            operations = self.outbox.prune(older_than_days=retention_days, now=now)
            delivered = set(self.outbox.photos_delivered())
            needed = self.outbox.photos_still_needed()
        keep_text = " ".join(
            row["data"]
            for row in self._rows(
                "SELECT data FROM drafts UNION ALL SELECT data FROM approvals WHERE state = 'pending'"
            )
        )
        removed = 0
        for sha in sorted(delivered - needed):
            if sha in keep_text:
                continue
            row = self._one("SELECT confirmed_at FROM photos WHERE sha256 = ?", (sha,))
            if row is not None and row["confirmed_at"] is not None:
                continue
            try:
                self.photo_path(sha).unlink(missing_ok=True)
            except (OSError, ValueError):
                continue
            with self.atomic():
                self._write("photo", "UPDATE photos SET confirmed_at = ? WHERE sha256 = ?", (utc_now(), sha))
            removed += 1
        return {"operations": operations, "photos": removed}

    # --- progress: what this station confirmed (sync.progress) ---------------------------------
    def record_progress(self, op: Operation) -> None:
        """Write the progress rows ``op`` carries (call inside the atomic block that queues it)."""
        at = utc_now()
        with self.atomic():
            for entry in progress_of(op.to_dict()):
                self._write(
                    "progress",
                    "INSERT INTO progress (op_id, kind, subject, line, quantity, data, at)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (
                        op.id,
                        entry.kind,
                        entry.subject,
                        entry.line,
                        entry.quantity,
                        json.dumps(entry.data, sort_keys=True) if entry.data is not None else None,
                        at,
                    ),
                )

    def progress(self, kind: str, subject: str | int | None = None) -> list[dict[str, Any]]:
        """Progress rows of ``kind`` (for ``subject`` if given), oldest first: op_id, subject, line,
        quantity, data (dict or None)."""
        if subject is None:
            rows = self._rows("SELECT * FROM progress WHERE kind = ? ORDER BY seq", (kind,))
        else:
            rows = self._rows(
                "SELECT * FROM progress WHERE kind = ? AND subject = ? ORDER BY seq", (kind, str(subject))
            )
        for row in rows:
            row["data"] = json.loads(row["data"]) if row["data"] else None
        return rows

    def forget_progress(self, op_id: str) -> None:
        """Remove what a cancelled operation had confirmed."""
        with self.atomic():
            self._write("progress", "DELETE FROM progress WHERE op_id = ?", (op_id,))

    # --- refusals not yet reported (sync.station_status) -----------------------------------------
    def count_refusal(self, code: str) -> None:
        """Count one refusal of ``code`` shown to a person here (reported with the next status)."""
        with self.atomic():
            self._write(
                "refusal",
                "INSERT INTO refusal_counts (code, count) VALUES (?, 1)"
                " ON CONFLICT (code) DO UPDATE SET count = count + 1",
                (code,),
            )

    def refusal_counts(self) -> dict[str, int]:
        """{code: count} of the refusals not yet reported to the ERP."""
        return {row["code"]: row["count"] for row in self._rows("SELECT code, count FROM refusal_counts")}

    def take_refusal_counts(self) -> dict[str, int]:
        """The refusals not yet reported, emptied: call inside the atomic block that queues the
        status carrying them, so each refusal is reported exactly once."""
        counts = self.refusal_counts()
        self._write("refusal", "DELETE FROM refusal_counts")
        return counts

    # --- drafts: work in progress that must survive a reload or a crash -----------------------
    def save_draft(self, key: str, data: dict[str, Any]) -> None:
        with self.atomic():
            self._write(
                "draft",
                "INSERT OR REPLACE INTO drafts (key, data, updated_at) VALUES (?, ?, ?)",
                (key, json.dumps(data, sort_keys=True), utc_now()),
            )

    def load_draft(self, key: str) -> dict[str, Any] | None:
        row = self._one("SELECT data FROM drafts WHERE key = ?", (key,))
        return json.loads(row["data"]) if row else None

    def clear_draft(self, key: str) -> None:
        with self.atomic():
            self._write("draft", "DELETE FROM drafts WHERE key = ?", (key,))

    def drafts(self) -> list[dict[str, Any]]:
        """Every saved draft: key, data (dict), updated_at; oldest first."""
        return [
            {"key": row["key"], "data": json.loads(row["data"]), "updated_at": row["updated_at"]}
            for row in self._rows("SELECT * FROM drafts ORDER BY updated_at")
        ]

    # --- photos, content-addressed -----------------------------------------------------------
    def add_photo(self, data: bytes, *, mime: str = "image/jpeg") -> str:
        """Store the bytes as a file named by their SHA-256 (durable before return); return the hash."""
        if not data:
            raise PhotoRefused("the photo is empty: take it again")
        if len(data) > MAX_PHOTO_BYTES:
            raise PhotoRefused(
                f"the photo is too big ({len(data) / 1e6:.1f} MB; at most {MAX_PHOTO_BYTES / 1e6:.0f} MB): "
                "take it again at a lower resolution"
            )
        if mime not in _MIME_SUFFIX or _looks_like_other(data):
            raise PhotoRefused(
                f"that file is not a photo the station keeps ({mime}): use a JPEG, PNG or WebP picture"
            )
        digest = hashlib.sha256(data).hexdigest()
        target = self.photo_path(digest)
        if not target.exists() or target.stat().st_size != len(data):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except OSError as exc:
                Path(tmp).unlink(missing_ok=True)
                raise self._faulted(exc) from exc
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(target.parent)
        with self.atomic():
            self._write(
                "photo",
                "INSERT OR IGNORE INTO photos (sha256, mime, size, added_at) VALUES (?, ?, ?, ?)",
                (digest, mime, len(data), utc_now()),
            )
        return digest

    def photo_bytes(self, sha256: str) -> bytes:
        """The photo's bytes; FileNotFoundError when this station does not hold it."""
        return self.photo_path(sha256).read_bytes()

    def photo_path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a photo hash: {sha256!r}")
        return self.photos_dir / sha256[:2] / sha256

    def photo_mime(self, sha256: str) -> str | None:
        row = self._one("SELECT mime FROM photos WHERE sha256 = ?", (sha256,))
        return row["mime"] if row else None

    # --- audit log (append-only) --------------------------------------------------------------
    def audit(
        self,
        *,
        who: str,
        what: str,
        station: str,
        op_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one entry to the audit log (durable before return). Entries are never changed."""
        with self.atomic():
            self._write(
                "audit",
                "INSERT INTO audit (at, who, what, station, op_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    utc_now(),
                    who,
                    what,
                    station,
                    op_id,
                    json.dumps(detail, sort_keys=True) if detail is not None else None,
                ),
            )

    def audit_log(
        self,
        limit: int = 100,
        *,
        op_id: str | None = None,
        who: str | None = None,
        what: tuple[str, ...] = (),
        since: str | None = None,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` audit entries, newest first; only those of ``op_id``, of ``who``, of
        the kinds in ``what`` and written at or after ``since`` (ISO, UTC) when given."""
        clauses, params = [], []
        if op_id:
            clauses.append("op_id = ?")
            params.append(op_id)
        if who is not None:
            clauses.append("who = ?")
            params.append(who)
        if what:
            clauses.append(f"what IN ({', '.join('?' for _ in what)})")
            params.extend(what)
        if since is not None:
            clauses.append("at >= ?")
            params.append(since)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._rows(f"SELECT * FROM audit {where} ORDER BY seq DESC LIMIT ?", [*params, limit])
        for row in rows:
            row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        return rows


_NOT_PICTURES = (b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\x00\x00\x00", b"MZ", b"{", b"<")


def _looks_like_other(data: bytes) -> bool:
    """True when the bytes begin like a known non-picture file (PDF, zip, GIF, video, text markup)."""
    return data.startswith(_NOT_PICTURES)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
