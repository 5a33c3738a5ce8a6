"""``station erp people``: the admin's CLI for station people, against the real Tryton server."""

from __future__ import annotations

import os
import subprocess

import pytest

from sync.common.pins import verify_pin
from sync.erp.tryton.server import STATION
from tests.fixtures.erp import ROOT

pytestmark = pytest.mark.erp


def people(erp, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "STATION_ERP_ADMIN_URL": erp.admin.url()}
    return subprocess.run(
        [*STATION, "erp", "people", *args], env=env, capture_output=True, text=True, cwd=ROOT, input=stdin
    )


def stored_hash(erp, badge: str) -> str:
    (row,) = erp.call(
        "model.returns.station.person.search_read",
        [("badge", "=", badge)],
        0,
        None,
        None,
        ["pin_hash"],
        {"active_test": False},
    )
    return row["pin_hash"]


def test_enroll_with_a_generated_pin_shows_it_once_and_the_erp_keeps_only_its_hash(erp, tmp_path):
    done = people(
        erp, "enroll", "U-RECV-8", "Tom Berg", "--role", "receiver", "--role", "packer", "--generate"
    )
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if "shown only this once" in x]
    pin = line.rsplit(" ", 1)[1]
    assert pin.isdigit() and verify_pin(pin, stored_hash(erp, "U-RECV-8"))
    assert "scrypt$" not in done.stdout + done.stderr

    listed = people(erp, "list")
    assert listed.returncode == 0, listed.stderr
    (row,) = [x for x in listed.stdout.splitlines() if x.startswith("U-RECV-8")]
    assert "Tom Berg" in row and "packer, receiver" in row

    again = people(erp, "enroll", "U-RECV-8", "Tom Berg", "--role", "receiver", "--generate")
    assert again.returncode == 2 and "already enrolled" in again.stderr

    off = people(erp, "deactivate", "U-RECV-8")
    assert off.returncode == 0, off.stderr
    (row,) = [x for x in people(erp, "list").stdout.splitlines() if x.startswith("U-RECV-8")]
    assert "(inactive)" in row

    pdf = tmp_path / "badges.pdf"
    printed = people(erp, "badges", "--out", str(pdf))
    assert printed.returncode == 0, printed.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and "Wrote 5 badges" in printed.stdout  # the demo's 5 active


def test_a_typed_pin_is_asked_twice_and_a_short_supervisor_pin_is_refused_in_plain_words(erp):
    before = stored_hash(erp, "U-SUPV-1")
    short = people(erp, "pin", "U-SUPV-1", stdin="4321\n4321\n")
    assert short.returncode == 2
    assert "a supervisor's PIN needs at least 6 digits (4 given)" in short.stderr
    differ = people(erp, "pin", "U-SUPV-1", stdin="135790\n135791\n")
    assert differ.returncode == 2 and "the two PINs differ" in differ.stderr
    assert stored_hash(erp, "U-SUPV-1") == before
    done = people(erp, "pin", "U-SUPV-1", stdin="135790\n135790\n")
    assert done.returncode == 0, done.stderr
    assert "135790" not in done.stdout and verify_pin("135790", stored_hash(erp, "U-SUPV-1"))
