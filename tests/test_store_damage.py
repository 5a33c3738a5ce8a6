"""A damaged store file is never silently reset: opening it raises StoreError with what to do, and
the file is left as it was."""

import pytest

from sync.operations import new_operation
from sync.store import Store, StoreError


def filled_store(path):
    with Store.open(path) as store:
        for _ in range(300):
            store.enqueue(
                new_operation(
                    "upload_photo", {"sha256": "b" * 64, "pad": "x" * 500}, station="S1", user="U-1"
                )
            )
        store._db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


def test_truncated_store_raises_and_is_left_untouched(tmp_path):
    path = tmp_path / "station.sqlite"
    content = filled_store(path)
    path.write_bytes(content[: len(content) // 3])
    with pytest.raises(StoreError, match="damaged") as info:
        Store.open(path)
    assert "backup" in str(info.value)
    assert path.read_bytes() == content[: len(content) // 3]


def test_store_truncated_to_nothing_is_not_treated_as_new(tmp_path):
    path = tmp_path / "station.sqlite"
    filled_store(path)
    path.write_bytes(b"")
    with pytest.raises(StoreError, match="empty"):
        Store.open(path)
    assert path.read_bytes() == b""


def test_garbage_file_raises_store_error(tmp_path):
    path = tmp_path / "station.sqlite"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StoreError, match="damaged"):
        Store.open(path)


def test_overwritten_pages_are_detected(tmp_path):
    path = tmp_path / "station.sqlite"
    content = bytearray(filled_store(path))
    content[8192:16384] = b"\x13" * 8192
    path.write_bytes(bytes(content))
    with pytest.raises(StoreError, match="damaged"):
        Store.open(path)


def test_other_sqlite_file_is_not_taken_for_a_store(tmp_path):
    import sqlite3

    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a station store"):
        Store.open(path)
