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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from sync.migrations import known_names, migrations
from sync.operations import Operation, utc_now
from sync.outbox import OUTBOX_STATES, check_transition
from sync.reference import REFERENCE_KINDS, Approval, Location, Lot, Person, Product, Return, Shipment

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MIME_SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


class StoreError(Exception):
    """The store file cannot be used (corrupt, truncated, newer schema); the message says what to do."""


def gtin14(code: str) -> str:
    """The comparable form of a scanned or stored barcode.

    GTIN-8, UPC-A (12), EAN-13 and GTIN-14 of the same item are the same number left-padded with
    zeros, so digit strings of those lengths become 14 digits; anything else (a SKU, a Code 128
    label) is compared trimmed and upper-cased.
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
        """One transaction (nested: savepoint); any exception rolls back."""
        with self._lock, self._db.atomic():
            yield

    def _rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.conn.execute(sql, params)
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
                    conn.execute(
                        "INSERT OR REPLACE INTO people (badge, write_date, data) VALUES (?,?,?)",
                        (record["badge"], wd, data),
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

    def approvals(self, state: str | None = "pending") -> list[Approval]:
        if state is None:
            return self._data("SELECT data FROM approvals ORDER BY write_date, request_id")
        return self._data(
            "SELECT data FROM approvals WHERE state = ? ORDER BY write_date, request_id", (state,)
        )

    def approval(self, request_id: str) -> Approval | None:
        rows = self._data("SELECT data FROM approvals WHERE request_id = ?", (request_id,))
        return rows[0] if rows else None

    def is_empty(self) -> bool:
        """True when no reference data was ever pulled (a new station)."""
        return self._one("SELECT 1 AS x FROM cursors UNION ALL SELECT 1 FROM products LIMIT 1") is None

    # --- outbox ------------------------------------------------------------------------------
    def enqueue(self, op: Operation) -> None:
        """Durably queue ``op`` (committed before return). Re-queuing the same id is a no-op."""
        now = utc_now()
        with self.atomic():
            self._db.conn.execute(
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

    def operation(self, op_id: str) -> dict[str, Any] | None:
        """One outbox row (see :meth:`operations`), or None."""
        row = self._one("SELECT * FROM outbox WHERE id = ?", (op_id,))
        return _outbox_row(row) if row else None

    def operations(self, state: str | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Outbox rows, oldest first: id, type, state, error, attempts, created_at, operation (dict).

        Also: ``seq``, ``version``, ``station``, ``user``, ``queued_at``, ``updated_at``,
        ``next_attempt_at``, ``depends_on`` (list) and ``erp_refs`` (dict, once applied).
        """
        sql = "SELECT * FROM outbox"
        params: list[Any] = []
        if state is not None:
            sql += " WHERE state = ?"
            params.append(state)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_outbox_row(row) for row in self._rows(sql, params)]

    def queue_counts(self) -> dict[str, int]:
        """Counts by outbox state: pending, sending, done, failed, conflict, cancelled (all keys present)."""
        counts = dict.fromkeys(OUTBOX_STATES, 0)
        for row in self._rows("SELECT state, count(*) AS n FROM outbox GROUP BY state"):
            counts[row["state"]] = row["n"]
        return counts

    def oldest_pending_created_at(self) -> str | None:
        """The station time the oldest operation not yet delivered (pending or sending) was created."""
        row = self._one("SELECT min(created_at) AS at FROM outbox WHERE state IN ('pending', 'sending')")
        return row["at"] if row else None

    def set_operation_state(self, op_id: str, state: str, **fields: Any) -> dict[str, Any]:
        """Move an outbox row to ``state`` (checked by ``sync.outbox``), updating ``fields`` with it.

        ``fields`` may set ``error``, ``attempts``, ``next_attempt_at``, ``erp_refs`` (dict) and
        ``operation`` (an :class:`Operation`, a supervisor's edit). Raises KeyError for an unknown
        id and ``sync.outbox.IllegalTransition`` for a move the state table does not allow.
        """
        allowed = {"error", "attempts", "next_attempt_at", "erp_refs", "operation"}
        if set(fields) - allowed:
            raise TypeError(f"cannot set {sorted(set(fields) - allowed)} on an outbox row")
        with self.atomic():
            row = self._one("SELECT state FROM outbox WHERE id = ?", (op_id,))
            if row is None:
                raise KeyError(f"no operation {op_id} in this station's outbox")
            check_transition(row["state"], state)
            values: dict[str, Any] = {"state": state, "updated_at": utc_now()}
            for name, value in fields.items():
                if name == "erp_refs":
                    value = json.dumps(value, sort_keys=True) if value is not None else None
                elif name == "operation":
                    values["depends_on"] = json.dumps(list(value.depends_on))
                    value = value.to_json()
                values[name] = value
            assignments = ", ".join(f"{name} = ?" for name in values)
            self._db.conn.execute(f"UPDATE outbox SET {assignments} WHERE id = ?", [*values.values(), op_id])
            return self.operation(op_id)  # type: ignore[return-value]

    # --- drafts: work in progress that must survive a reload or a crash -----------------------
    def save_draft(self, key: str, data: dict[str, Any]) -> None:
        with self.atomic():
            self._db.conn.execute(
                "INSERT OR REPLACE INTO drafts (key, data, updated_at) VALUES (?, ?, ?)",
                (key, json.dumps(data, sort_keys=True), utc_now()),
            )

    def load_draft(self, key: str) -> dict[str, Any] | None:
        row = self._one("SELECT data FROM drafts WHERE key = ?", (key,))
        return json.loads(row["data"]) if row else None

    def clear_draft(self, key: str) -> None:
        with self.atomic():
            self._db.conn.execute("DELETE FROM drafts WHERE key = ?", (key,))

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
            raise ValueError("a photo cannot be empty")
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
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(target.parent)
        with self.atomic():
            self._db.conn.execute(
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
            self._db.conn.execute(
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

    def audit_log(self, limit: int = 100, *, op_id: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` audit entries, newest first (only those of ``op_id`` if given)."""
        where, params = ("WHERE op_id = ?", [op_id]) if op_id else ("", [])
        rows = self._rows(f"SELECT * FROM audit {where} ORDER BY seq DESC LIMIT ?", [*params, limit])
        for row in rows:
            row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        return rows


def _outbox_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["operation"] = json.loads(row["operation"])
    out["depends_on"] = json.loads(row["depends_on"])
    out["erp_refs"] = json.loads(row["erp_refs"]) if row["erp_refs"] else None
    return out


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
