"""The station's one SQLite file: reference cache, outbox, drafts, photos and audit log.

SCAFFOLD — the public surface the workflows and the UI code against. The sync helper replaces
every body; signatures may grow (new keyword arguments with defaults) but not break.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sync.operations import Operation
from sync.reference import Approval, Location, Lot, Person, Product, Return, Shipment


class StoreError(Exception):
    """The store file cannot be used (corrupt, truncated, newer schema); the message says what to do."""


class Store:
    @classmethod
    def open(cls, path: str | Path, *, photos_dir: str | Path | None = None) -> Store:
        """Open (creating if absent) the store at ``path``, run pending migrations. Raises StoreError."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction (nested: savepoint); any exception rolls back."""
        raise NotImplementedError
        yield

    # --- reference cache (sync.reference shapes) -------------------------------------------
    def upsert_reference(self, kind: str, records: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def product(self, product_id: int) -> Product | None:
        raise NotImplementedError

    def product_by_barcode(self, code: str) -> Product | None:
        """The product whose barcode (or SKU) matches ``code``; GTIN-8/12/13/14 forms are equivalent."""
        raise NotImplementedError

    def lot(self, product_id: int, number: str) -> Lot | None:
        raise NotImplementedError

    def find_return(self, text: str) -> Return | None:
        """The return whose RMA, shipment number, tracking number or order number is ``text``."""
        raise NotImplementedError

    def return_(self, return_id: int) -> Return | None:
        raise NotImplementedError

    def returns(self, state: str | None = None) -> list[Return]:
        raise NotImplementedError

    def find_shipment(self, text: str) -> Shipment | None:
        """The outgoing shipment whose number or order number is ``text``."""
        raise NotImplementedError

    def shipment(self, shipment_id: int) -> Shipment | None:
        raise NotImplementedError

    def shipments(self, state: str | None = None) -> list[Shipment]:
        raise NotImplementedError

    def locations(self) -> list[Location]:
        raise NotImplementedError

    def person(self, badge: str) -> Person | None:
        raise NotImplementedError

    def approvals(self, state: str | None = "pending") -> list[Approval]:
        raise NotImplementedError

    def is_empty(self) -> bool:
        """True when no reference data was ever pulled (a new station)."""
        raise NotImplementedError

    # --- outbox ------------------------------------------------------------------------------
    def enqueue(self, op: Operation) -> None:
        """Durably queue ``op`` (committed before return). Re-queuing the same id is a no-op."""
        raise NotImplementedError

    def operations(self, state: str | None = None) -> list[dict[str, Any]]:
        """Outbox rows, oldest first: id, type, state, error, attempts, created_at, operation (dict)."""
        raise NotImplementedError

    def queue_counts(self) -> dict[str, int]:
        """Counts by outbox state: pending, sending, done, failed, conflict (all keys present)."""
        raise NotImplementedError

    # --- drafts: work in progress that must survive a reload or a crash -----------------------
    def save_draft(self, key: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def load_draft(self, key: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def clear_draft(self, key: str) -> None:
        raise NotImplementedError

    # --- photos, content-addressed -----------------------------------------------------------
    def add_photo(self, data: bytes, *, mime: str = "image/jpeg") -> str:
        """Store the bytes as a file named by their SHA-256 (durable before return); return the hash."""
        raise NotImplementedError

    def photo_bytes(self, sha256: str) -> bytes:
        raise NotImplementedError

    def photo_path(self, sha256: str) -> Path:
        raise NotImplementedError

    # --- audit log (append-only) --------------------------------------------------------------
    def audit(self, *, who: str, what: str, station: str, op_id: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        raise NotImplementedError

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        raise NotImplementedError
