"""Tryton on PostgreSQL as a warehouse runs it: two Tryton servers on one database, each with its
own cache, kept consistent through PostgreSQL's LISTEN/NOTIFY (``[cache] clean_timeout = 0``).

Skipped where Debian's ``postgresql`` or the drivers are missing. The cluster and its demo template
live in ``STATION_PG_CACHE`` (default ``~/.cache/returns-station/postgresql``): the first run builds
the template (a few minutes), later runs copy it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from sync.erp.address import ErpAddress
from sync.erp.tryton.server import ErpSetupError, login, rpc

pytestmark = [pytest.mark.erp, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]


def _cluster_dir() -> Path:
    return Path(
        os.environ.get("STATION_PG_CACHE")
        or Path(platformdirs.user_cache_dir("returns-station", appauthor=False)) / "postgresql"
    )


def _skip_without_postgresql():
    postgres = pytest.importorskip("sync.erp.tryton.postgres")
    try:
        postgres.postgres_bin()
        postgres._need_drivers()
    except ErpSetupError as exc:
        pytest.skip(str(exc))
    return postgres


def test_erp_serve_postgresql_serves_until_sigterm_then_stops_what_it_started():
    # First in this file: the module's fixture below uses the same cluster directory.
    _skip_without_postgresql()
    env = {**os.environ, "STATION_ERP_PASSWORD": "admin", "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "app.cli", "erp", "serve", "--postgresql",
        "--data-dir", str(_cluster_dir().parent), "--port", "0", "--workers", "1",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("ERP ready on "):
                break
        assert lines and lines[-1].startswith("ERP ready on "), "".join(lines)
        url = lines[-1].split()[3]
        port = int(url.rsplit(":", 1)[1])
        address = ErpAddress(host="127.0.0.1", port=port, database="returns", user="admin", password="admin")
        assert (
            rpc(address, "model.stock.shipment.out.return.search_count", [], {}, session=login(address)) >= 18
        )
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # a failed check: still stop it the way that stops the cluster
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
    assert process.returncode == 0, rest
    assert "ERP stopped" in rest
    with pytest.raises(OSError):  # connection refused: nobody listens there any more
        rpc(address, "common.server.version", timeout=2)
    assert not (_cluster_dir() / "pgdata" / "postmaster.pid").exists()  # the cluster stopped too


def test_a_kept_database_built_by_older_code_is_brought_up_to_the_module_before_it_is_served():
    # Before the module's fixture below, which keeps the same cluster running.
    # `station erp serve --postgresql` keeps its database (returns, people, stock) between starts:
    # after an upgrade of the station software its tables must follow the module's code, as the
    # embedded ERP's do, or the first station to log in meets a column the database lacks.
    postgres = _skip_without_postgresql()
    erp = postgres.PostgresErp(_cluster_dir(), port=0, workers=1, servers=1, progress=lambda line: None)
    try:
        erp.prepare(fresh=True)
        with erp.cluster.connect("returns") as conn:  # as the module was before the column
            conn.execute("ALTER TABLE res_user DROP COLUMN returns_station_id")
        with erp.cluster.connect("postgres") as conn:
            conn.execute("COMMENT ON DATABASE returns IS NULL")
        assert erp.cluster.fingerprint("returns") is None
        erp.stop()
        erp = postgres.PostgresErp(_cluster_dir(), port=0, workers=1, servers=1, progress=lambda line: None)
        erp.prepare(fresh=False)  # the next start, by the upgraded code
        with erp.cluster.connect("returns") as conn:
            columns = {row[0] for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'res_user'"
            )}  # fmt: skip
        assert "returns_station_id" in columns
        from sync.erp.tryton.server import module_fingerprint

        assert erp.cluster.fingerprint("returns") == module_fingerprint()
        erp.serve()
        (address,) = erp.addresses()
        session = login(address)
        users = rpc(address, "model.res.user.search_read", [("login", "=", "admin")], 0, 1, None,
                    ["returns_station_id"], {}, session=session)  # fmt: skip
        assert users and "returns_station_id" in users[0]
    finally:
        erp.stop()


@pytest.fixture(scope="module")
def two_servers():
    postgres = _skip_without_postgresql()
    # One worker each: a second worker would read the database afresh and hide a stale cache.
    erp = postgres.PostgresErp(_cluster_dir(), port=0, workers=1, servers=2, progress=lambda line: None)
    try:
        erp.prepare(fresh=True)
        erp.serve()
        yield erp
    finally:
        erp.stop()


def as_user(address: ErpAddress, login_name: str, password: str) -> ErpAddress:
    return ErpAddress(
        host=address.host, port=address.port, database=address.database, user=login_name, password=password
    )


def test_a_right_granted_on_one_server_is_honoured_by_the_other_at_once(two_servers):
    one, two = two_servers.addresses()
    admin = login(one)
    user = {"login": "day-cache", "name": "Cache check", "password": "c4che-check-pw"}
    (user_id,) = rpc(one, "model.res.user.create", [user], {}, session=admin)
    clerk = as_user(two, "day-cache", "c4che-check-pw")
    session = login(clerk)
    read = ("model.stock.shipment.out.return.search_read", [], 0, 1, None, ["state"], {})
    with pytest.raises(ErpSetupError, match="access|Access"):
        rpc(clerk, *read, session=session)  # no group yet: server two caches that
    (stock,) = rpc(one, "model.res.group.search", [("name", "=", "Stock")], 0, None, None, {}, session=admin)
    rpc(one, "model.res.user.write", [user_id], {"groups": [("add", [stock])]}, {}, session=admin)
    assert isinstance(rpc(clerk, *read, session=session), list)  # server two dropped its cached groups


def test_both_servers_serve_one_database(two_servers):
    one, two = two_servers.addresses()
    assert one.port != two.port
    counts = [
        rpc(a, "model.stock.shipment.out.return.search_count", [], {}, session=login(a)) for a in (one, two)
    ]
    assert counts[0] == counts[1] >= 18
    conf = two_servers.config.read_text()
    assert "clean_timeout = 0" in conf
