"""``station erp serve``: starting, restarting, stopping, and refusing bad input in one line."""

from __future__ import annotations

import contextlib
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from sync.erp.address import ErpAddress
from sync.erp.tryton.server import (
    DATABASE,
    STATION,
    ErpProcess,
    ErpSetupError,
    database_file,
    login,
    module_fingerprint,
)
from tests.fixtures.erp import ErpDatabase, copy_database

pytestmark = pytest.mark.erp
ROOT = Path(__file__).resolve().parents[1]


def serve(
    data_dir: Path, *args: str, password: str = "admin", timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*STATION, "erp", "serve", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "STATION_ERP_PASSWORD": password},
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("station: ")
    return result.stderr


def test_restart_on_an_existing_database_answers_again_on_the_same_port(erp_private):
    port = erp_private.address.port
    erp_private.call(
        "model.stock.shipment.out.return.write",
        [
            erp_private.call(
                "model.stock.shipment.out.return.search",
                [("reference", "=", "RMA-000101")],
                0,
                None,
                None,
                {},
            )[0]
        ],
        {"tracking_number": "1ZRESTARTED"},
        {},
    )
    erp_private.stop()
    started = time.monotonic()
    erp_private.start()
    restart_seconds = time.monotonic() - started
    assert erp_private.address.port == port
    (row,) = erp_private.call(
        "model.stock.shipment.out.return.search_read",
        [("reference", "=", "RMA-000101")],
        0,
        None,
        None,
        ["tracking_number"],
        {},
    )
    assert row["tracking_number"] == "1ZRESTARTED"
    print(f"restart to first answer: {restart_seconds:.1f} s")


def test_a_database_built_by_older_module_code_is_updated_on_start(tmp_path):
    copy_database(tmp_path, DATABASE)
    with contextlib.closing(sqlite3.connect(database_file(tmp_path))) as conn:
        conn.execute("PRAGMA user_version = 0")  # as if built before the module last changed
        conn.commit()
    with ErpProcess.start(tmp_path) as erp:
        people = ErpDatabase(erp.address).call("model.returns.station.person.search_count", [], {})
        assert people >= 4
    assert any("Updating the returns_station module" in line for line in erp.output)
    with contextlib.closing(sqlite3.connect(database_file(tmp_path))) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == module_fingerprint()


def test_sigterm_stops_the_server_cleanly(tmp_path):
    copy_database(tmp_path, DATABASE)
    erp = ErpProcess.start(tmp_path)
    process = erp._process
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    deadline = time.monotonic() + 5
    while not any("ERP stopped" in line for line in erp.output) and time.monotonic() < deadline:
        time.sleep(0.05)  # the reader thread may still be collecting the last line
    assert "ERP stopped" in erp.output[-1]


def test_a_port_in_use_is_a_one_line_error(tmp_path):
    copy_database(tmp_path, DATABASE)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        message = one_line_error(serve(tmp_path, "--port", str(port)))
        assert f"port {port}" in message and "--port" in message
        with pytest.raises(ErpSetupError, match="already in use"):
            ErpProcess.start(tmp_path, port=port, timeout=60)


def test_an_unwritable_data_dir_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    message = one_line_error(serve(blocker / "erp", "--port", "0"))
    assert "cannot write to the ERP data directory" in message and "--data-dir" in message


def test_a_file_that_is_not_an_erp_database_is_a_one_line_error(tmp_path):
    database_file(tmp_path).write_bytes(b"not a database at all" * 100)
    message = one_line_error(serve(tmp_path, "--port", "0"))
    assert "is not a Returns Station ERP database" in message
    assert database_file(tmp_path).read_bytes().startswith(b"not a database")  # left as it was


def test_the_admin_password_comes_from_the_environment_and_is_not_printed(tmp_path):
    copy_database(tmp_path, DATABASE)
    secret = "correct-horse-42"
    output: list[str] = []
    with ErpProcess.start(tmp_path, password=secret, progress=output.append) as erp:
        assert login(erp.address).startswith("Session ")
        wrong = ErpAddress(host=erp.address.host, port=erp.address.port, database=DATABASE, password="admin")
        with pytest.raises(ErpSetupError):
            login(wrong)
        erp.stop()
    assert not any(secret in line for line in erp.output)


def test_each_erp_database_is_a_fresh_copy(erp_server):
    first, second = erp_server.new_database("first"), erp_server.new_database("second")
    domain = [("reference", "=", "RMA-000102")]
    (ret,) = first.call("model.stock.shipment.out.return.search", domain, 0, None, None, {})
    first.call("model.stock.shipment.out.return.write", [ret], {"tracking_number": "1ZCHANGED"}, {})
    (row,) = second.call(
        "model.stock.shipment.out.return.search_read", domain, 0, None, None, ["tracking_number"], {}
    )
    assert row["tracking_number"] != "1ZCHANGED"


@pytest.mark.slow
def test_a_killed_first_start_is_recovered_on_the_next_start(tmp_path):
    """Kill the first start while it builds, then start again: it cleans up and builds a whole database."""
    first = subprocess.Popen(
        [*STATION, "erp", "init", "--data-dir", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    for line in first.stdout:
        if line.startswith("Activating modules"):
            break
    time.sleep(3)
    first.kill()
    first.wait()
    assert not database_file(tmp_path).exists()
    assert list(tmp_path.glob("*.sqlite*"))  # the half-built leftovers

    lines: list[str] = []
    with ErpProcess.start(tmp_path, progress=lines.append, timeout=600) as erp:
        session = login(erp.address)
        assert session.startswith("Session ")
    assert any("half-initialised" in line for line in lines)
    assert database_file(tmp_path).exists()
    assert not list(tmp_path.glob("*_building*"))


def test_the_server_stops_when_the_process_that_started_it_dies(tmp_path):
    """A demo or test run that crashes leaves no ERP behind holding its port."""
    copy_database(tmp_path, DATABASE)
    script = (
        "import sys; from pathlib import Path; from sync.erp.tryton.server import ErpProcess; "
        f"erp = ErpProcess.start(Path({str(tmp_path)!r})); print(erp._process.pid, erp.port, flush=True); "
        "import os; os._exit(9)"
    )
    result = subprocess.run([STATION[0], "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    pid, port = (int(v) for v in result.stdout.split()[-2:])
    deadline = time.monotonic() + 15
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port is free again
