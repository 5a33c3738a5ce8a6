"""Faults against the real Tryton server: the ERP down, a response lost after the ERP applied the
operation, the station killed while sending, two stations on one return, a refused payload, and a
damaged store file. Each test ends with what the ERP holds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from sync.engine import SyncEngine
from sync.erp.tryton.connector import TrytonConnector
from sync.store import Store
from tests.sync_ops import erp_read, markers, pack_all, receive_all

ROOT = Path(__file__).resolve().parents[1]


def engine(store, address, *, client=None, station="S1"):
    return SyncEngine(store, lambda: TrytonConnector(address, client=client, timeout=20), station=station)


def seeded(path: Path, address) -> Store:
    store = Store.open(path / "station.sqlite")
    puller = TrytonConnector(address)
    try:
        result = puller.pull({})
    finally:
        puller.close()
    store.apply_pull(result.records, result.cursors)
    return store


def return_states(erp, ids):
    rows = erp_read(erp, "stock.shipment.out.return", [("id", "in", ids)], ["state"])
    return {row["id"]: row["state"] for row in rows}


@pytest.mark.erp
@pytest.mark.slow
def test_erp_down_for_the_whole_session_then_everything_applies_once_in_order(erp_private, tmp_path):
    store = seeded(tmp_path, erp_private.address)
    ops = [receive_all(store.find_return(rma)) for rma in ("RMA-000101", "RMA-000102", "RMA-000106")]
    ops.append(pack_all(store.shipments("assigned")[2]))
    erp_private.stop()
    for op in ops:
        store.enqueue(op)
    sync = engine(store, erp_private.address)
    for _ in range(2):  # the whole shift offline
        report = sync.sync_once()
        assert not report.ok
    status = sync.status()
    assert status.online is False and status.counts["pending"] == len(ops) and status.counts["done"] == 0
    erp_private.start()
    report = sync.sync_once()
    assert report.ok and report.applied == len(ops)
    assert sync.status().online is True and store.queue_counts()["done"] == len(ops)
    assert [m["operation_id"] for m in markers(erp_private)] == [op.id for op in ops]
    ids = [op.payload["return_id"] for op in ops[:3]]
    assert set(return_states(erp_private, ids).values()) == {"received"}


class LoseResponses(httpx.BaseTransport):
    """The real transport, except that the answer to the first ``apply_batch`` call never arrives
    (the ERP has applied and committed it): the station sees a read timeout."""

    def __init__(self, times: int = 1) -> None:
        self.inner = httpx.HTTPTransport()
        self.left = times
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.left and b"apply_batch" in request.content:
            response.read()
            response.close()
            self.left -= 1
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost on the way back", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.mark.erp
def test_lost_response_is_not_applied_twice(seeded_store, erp):
    ret = seeded_store.find_return("RMA-000101")
    shipment = seeded_store.shipments("assigned")[3]
    ops = [receive_all(ret), pack_all(shipment)]
    for op in ops:
        seeded_store.enqueue(op)
    transport = LoseResponses()
    client = httpx.Client(transport=transport, timeout=20)
    sync = engine(seeded_store, erp.address, client=client)
    first = sync.sync_once()
    assert transport.lost == 1 and first.applied == 0 and seeded_store.queue_counts()["pending"] == 2
    assert len(markers(erp)) == 2  # the ERP did apply them
    second = sync.sync_once()
    assert second.already == 2 and second.applied == 0 and second.ok
    assert all(row["erp_refs"]["already"] for row in seeded_store.operations())
    assert len(markers(erp)) == 2
    packages = erp_read(
        erp, "stock.package", [("shipment", "=", f"stock.shipment.out,{shipment['id']}")], ["id"]
    )
    assert len(packages) == 1
    moves = erp_read(erp, "stock.move", [("shipment", "=", f"stock.shipment.out.return,{ret['id']}")], ["id"])
    assert len(moves) == 2 * len(ret["lines"])  # incoming + inventory, nothing doubled
    client.close()


class SwallowingProxy:
    """A loopback TCP proxy to the ERP that forwards everything, except that once a connection has
    sent an ``apply_batch`` request, the ERP's answer on it is swallowed: the station waits."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            state = {"swallow": False}
            threading.Thread(target=self._pipe, args=(client, upstream, state, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, state, False), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, state: dict, outbound: bool) -> None:
        try:
            while data := src.recv(65536):
                if outbound and b"apply_batch" in data:
                    state["swallow"] = True
                if outbound or not state["swallow"]:
                    dst.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass


def station(args: list[str], data_dir: Path, url: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "STATION_DATA_DIR": str(data_dir), "STATION_ERP_URL": url, "STATION_ID": "S1"}
    # The installed entry point, as an admin runs it.
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "station"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


@pytest.mark.erp
@pytest.mark.slow
def test_station_killed_while_sending_loses_nothing_and_doubles_nothing(erp, tmp_path):
    data_dir = tmp_path / "station"
    data_dir.mkdir()
    store = seeded(data_dir, erp.address)
    ops = [receive_all(store.find_return(rma)) for rma in ("RMA-000101", "RMA-000102")]
    for op in ops:
        store.enqueue(op)
    store.close()
    proxy = SwallowingProxy((erp.address.host, erp.address.port))
    via_proxy = erp.address.url().replace(f":{erp.address.port}/", f":{proxy.port}/")
    try:
        process = station(["sync", "--once"], data_dir, via_proxy)
        deadline = time.monotonic() + 60
        while len(markers(erp)) < len(ops):  # the ERP has applied the batch; its answer is held
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        proxy.close()
    with Store.open(data_dir / "station.sqlite") as after_kill:
        assert after_kill.queue_counts()["sending"] == len(ops)  # nothing lost: still in the outbox
    restart = station(["sync", "--once"], data_dir, erp.url)
    out, err = restart.communicate(timeout=120)
    assert restart.returncode == 0, err
    assert "already in the ERP: 2" in out
    with Store.open(data_dir / "station.sqlite") as final:
        assert final.queue_counts()["done"] == len(ops)
        assert {e["what"] for e in final.audit_log()} == {"recovered after an interrupted send"}
    assert sorted(m["operation_id"] for m in markers(erp)) == sorted(op.id for op in ops)
    assert set(return_states(erp, [op.payload["return_id"] for op in ops]).values()) == {"received"}


@pytest.mark.erp
def test_two_stations_receive_the_same_return_one_gets_a_readable_conflict(erp, tmp_path):
    one = seeded(tmp_path / "one", erp.address)
    two = seeded(tmp_path / "two", erp.station_address("S2"))
    first = receive_all(one.find_return("RMA-000104"), station="S1")
    second = receive_all(two.find_return("RMA-000104"), station="S2", user="U-LEAD-1")
    one.enqueue(first)
    two.enqueue(second)
    assert engine(one, erp.address, station="S1").sync_once().applied == 1
    report = engine(two, erp.station_address("S2"), station="S2").sync_once()
    assert report.conflicts == 1 and report.ok  # a conflict waits for a person, not for the network
    row = two.operation(second.id)
    assert row["state"] == "conflict"
    assert "already received" in row["error"] and "another station" in row["error"]
    assert [m["operation_id"] for m in markers(erp)] == [first.id]


@pytest.mark.erp
def test_refused_payload_fails_with_the_erps_message_and_the_rest_go_on(seeded_store, erp):
    good = receive_all(seeded_store.find_return("RMA-000101"))
    bad = receive_all(seeded_store.find_return("RMA-000102"))
    bad.payload["extra"] = [
        {
            "barcode": "4006381333931",
            "product_id": 999999,
            "quantity": 1,
            "lot": None,
            "serial": None,
            "reason": "wrong item",
        }
    ]
    later = pack_all(seeded_store.shipments("assigned")[4])
    for op in (good, bad, later):
        seeded_store.enqueue(op)
    report = engine(seeded_store, erp.address).sync_once()
    assert report.applied == 2 and report.failed == 1
    failed = seeded_store.operation(bad.id)
    assert failed["state"] == "failed" and "unknown product (id 999999)" in failed["error"]
    assert {m["operation_id"] for m in markers(erp)} == {good.id, later.id}
    states = return_states(erp, [good.payload["return_id"], bad.payload["return_id"]])
    assert states == {good.payload["return_id"]: "received", bad.payload["return_id"]: "draft"}


def test_damaged_store_file_is_refused_by_the_cli_and_left_alone(tmp_path):
    data_dir = tmp_path / "station"
    data_dir.mkdir()
    with Store.open(data_dir / "station.sqlite") as store:
        for i in range(200):
            store.enqueue(
                pack_all(
                    {
                        "id": i,
                        "number": f"OUT-{i}",
                        "lines": [{"move_id": i, "product_id": 1, "quantity": 1, "lot": None}] * 5,
                    }
                )
            )
        store._db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = data_dir / "station.sqlite"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    damaged = path.read_bytes()
    for args in (["queue", "--json"], ["sync", "--once"]):
        process = station(args, data_dir, "http://admin:pw@127.0.0.1:9/returns")
        out, err = process.communicate(timeout=60)
        assert process.returncode == 2 and "damaged" in err and "backup" in err and "Traceback" not in err
    assert path.read_bytes() == damaged
