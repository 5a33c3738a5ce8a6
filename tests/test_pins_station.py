"""PINs at the station, without an ERP: the lockout counted by time (the same function the ERP
uses), the rule on a PIN's length, scrypt's cost as a setting, and a store upgraded from before
verifiers forgetting the PIN hashes it was sent."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from sync.common.pins import (
    DEFAULT_SCRYPT_N,
    REFUSED,
    hash_pin,
    locked_for,
    new_pin,
    pin_problem,
    scrypt_cost,
    verify_pin,
)
from sync.migrations import migrations
from sync.store import Store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_five_wrong_pins_lock_for_five_minutes_and_each_one_after_doubles_it():
    four = [(REFUSED, ago(m)) for m in (1, 2, 3, 4)]
    assert locked_for(four, NOW) is None
    five = [(REFUSED, ago(0)), *four]
    assert locked_for(five, NOW) == timedelta(minutes=5)
    six = [(REFUSED, ago(0)), *five[1:], (REFUSED, ago(5))]
    assert locked_for(six, NOW) == timedelta(minutes=10)


def test_a_sign_in_or_an_unlock_starts_the_count_again_and_tries_while_locked_never_do():
    refused = [(REFUSED, ago(m)) for m in (0, 1, 2, 3, 4)]
    assert locked_for(refused[:2] + [("unlocked", ago(1.5))] + refused[2:], NOW) is None
    assert locked_for(refused[:1] + [("locked", ago(0.5))] * 300 + refused[1:], NOW) is not None


def test_wrong_pins_older_than_a_day_are_forgotten():
    assert locked_for([(REFUSED, ago(60 * 25 + m)) for m in range(5)], NOW) is None


def test_a_supervisor_pin_needs_six_digits_and_a_pin_is_digits_only():
    assert pin_problem("4444", ["supervisor"]) == "a supervisor's PIN needs at least 6 digits (4 given)"
    assert pin_problem("444444", ["supervisor"]) is None
    assert pin_problem("4444", ["receiver"]) is None
    assert pin_problem("12a4", ["receiver"]) == "a PIN is digits only"
    assert pin_problem("123", ["packer"]) == "a PIN needs at least 4 digits (3 given)"
    assert pin_problem(new_pin(["supervisor"]), ["supervisor"]) is None


def test_scrypt_cost_is_a_setting_kept_in_each_hash():
    assert scrypt_cost({}) == DEFAULT_SCRYPT_N == 2**14
    assert scrypt_cost({"STATION_PIN_SCRYPT_N": "1024"}) == 1024
    assert scrypt_cost({"STATION_PIN_SCRYPT_N": "1000"}) == DEFAULT_SCRYPT_N  # not a power of two
    assert scrypt_cost({"STATION_PIN_SCRYPT_N": "2"}) == DEFAULT_SCRYPT_N  # never weaker than 16
    cheap = hash_pin("2468", n=1024)
    assert cheap.startswith("scrypt$1024$") and verify_pin("2468", cheap)


def test_a_store_from_before_verifiers_forgets_the_pin_hashes_it_was_sent(tmp_path):
    path = tmp_path / "station.sqlite"
    db = Database(path)
    migrations.apply(db, stop_before="m006_pin_verifiers")
    old = {
        "badge": "U-RECV-1",
        "name": "Rosa",
        "roles": ["receiver"],
        "active": True,
        "pin_hash": hash_pin("1111", n=1024),
        "write_date": "2026-11-01",
    }
    db.execute(
        "INSERT INTO people (badge, write_date, data) VALUES (?,?,?)",
        ("U-RECV-1", "2026-11-01", json.dumps(old)),
    )
    db.conn.commit()
    db.close()
    with Store.open(path) as store:
        assert "pin_hash" not in store.person("U-RECV-1")
        assert store.verifier("U-RECV-1") is None
        store.upsert_reference("people", [old])  # an older ERP still sending hashes
        assert "pin_hash" not in store.person("U-RECV-1")
    conn = sqlite3.connect(path)
    plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN SELECT * FROM audit WHERE who = 'x'"))
    assert "audit_who" in plan
    conn.close()


def test_no_byte_of_a_forgotten_pin_hash_stays_in_the_store_file(tmp_path):
    # SQLite leaves deleted text in free space until the page is reused: the hash the upgrade
    # forgot must not be readable from the file (or its write-ahead log) afterwards.
    path = tmp_path / "station.sqlite"
    db = Database(path)
    db.conn.execute("PRAGMA journal_mode = WAL")
    migrations.apply(db, stop_before="m006_pin_verifiers")
    digest = hash_pin("1111", n=1024)
    for n in range(40):  # a floor's people: rows share pages, and freed cells stay in them
        person = {"badge": f"U-RECV-{n}", "name": "Rosa", "roles": ["receiver"], "pin_hash": digest}
        db.execute(
            "INSERT INTO people (badge, write_date, data) VALUES (?,?,?)",
            (f"U-RECV-{n}", "2026-11-01", json.dumps(person)),
        )
    db.conn.commit()
    db.close()
    with Store.open(path) as store:
        assert store.person("U-RECV-7")["name"] == "Rosa"
    secret = digest.split("$")[-1].encode()
    for file in (path, Path(f"{path}-wal")):
        if file.exists():
            assert secret not in file.read_bytes(), f"the old PIN hash is still in {file.name}"
