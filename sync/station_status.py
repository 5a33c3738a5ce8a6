"""The station's own status for the ERP: a ``station_status`` operation every few minutes.

What only the station knows about itself: its outbox counts by state, the refusals its people got
by code since the previous status (a wrong item stopped by scan at Pack is ``wrong_item``), its app
version and how far its clock is from the ERP's. It goes through the outbox like any operation, so
the ERP applies it exactly once, but never floods it: while one status waits to be delivered, no
other is queued (the refusals keep counting in the store and go with the next one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from sync.operations import Operation, new_operation
from sync.outbox import PENDING, SENDING

if TYPE_CHECKING:
    from sync.store import Store

log = logging.getLogger(__name__)

STATUS_TYPE = "station_status"
DEFAULT_INTERVAL_S = 300.0  # STATION_STATUS_INTERVAL
MIN_INTERVAL_S = 10.0


def interval_from(environ: Mapping[str, str]) -> float:
    """Seconds between two statuses: ``STATION_STATUS_INTERVAL`` (0 = never; at least 10), else 300.
    A value that is not a number is logged in plain words and the default used."""
    text = (environ.get("STATION_STATUS_INTERVAL") or "").strip()
    if not text:
        return DEFAULT_INTERVAL_S
    try:
        seconds = float(text)
    except ValueError:
        log.warning(
            "STATION_STATUS_INTERVAL=%r is not a number of seconds: sending the status every %g s",
            text,
            DEFAULT_INTERVAL_S,
        )
        return DEFAULT_INTERVAL_S
    if seconds <= 0:
        return 0.0
    return max(seconds, MIN_INTERVAL_S)


def installed_version() -> str:
    """This station's version (the installed ``returns-station`` package), or ``"unknown"``."""
    try:
        return version("returns-station")
    except PackageNotFoundError:
        return "unknown"


def status_waiting(store: Store) -> bool:
    """Whether a status is queued and not yet delivered (pending or sending)."""
    row = store._one(
        "SELECT 1 AS x FROM outbox WHERE type = ? AND state IN (?, ?) LIMIT 1",
        (STATUS_TYPE, PENDING, SENDING),
    )
    return row is not None


def queue_status(
    store: Store, station: str, *, clock_offset_s: float | None, app_version: str | None = None
) -> Operation | None:
    """Queue this station's status, unless one still waits to be delivered (then None: nothing is
    queued and the refusals stay counted for the next). ``clock_offset_s`` is this station's clock
    minus the ERP's (None: the ERP could not be asked). The refusals it reports leave the store's
    count in the same transaction, so each is reported exactly once."""
    with store.atomic():
        if status_waiting(store):
            return None
        outbox = {state: n for state, n in store.queue_counts().items() if n}
        op = new_operation(
            STATUS_TYPE,
            {
                "outbox": outbox,
                "refusals": store.take_refusal_counts(),
                "app_version": app_version or installed_version(),
                "clock_offset_s": None if clock_offset_s is None else round(clock_offset_s, 3),
            },
            station=station,
            user="",  # the station speaks for itself: no person's act (the ERP checks no badge)
        )
        store.enqueue(op)
    return op
