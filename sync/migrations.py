"""The store's schema, as migrations applied in order and recorded in the file itself.

A migration is never edited once released: a schema change is a new function appended at the end.
``sqlite_utils.migrations`` records each applied name in ``_sqlite_migrations``; a file holding a
name this code does not know was written by a newer version of the station (see ``Store.open``).
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("returns_station_store")


@migrations()
def m001_reference_cache(db: Database) -> None:
    # Each reference kind keeps its whole record as JSON (the sync.reference shape) beside the
    # columns the station looks it up by.
    db.execute(
        """CREATE TABLE products (
            id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL,
            write_date TEXT, data TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX products_code ON products (code COLLATE NOCASE)")
    db.execute(
        """CREATE TABLE product_barcodes (
            code TEXT NOT NULL, product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
            PRIMARY KEY (code, product_id)) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX product_barcodes_product ON product_barcodes (product_id)")
    db.execute(
        """CREATE TABLE lots (
            id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, number TEXT NOT NULL,
            write_date TEXT, data TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX lots_product_number ON lots (product_id, number)")
    db.execute(
        """CREATE TABLE returns (
            id INTEGER PRIMARY KEY, number TEXT, rma TEXT, tracking TEXT, order_number TEXT,
            state TEXT NOT NULL, write_date TEXT, data TEXT NOT NULL)"""
    )
    for column in ("number", "rma", "tracking", "order_number"):
        db.execute(f"CREATE INDEX returns_{column} ON returns ({column} COLLATE NOCASE)")
    db.execute(
        """CREATE TABLE shipments (
            id INTEGER PRIMARY KEY, number TEXT, order_number TEXT,
            state TEXT NOT NULL, write_date TEXT, data TEXT NOT NULL)"""
    )
    for column in ("number", "order_number"):
        db.execute(f"CREATE INDEX shipments_{column} ON shipments ({column} COLLATE NOCASE)")
    db.execute("CREATE TABLE locations (id INTEGER PRIMARY KEY, write_date TEXT, data TEXT NOT NULL)")
    db.execute("CREATE TABLE people (badge TEXT PRIMARY KEY, write_date TEXT, data TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE approvals (
            request_id TEXT PRIMARY KEY, state TEXT NOT NULL, write_date TEXT, data TEXT NOT NULL)"""
    )
    db.execute("CREATE TABLE cursors (kind TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)")


@migrations()
def m002_outbox(db: Database) -> None:
    # seq keeps the order operations were queued in; id is the operation's UUID (idempotency key).
    db.execute(
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            version INTEGER NOT NULL,
            station TEXT NOT NULL,
            user TEXT NOT NULL,
            created_at TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            error TEXT,
            depends_on TEXT NOT NULL,
            operation TEXT NOT NULL,
            erp_refs TEXT)"""
    )
    db.execute("CREATE INDEX outbox_state ON outbox (state, seq)")


@migrations()
def m003_drafts_photos_audit(db: Database) -> None:
    db.execute("CREATE TABLE drafts (key TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE photos (
            sha256 TEXT PRIMARY KEY, mime TEXT NOT NULL, size INTEGER NOT NULL, added_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL, who TEXT NOT NULL, what TEXT NOT NULL, station TEXT NOT NULL,
            op_id TEXT, detail TEXT)"""
    )
    db.execute("CREATE INDEX audit_op ON audit (op_id)")
    # Append-only: the file itself refuses to change or remove history.
    db.execute(
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"""
    )
    db.execute(
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"""
    )


@migrations()
def m004_progress_lease_faults(db: Database) -> None:
    # What this station confirmed, one row per return line, unit or shipment it concerns, written
    # in the same transaction as the operation that carries it: tasks read it instead of the
    # outbox's payloads, and a confirm re-checks it (a unit is never confirmed twice).
    db.execute(
        """CREATE TABLE progress (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            op_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            line TEXT NOT NULL DEFAULT '',
            quantity REAL NOT NULL DEFAULT 0,
            data TEXT,
            at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX progress_subject ON progress (kind, subject)")
    db.execute("CREATE INDEX progress_op ON progress (op_id)")
    # The one process that sends this station's outbox, and its heartbeat.
    db.execute(
        """CREATE TABLE outbox_lease (
            name TEXT PRIMARY KEY, holder TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
            acquired_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL, beats INTEGER NOT NULL DEFAULT 0)"""
    )
    # Who claimed a row in 'sending' (a lease holder), and how many times the ERP failed on it when
    # sent alone (an unreachable ERP never counts): at the cap it becomes 'failed'.
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN faults INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX outbox_done_at ON outbox (state, updated_at)")
    # Photos the ERP confirmed holding (pruned from the station after that).
    db.execute("ALTER TABLE photos ADD COLUMN confirmed_at TEXT")
    _backfill_progress(db)


def _backfill_progress(db: Database) -> None:
    """A station upgraded with work in its outbox keeps knowing what it confirmed."""
    import json

    from sync.progress import progress_of

    rows = db.execute(
        "SELECT id, operation, created_at FROM outbox WHERE state != 'cancelled' ORDER BY seq"
    ).fetchall()
    for op_id, text, created_at in rows:
        for entry in progress_of(json.loads(text)):
            db.execute(
                "INSERT INTO progress (op_id, kind, subject, line, quantity, data, at)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    op_id,
                    entry.kind,
                    entry.subject,
                    entry.line,
                    entry.quantity,
                    json.dumps(entry.data, sort_keys=True) if entry.data is not None else None,
                    created_at,
                ),
            )


@migrations()
def m005_rules(db: Database) -> None:
    # The disposition rules pulled from the ERP, one row per version (the newest is in force).
    db.execute("CREATE TABLE rules (version TEXT PRIMARY KEY, write_date TEXT, data TEXT NOT NULL)")


@migrations()
def m006_pin_verifiers(db: Database) -> None:
    # A station keeps no PIN hash from the pull: only a verifier per person who signed in here
    # while the ERP could check the PIN, until it expires (sync.common.pins).
    db.execute(
        """CREATE TABLE pin_verifiers (
            badge TEXT PRIMARY KEY, verifier TEXT NOT NULL, pin_version INTEGER NOT NULL DEFAULT 0,
            expires_at TEXT NOT NULL, saved_at TEXT NOT NULL)"""
    )
    # Hashes an older ERP sent with every person are forgotten.
    db.execute("UPDATE people SET data = json_remove(data, '$.pin_hash')")
    # The lockout reads one badge's sign-in history.
    db.execute("CREATE INDEX audit_who ON audit (who, seq)")


@migrations()
def m007_refusal_counts(db: Database) -> None:
    # Refusals a person got at this station, by code, not yet reported to the ERP: the next
    # station_status operation takes them (and empties this) in the transaction that queues it.
    db.execute("CREATE TABLE refusal_counts (code TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID")


@migrations()
def m008_queue_stage_times(db: Database) -> None:
    # Returns and shipments now come with when their stage began (received_at, created_at), which
    # the supervisor's queues age by; the open ones cached before lack them. Move each pull cursor
    # back to the day of the oldest open one cached, so the next pull fetches them again (with
    # everything else changed since: nothing that changed after the old cursor is skipped, as it
    # would be by forgetting the cursor, whose first pull brings only the open ones).
    open_states = {"returns": "'draft', 'received'", "shipments": "'waiting', 'assigned', 'picked'"}
    for kind, states in open_states.items():
        db.execute(
            f"""UPDATE cursors SET value = MIN(value, COALESCE(
                    (SELECT substr(MIN(write_date), 1, 10) || ' 00:00:00' FROM {kind}
                     WHERE state IN ({states}) AND write_date IS NOT NULL), value))
                WHERE kind = ?""",
            (kind,),
        )


def known_names() -> list[str]:
    """The migration names this code knows, in order."""
    return [migration.name for migration in migrations._migrations]
