"""The demo's 90 days of history (sync/erp/tryton/history.py) in the real ERP: every figure has
something to show, on both warehouses, and the spike opens its alert. Only these tests use the
history's template (the exact figures are tested on a hand-built history: test_figures_erp.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.erp.tryton import history

pytestmark = [pytest.mark.erp, pytest.mark.slow]


def figures(erp, days: int = 90, **window) -> dict:
    today = dt.datetime.now(dt.UTC).date()
    window = {"from": (today - dt.timedelta(days=days - 1)).isoformat(), "to": today.isoformat()} | window
    return erp.call("model.returns.station.figures.compute", window, {})


def test_the_history_gives_every_figure_something_on_both_warehouses(erp_history):
    result = figures(erp_history)
    assert result["notes"] == []
    past = erp_history.call(
        "model.stock.shipment.out.return.search_count", [("reference", "like", "RMA-H%")], {}
    )
    assert 150 <= past <= 300  # a few hundred returns
    assert {row["key"] for row in result["reasons"]["by_channel"]} == {"web", "marketplace", "store"}
    assert all(stage["count"] > 0 for stage in result["cycle"]["stages"])
    assert {row["node"] for row in result["cycle"]["by_node"]} == {"WH", "WH2"}
    # Some put away late: the share within the target is neither none nor all.
    assert 0 < result["sla"]["within"] < result["sla"]["restocked"]
    assert all(row["units"] > 0 for row in result["recovery"]["by_path"])
    assert 0 < result["recovery"]["rate"] < 1
    # Refunded at initiation and not received yet; quarantine older than a week; stuck returns.
    assert result["exposure"]["returns"] > 0 and result["exposure"]["value"] > 0
    assert result["backlog"]["quarantine"]["buckets"][">7d"] > 0
    stuck = erp_history.call(
        "model.stock.shipment.out.return.search_count",
        [("reference", "like", "RMA-H%"), ("state", "=", "received")],
        {},
    )
    assert stuck > 0
    second = figures(erp_history, node="WH2")
    assert 0 < second["reasons"]["units"] < result["reasons"]["units"]


def test_the_history_spike_opens_one_return_rate_alert_for_its_sku_and_no_other(erp_history):
    fortnight = figures(erp_history, days=14)
    top = max(fortnight["reasons"]["return_rate"], key=lambda row: row["returned"])
    assert top["sku"] == history.SPIKE_SKU
    assert top["returned"] >= history.ALERT_MIN_UNITS and top["rate"] > 0.30

    opened = erp_history.call("model.returns.station.figures.evaluate_alerts", {}, {})
    assert [key for key in opened if key.startswith("return_rate:")] == [f"return_rate:{history.SPIKE_SKU}"]
    assert erp_history.call("model.returns.station.figures.evaluate_alerts", {}, {}) == []
