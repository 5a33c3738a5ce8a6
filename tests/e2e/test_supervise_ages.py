"""Supervise ages each queue item from when its stage began, not from the ERP's last change of the
record: a return received three days ago that the ERP touched a minute ago has waited three days."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.steps import sign_in
from tests.fixtures.browser import DESKTOP

pytestmark = pytest.mark.browser


def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_queues_age_items_from_when_their_stage_began_not_from_their_last_change(serve_station, open_station):
    served = serve_station()
    store = served.station.store
    now = dt.datetime.now(dt.UTC)
    just_changed = (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    ret = store.find_return("RMA-000101")
    store.upsert_reference(
        "returns",
        [
            {
                **ret,
                "state": "received",
                "created_at": iso(now - dt.timedelta(days=9)),
                "received_at": iso(now - dt.timedelta(days=3, hours=2)),
                "write_date": just_changed,  # e.g. a note added in the ERP
            }
        ],
    )
    order = store.shipments("assigned")[0]
    store.upsert_reference(
        "shipments",
        [{**order, "created_at": iso(now - dt.timedelta(days=5, hours=1)), "write_date": just_changed}],
    )

    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-SUPV-1", "444444")
    page.press("Supervise")
    page.see("Received, not inspected: 1")
    page.see("waiting 3 d")  # since received, not 1 min (its last change) nor 9 d (its creation)
    page.see("waiting 5 d")  # the order, since its shipment was created
    page.screenshot("supervise-ages")
    assert page.page.get_by_text("waiting 1 min").count() == 0
