"""The station store: reference cache lookups, durable outbox, drafts, photos, audit, migrations."""

import json
import sqlite3
import subprocess
import sys
import threading

import pytest

from sync.migrations import known_names
from sync.operations import new_operation
from sync.store import Store, StoreError, gtin14

TEE = {
    "id": 7,
    "code": "APP-TEE-M-BLK",
    "name": "Tee M black",
    "family": "apparel",
    "category": "Tops",
    "barcodes": ["0950600013435", "036000291452", "96385074"],
    "unit_value": 12.0,
    "lot_tracked": False,
    "serial_tracked": False,
    "write_date": "2026-11-01 10:00:00",
}
RETURN = {
    "id": 12,
    "number": "CR00012",
    "rma": "RMA-000123",
    "tracking": "1Z999AA10123456784",
    "order": "SO0042",
    "customer": "Ada",
    "reason": "wrong size",
    "state": "draft",
    "lines": [{"move_id": 40, "product_id": 7, "quantity": 2, "lot": None}],
    "write_date": "2026-11-01 10:00:00",
}


def op(type_="upload_photo", **kw):
    return new_operation(type_, kw.pop("payload", {"sha256": "a" * 64}), station="S1", user="U-1", **kw)


@pytest.mark.parametrize("scanned", ["0950600013435", "00950600013435", "950600013435".zfill(13)])
def test_product_found_by_any_gtin_form_of_its_barcode(store, scanned):
    store.upsert_reference("products", [TEE])
    assert store.product_by_barcode(scanned)["code"] == "APP-TEE-M-BLK"


def test_upc_a_and_ean_13_and_gtin_8_forms_are_equal(store):
    store.upsert_reference("products", [TEE])
    assert store.product_by_barcode("0036000291452")["id"] == 7  # UPC-A scanned as EAN-13
    assert store.product_by_barcode("00000096385074")["id"] == 7  # GTIN-8 as GTIN-14
    assert gtin14("96385074") == "00000096385074"


def test_product_found_by_sku_but_not_by_unknown_code(store):
    store.upsert_reference("products", [TEE])
    assert store.product_by_barcode("app-tee-m-blk")["id"] == 7
    assert store.product_by_barcode("4006381333931") is None
    assert store.product_by_barcode("  ") is None


def test_changed_barcodes_replace_the_old_ones(store):
    store.upsert_reference("products", [TEE])
    store.upsert_reference("products", [{**TEE, "barcodes": ["4006381333931"]}])
    assert store.product_by_barcode("0950600013435") is None
    assert store.product_by_barcode("4006381333931")["id"] == 7


@pytest.mark.parametrize("text", ["RMA-000123", "rma-000123", "CR00012", "1Z999AA10123456784", "SO0042"])
def test_return_found_by_rma_number_tracking_or_order(store, text):
    store.upsert_reference("returns", [RETURN])
    assert store.find_return(text)["id"] == 12


def test_open_return_wins_over_a_closed_one_for_the_same_order(store):
    store.upsert_reference(
        "returns",
        [
            RETURN,
            {**RETURN, "id": 30, "number": "CR00030", "rma": "RMA-9", "tracking": None, "state": "done"},
        ],
    )
    assert store.find_return("SO0042")["id"] == 12
    assert [r["id"] for r in store.returns("done")] == [30]


def test_unknown_reference_kind_is_refused(store):
    with pytest.raises(ValueError, match="unknown reference kind"):
        store.upsert_reference("widgets", [{"id": 1}])


def test_pull_records_and_cursors_are_saved_together(store):
    assert store.is_empty()
    store.apply_pull({"products": [TEE], "people": []}, {"products": "2026-11-01 10:00:00"})
    assert store.cursors() == {"products": "2026-11-01 10:00:00"}
    assert not store.is_empty()


def test_enqueued_operation_is_visible_to_another_process_at_once(store):
    operation = op()
    store.enqueue(operation)
    code = (
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
        "print(c.execute('select state from outbox where id=?',(sys.argv[2],)).fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(store.path), operation.id],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "pending"


def test_enqueue_twice_is_one_operation(store):
    operation = op()
    store.enqueue(operation)
    store.enqueue(operation)
    assert store.queue_counts() == {
        "pending": 1,
        "sending": 0,
        "done": 0,
        "failed": 0,
        "conflict": 0,
        "cancelled": 0,
    }
    (row,) = store.operations()
    assert row["operation"] == operation.to_dict()
    assert row["type"] == "upload_photo" and row["attempts"] == 0 and row["error"] is None


def test_operations_come_back_oldest_first(store):
    ids = [op().id for _ in range(3)]
    for i in ids:
        store.enqueue(op(id=i))
    assert [row["id"] for row in store.operations()] == ids


def test_nested_atomic_rolls_back_to_savepoint(store):
    first, second = op(), op()
    with store.atomic():
        store.enqueue(first)
        with pytest.raises(RuntimeError), store.atomic():
            store.enqueue(second)
            raise RuntimeError("boom")
    assert [row["id"] for row in store.operations()] == [first.id]


def test_failed_block_loses_the_whole_change(store):
    with pytest.raises(RuntimeError), store.atomic():
        store.enqueue(op())
        store.save_draft("receive:12", {"scanned": ["x"]})
        raise RuntimeError("power cut")
    assert store.operations() == [] and store.load_draft("receive:12") is None


def test_drafts_survive_reopening(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as first:
        first.save_draft("receive:12", {"scanned": ["0950600013435"]})
    with Store.open(tmp_path / "s.sqlite") as again:
        assert again.load_draft("receive:12") == {"scanned": ["0950600013435"]}
        again.clear_draft("receive:12")
        assert again.load_draft("receive:12") is None


def test_photo_is_stored_once_under_its_hash(store):
    digest = store.add_photo(b"\xff\xd8jpeg bytes")
    assert store.add_photo(b"\xff\xd8jpeg bytes") == digest
    assert store.photo_bytes(digest) == b"\xff\xd8jpeg bytes"
    assert (
        store.photo_path(digest).name == digest and store.photo_path(digest).parent.parent == store.photos_dir
    )
    assert store.photo_mime(digest) == "image/jpeg"


def test_photo_path_refuses_what_is_not_a_hash(store):
    with pytest.raises(ValueError):
        store.photo_path("../../etc/passwd")


def test_audit_log_is_append_only(store):
    store.audit(who="U-SUP-1", what="cancel", station="S1", op_id="x", detail={"reason": "duplicate"})
    (entry,) = store.audit_log()
    assert entry["who"] == "U-SUP-1" and entry["detail"] == {"reason": "duplicate"}
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.atomic():
        store._db.conn.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.atomic():
        store._db.conn.execute("UPDATE audit SET who = 'someone else'")
    assert len(store.audit_log()) == 1


def test_migrations_are_recorded_in_order_and_run_once(tmp_path):
    Store.open(tmp_path / "s.sqlite").close()
    Store.open(tmp_path / "s.sqlite").close()
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    names = [row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names == known_names()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_from_a_newer_version_is_refused(tmp_path):
    Store.open(tmp_path / "s.sqlite").close()
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('returns_station_store', 'm999_future', 'now')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer version"):
        Store.open(tmp_path / "s.sqlite")


def test_concurrent_enqueue_from_two_threads_loses_nothing(store):
    ops = [op() for _ in range(60)]

    def worker(chunk):
        for operation in chunk:
            store.enqueue(operation)

    threads = [threading.Thread(target=worker, args=(ops[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {row["id"] for row in store.operations()} == {o.id for o in ops}


def test_operation_row_round_trips_json(store):
    operation = op("receive_return", payload={"return_id": 12, "lines": []}, depends_on=["a"])
    store.enqueue(operation)
    row = store.operation(operation.id)
    assert row["depends_on"] == ["a"]
    assert json.dumps(row["operation"], sort_keys=True) == json.dumps(operation.to_dict(), sort_keys=True)
