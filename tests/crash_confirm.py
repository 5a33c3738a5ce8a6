"""Run in a child process by tests/test_confirm_once.py: receive a return, then inspect one unit of
it, killing this process (SIGKILL) just before the store's ``kill_at``-th write of the inspection's
confirm. ``kill_at`` 0 counts the writes instead and prints the count.

    python -m tests.crash_confirm STORE RMA PRODUCT_ID KILL_AT
"""

from __future__ import annotations

import os
import signal
import sys

from app.workflows.station import StationSession
from sync.store import Store

ANSWERS = {"packaging_intact": True, "damaged": False}


def main(path: str, rma: str, product_id: int, kill_at: int) -> int:
    store = Store.open(path)
    session = StationSession(store, "S1")
    assert session.sign_in("U-LEAD-1", "5555").ok
    assert session.start("receive").ok
    ret = store.find_return(rma)
    assert session.scan(rma).ok
    for line in ret["lines"]:
        assert session.scan(store.product(line["product_id"])["barcodes"][0]).ok
    assert session.confirm().ok, session.last
    assert session.start("inspect").ok
    assert session.scan(rma).ok
    assert session.scan(store.product(product_id)["barcodes"][0]).ok
    assert session.photo(b"\xff\xd8\xff\xe0" + f"{rma} unit".encode()).ok
    assert session.grade("A").ok
    assert session.check(ANSWERS).ok
    writes = []

    def hook(point: str) -> None:
        writes.append(point)
        if len(writes) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    store.fault_hook = hook
    outcome = session.confirm()
    print(len(writes), outcome.ok, " ".join(writes), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
