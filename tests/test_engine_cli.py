"""``station queue`` and ``station sync --once`` as an admin runs them (no ERP reachable here)."""

import json
import socket
import subprocess
import sys
from pathlib import Path

from sync import outbox
from sync.operations import new_operation
from sync.store import Store

STATION = str(Path(sys.executable).parent / "station")


def run(args, data_dir, url="http://admin:Sup3rSecret@127.0.0.1:9/returns"):
    env = {
        "STATION_DATA_DIR": str(data_dir),
        "STATION_ERP_URL": url,
        "STATION_ID": "S1",
        "PATH": "/usr/bin:/bin",
        "HOME": str(data_dir),
    }
    return subprocess.run([STATION, *args], env=env, capture_output=True, text=True, timeout=120)


def filled(data_dir):
    with Store.open(data_dir / "station.sqlite") as store:
        ops = [
            new_operation(
                "confirm_pack", {"shipment_id": i, "lines": [], "short": []}, station="S1", user="U-1"
            )
            for i in range(3)
        ]
        for op in ops:
            store.enqueue(op)
        outbox.claim(store, 1)
        outbox.fail(store, ops[0].id, "shipment OUT-1 is closed (done) in the ERP")
    return ops


def test_queue_json_has_counts_and_every_operation(tmp_path):
    ops = filled(tmp_path)
    result = run(["queue", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("pending", "sending", "done", "failed", "conflict")} == {
        "pending": 2,
        "sending": 0,
        "done": 0,
        "failed": 1,
        "conflict": 0,
    }
    assert [o["id"] for o in data["operations"]] == [op.id for op in ops]
    assert data["operations"][0] == {
        **data["operations"][0],
        "type": "confirm_pack",
        "state": "failed",
        "error": "shipment OUT-1 is closed (done) in the ERP",
    }


def test_queue_text_shows_what_waits_and_why(tmp_path):
    filled(tmp_path)
    result = run(["queue"], tmp_path)
    assert "pending 2" in result.stdout and "failed 1" in result.stdout
    assert "closed (done) in the ERP" in result.stdout


def test_sync_once_with_the_erp_unreachable_exits_1_and_keeps_everything(tmp_path):
    filled(tmp_path)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = run(["sync", "--once"], tmp_path, url=f"http://admin:Sup3rSecret@127.0.0.1:{port}/returns")
    assert result.returncode == 1
    assert "cannot reach the ERP" in result.stderr and "waiting 2" in result.stdout
    assert "Sup3rSecret" not in result.stdout + result.stderr
    with Store.open(tmp_path / "station.sqlite") as store:
        assert store.queue_counts()["pending"] == 2


def test_bad_erp_url_is_a_clear_message(tmp_path):
    result = run(["sync", "--once"], tmp_path, url="ftp://nowhere")
    assert result.returncode == 2 and "STATION_ERP_URL must look like" in result.stderr
