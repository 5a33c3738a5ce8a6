"""The ERP's figures against a small hand-built history, every number worked out by hand below.

Day 0 (``D``) is 30 days ago; the window is D … D+29 (whole days), so it ends today at 00:00, which
is also the "as of" time of the backlog and exposure (D + 720 h). Times are hours after D 00:00 UTC,
stamped by the operations' station clock.

return   SKU (value)           reason        issued refund  received inspected         put away
RET-1001 TEE-L-WHT 19 + wallet too late      500    -       600 S1 * -                 -
RET-1002 RUN-41 99             changed mind  0      0: 99   48 S1    60 S2 restock     60
RET-1006 BEANIE-RED 25         too late      24     -       48 S1    96 S2 refurb held 120 ok'd
RET-1009 SCARF-GRY 39          too late      48     -       120 S2   126 S2 quarantine 126
RET-1012 BELT-BRN 35           not as descr. 72     -       96 S1    160 S1 restock    160
RET-1014 SNK-41 55             defective mkt 96     100: 55 -        -                 -
RET-1017 SLD-41 45             too late      100    700: 45 -        -                 -
(* the wallet is missing from the box.) Also: a write-off request pending since 700, one pack at 650.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.erp.tryton.connector import TrytonConnector
from sync.operations import new_operation
from tests.sync_ops import erp_read, inspect, pack_all, publish_test_rules, receive_all

pytestmark = pytest.mark.erp

STATION = str(Path(sys.executable).parent / "station")

TODAY = dt.date.today()
D = dt.datetime.combine(TODAY - dt.timedelta(days=30), dt.time())
WINDOW = {
    "from": (TODAY - dt.timedelta(days=30)).isoformat(),
    "to": (TODAY - dt.timedelta(days=1)).isoformat(),
}


def at(hour: float) -> dt.datetime:
    return D + dt.timedelta(hours=hour)


def stamp(hour: float) -> str:
    """A station's created_at ``hour`` hours after D."""
    return at(hour).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def rpc_datetime(value: dt.datetime) -> dict[str, Any]:
    return {
        "__class__": "datetime",
        "year": value.year,
        "month": value.month,
        "day": value.day,
        "hour": value.hour,
        "minute": value.minute,
        "second": value.second,
        "microsecond": 0,
    }


def rpc_decimal(value: str) -> dict[str, str]:
    return {"__class__": "Decimal", "decimal": value}


def set_return(erp, number: str, **values: Any) -> None:
    (row,) = erp_read(erp, "stock.shipment.out.return", [("number", "=", number)], ["id"])
    erp.call("model.stock.shipment.out.return.write", [row["id"]], values, {})


def apply(erp, ops) -> None:
    """Apply ``ops`` in order, each station's run of them through that station's own ERP user."""
    for station, run in itertools.groupby(ops, key=lambda op: op.station):
        batch = list(run)
        connector = TrytonConnector(erp.station_address(station), timeout=60)
        try:
            results = connector.apply_batch(batch, lambda digest: b"")
        finally:
            connector.close()
        for op, result in zip(batch, results, strict=True):
            assert result is not None and not isinstance(result, Exception), (op.type, result)


def approval_ops(ret, held, *, requested: float, decided: float | None):
    request_id = f"REQ-{ret['number']}"
    request = new_operation(
        "request_approval",
        {
            "request_id": request_id,
            "kind": "disposition",
            "subject_op": held.id if held else None,
            "reason": "refurbish above the threshold",
            "summary": ret["number"],
            "value": 25.0,
            "rule_id": "test-rule",
            "return_id": ret["id"],
            "shipment_id": None,
            "product_id": ret["lines"][0]["product_id"],
            "evidence": [],
        },
        station="S2",
        user="U-INSP-1",
        created_at=stamp(requested),
    )
    ops = [request]
    if decided is not None:
        ops.append(
            new_operation(
                "decide_approval",
                {"request_id": request_id, "decision": "approve", "note": None},
                station="S3",
                user="U-SUPV-1",
                created_at=stamp(decided),
            )
        )
    return ops


@pytest.fixture
def history(erp, connector):
    """The history of the module docstring, applied through the real apply_batch; its operations."""
    publish_test_rules(erp)  # the rules its inspections follow
    erp.call(
        "model.returns.station.figures.configuration.write",
        [1],
        {
            "factor_restock": rpc_decimal("1"),
            "factor_refurbish": rpc_decimal("0.5"),
            "factor_quarantine": rpc_decimal("0.25"),
            "factor_dispose": rpc_decimal("0"),
        },
        {},
    )
    issued = {"RET-1001": 500, "RET-1002": 0, "RET-1006": 24, "RET-1009": 48, "RET-1012": 72}
    issued |= {"RET-1014": 96, "RET-1017": 100}
    for number, hour in issued.items():
        set_return(erp, number, rma_issued_at=rpc_datetime(at(hour)))
    set_return(erp, "RET-1002", refund_amount=rpc_decimal("99"), refunded_at=rpc_datetime(at(0)))
    set_return(erp, "RET-1014", refund_amount=rpc_decimal("55"), refunded_at=rpc_datetime(at(100)))
    set_return(erp, "RET-1017", refund_amount=rpc_decimal("45"), refunded_at=rpc_datetime(at(700)))
    (sale,) = erp_read(erp, "sale.sale", [("number", "=", "SO-1014")], ["id"])
    erp.call("model.sale.sale.write", [sale["id"]], {"station_channel": "marketplace"}, {})

    pulled = connector.pull({}).records
    returns = {r["number"]: r for r in pulled["returns"]}
    r1001, r1002, r1006 = returns["RET-1001"], returns["RET-1002"], returns["RET-1006"]
    r1009, r1012 = returns["RET-1009"], returns["RET-1012"]

    wallet = next(p["id"] for p in pulled["products"] if p["code"] == "ACC-WALLET-BLK")
    partial = receive_all(r1001, station="S1", created_at=stamp(600))
    (missing,) = [line for line in partial.payload["lines"] if line["product_id"] == wallet]
    missing["received"] = 0  # the wallet is not in the box
    partial.payload["missing"] = [missing["move_id"]]
    partial.payload["partial_reason"] = "wallet not in the box"
    held = inspect(
        r1006,
        r1006["lines"][0],
        disposition="refurbish",
        approval_required=True,
        station="S2",
        created_at=stamp(96),
    )
    ops = [
        receive_all(r1002, station="S1", created_at=stamp(48)),
        receive_all(r1006, station="S1", created_at=stamp(48)),
        inspect(r1002, r1002["lines"][0], disposition="restock", station="S2", created_at=stamp(60)),
        receive_all(r1012, station="S1", created_at=stamp(96)),
        held,
        receive_all(r1009, station="S2", created_at=stamp(120)),
        *approval_ops(r1006, held, requested=97, decided=120),
        inspect(r1009, r1009["lines"][0], disposition="quarantine", station="S2", created_at=stamp(126)),
        inspect(r1012, r1012["lines"][0], disposition="restock", station="S1", created_at=stamp(160)),
        partial,
        *approval_ops(r1009 | {"number": "WRITE-OFF"}, None, requested=700, decided=None),
        pack_all(pulled["shipments"][0], station="S1", created_at=stamp(650)),
    ]
    apply(erp, ops)
    return ops


def stage(figures, name):
    (row,) = [s for s in figures["cycle"]["stages"] if s["stage"] == name]
    return {k: row[k] for k in ("count", "median_hours", "p90_hours")}


def test_hand_built_history_gives_every_figure_exactly(history, connector):
    figures = connector.figures(WINDOW)

    reasons = figures["reasons"]
    assert (reasons["returns"], reasons["units"]) == (7, 7)
    assert reasons["by_reason"] == [
        {"key": "arrived too late", "units": 4, "share": 0.5714},
        {"key": "changed mind", "units": 1, "share": 0.1429},
        {"key": "defective", "units": 1, "share": 0.1429},
        {"key": "not as described", "units": 1, "share": 0.1429},
    ]
    assert reasons["by_family"] == [
        {"key": "accessories", "units": 3, "share": 0.4286},
        {"key": "footwear", "units": 3, "share": 0.4286},
        {"key": "apparel", "units": 1, "share": 0.1429},
    ]
    assert reasons["by_channel"] == [
        {"key": "web", "units": 6, "share": 0.8571},
        {"key": "marketplace", "units": 1, "share": 0.1429},
    ]
    rates = {row["sku"]: row for row in reasons["return_rate"]}
    # Sold in the window: the demo's sales, all dated 14 days ago (SO-1002; SO-1006, -1018, -1103, -1106 x2)
    assert rates["FTW-RUN-41"] == {"sku": "FTW-RUN-41", "returned": 1, "sold": 1, "rate": 1.0}
    assert rates["ACC-BEANIE-RED"] == {"sku": "ACC-BEANIE-RED", "returned": 1, "sold": 5, "rate": 0.2}

    # issued->received: 48, 24, 72, 24, 100 -> sorted 24 24 48 72 100: median 48, p90 rank ceil(4.5)=5
    assert stage(figures, "issued_to_received") == {"count": 5, "median_hours": 48, "p90_hours": 100}
    # received->inspected: 12, 48, 6, 64 -> 6 12 48 64: median 30, p90 rank 4
    assert stage(figures, "received_to_inspected") == {"count": 4, "median_hours": 30, "p90_hours": 64}
    # inspected->put away: 0, 24 (held until approved), 0, 0
    assert stage(figures, "inspected_to_put_away") == {"count": 4, "median_hours": 0, "p90_hours": 24}
    # end to end: 60, 96, 78, 88 -> 60 78 88 96: median 83
    assert stage(figures, "end_to_end") == {"count": 4, "median_hours": 83, "p90_hours": 96}
    by_station = {(r["station"], r["stage"]): r["count"] for r in figures["cycle"]["by_station"]}
    assert by_station[("S1", "issued_to_received")] == 4
    assert by_station[("S2", "issued_to_received")] == 1

    # restocked: RET-1002 put away 12 h after receipt (in), RET-1012 64 h after (out of 48 h)
    assert figures["sla"] == {"target_hours": 48, "restocked": 2, "within": 1, "share": 0.5}

    recovery = figures["recovery"]
    # returned 99 + 25 + 39 + 35 = 198; recovered 99 + 25*0.5 + 39*0.25 + 35 = 156.25
    assert (recovery["value_returned"], recovery["value_recovered"], recovery["rate"]) == (
        198,
        156.25,
        0.7891,
    )
    paths = {row["path"]: row for row in recovery["by_path"]}
    assert paths["refurbish"] == {
        "path": "refurbish",
        "units": 1,
        "value_returned": 25,
        "value_recovered": 12.5,
        "rate": 0.5,
        "factor": 0.5,
    }
    assert paths["quarantine"]["value_recovered"] == 9.75
    assert paths["dispose"]["units"] == 0 and paths["dispose"]["rate"] is None
    families = {row["family"]: row for row in recovery["by_family"]}
    assert (families["accessories"]["value_returned"], families["accessories"]["value_recovered"]) == (
        99,
        57.25,
    )
    assert families["accessories"]["rate"] == 0.5783

    # refunded, not received at D+720: RET-1014 (55, 620 h = 25.83 d) and RET-1017 (45, 20 h)
    assert figures["exposure"] == {
        "value": 100.0,
        "returns": 2,
        "count": 2,
        "buckets": {"<1d": 1, "1-3d": 0, "3-7d": 0, ">7d": 1},
        "oldest_days": 25.83,
    }
    backlog = figures["backlog"]
    # RET-1009's scarf in quarantine since 126 h: 594 h = 24.75 days
    assert backlog["quarantine"] == {
        "count": 1,
        "buckets": {"<1d": 0, "1-3d": 0, "3-7d": 0, ">7d": 1},
        "oldest_days": 24.75,
    }
    # the write-off request at 700 h, pending for 20 h
    assert backlog["approvals"] == {
        "count": 1,
        "buckets": {"<1d": 1, "1-3d": 0, "3-7d": 0, ">7d": 0},
        "oldest_days": 0.83,
    }
    # RET-1001 received short at 600 h: 120 h = 5 days
    assert backlog["mismatched_receipts"] == {
        "count": 1,
        "buckets": {"<1d": 0, "1-3d": 0, "3-7d": 1, ">7d": 0},
        "oldest_days": 5.0,
    }
    assert (figures["pack"]["packed"], figures["pack"]["short"], figures["pack"]["short_rate"]) == (1, 0, 0.0)


def test_a_resent_history_counts_nothing_twice(history, connector):
    before = connector.figures(WINDOW)
    results = connector.apply_batch(history, lambda digest: b"")
    assert all(r.already for r in results)
    after = connector.figures(WINDOW)
    assert after == before


def test_filters_by_station_and_node(history, connector):
    s2 = connector.figures(WINDOW | {"station": "S2"})
    assert stage(s2, "issued_to_received") == {"count": 1, "median_hours": 72, "p90_hours": 72}
    assert connector.figures(WINDOW | {"node": "WH"})["recovery"]["value_returned"] == 198
    nowhere = connector.figures(WINDOW | {"node": "NOPE"})
    assert nowhere["reasons"]["units"] == 0 and nowhere["recovery"]["rate"] is None
    assert any("no warehouse has the code 'NOPE'" in note for note in nowhere["notes"])


def test_empty_and_future_windows_answer_zeros_with_a_reason(connector):
    future = (TODAY + dt.timedelta(days=10)).isoformat()
    figures = connector.figures({"from": future, "to": future})
    assert figures["reasons"]["units"] == 0
    assert figures["sla"]["share"] is None and figures["recovery"]["rate"] is None
    assert stage(figures, "end_to_end") == {"count": 0, "median_hours": None, "p90_hours": None}
    assert any("in the future" in note for note in figures["notes"])
    backwards = connector.figures({"from": "2026-03-10", "to": "2026-03-01"})
    assert any("before it starts" in note for note in backwards["notes"])


def test_orders_waiting_by_service_class_with_the_late_ones(erp, connector):
    # The demo's sales carry a service class and a due time (demo.ORDER_SERVICE), which their
    # shipments got when the sales were processed: three are late.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    expected: dict[str, list[int]] = {}
    for order in erp.demo.orders:
        count, late = expected.setdefault(order.service_class, [0, 0])
        expected[order.service_class] = [count + 1, late + (order.due_at < now)]
    waiting = connector.figures({})["pack"]["waiting"]
    classes = {row["service_class"]: [row["count"], row["late"]] for row in waiting["by_class"]}
    assert classes == expected
    assert (waiting["count"], waiting["late"]) == (len(erp.demo.orders), 3)
    # A sale made premium and late later on: its shipment, not yet packed, follows
    (sale,) = erp_read(erp, "sale.sale", [("number", "=", "SO-1110")], ["id"])
    past = now - dt.timedelta(hours=1)
    erp.call(
        "model.sale.sale.write",
        [sale["id"]],
        {"station_service_class": "premium", "station_due_at": rpc_datetime(past)},
        {},
    )
    again = connector.figures({})["pack"]["waiting"]
    classes = {row["service_class"]: [row["count"], row["late"]] for row in again["by_class"]}
    assert classes["premium"] == [expected["premium"][0] + 1, expected["premium"][1] + 1]
    assert classes["standard"][0] == expected["standard"][0] - 1
    assert again["late"] == 4


def test_return_rate_spike_opens_one_alert_and_a_second_run_none(erp, connector):
    # Over 30 days the demo's sales (14 days ago) are in the window: ACC-WALLET-BLK was sold 5 times
    # and all 5 came back; no other SKU has 3 units returned.
    erp.call("model.returns.station.figures.configuration.write", [1], {"alert_days": 30}, {})
    assert connector.evaluate_alerts() == ["return_rate:ACC-WALLET-BLK"]
    assert connector.evaluate_alerts() == []
    alerts = erp_read(erp, "quality.alert", [("station_key", "!=", None)], ["station_key", "state", "origin"])
    assert [(a["station_key"], a["state"]) for a in alerts] == [("return_rate:ACC-WALLET-BLK", "open")]
    assert alerts[0]["origin"].startswith("product.product,")
    # an applied batch evaluates again: still one alert
    ret = connector.pull({}).records["returns"][0]
    apply(erp, [receive_all(ret)])
    assert len(erp_read(erp, "quality.alert", [("station_key", "!=", None)], ["id"])) == 1
    assert [a["key"] for a in connector.figures({})["alerts"]] == ["return_rate:ACC-WALLET-BLK"]


def run_report(erp, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "STATION_DATA_DIR": str(tmp_path),
        "STATION_ERP_URL": erp.url,
        "STATION_ID": "S1",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    return subprocess.run([STATION, "report", *args], env=env, capture_output=True, text=True, timeout=120)


def test_station_report_prints_the_erps_figures_as_json_csv_and_text(history, erp, connector, tmp_path):
    args = ["--from", WINDOW["from"], "--to", WINDOW["to"]]
    printed = run_report(erp, tmp_path, *args, "--json")
    assert printed.returncode == 0, printed.stderr
    figures = json.loads(printed.stdout)
    assert figures["recovery"]["value_recovered"] == 156.25
    assert figures == connector.figures(WINDOW | {"as_of": figures["window"]["as_of"]})
    table = list(csv.reader(io.StringIO(run_report(erp, tmp_path, *args, "--csv").stdout)))
    assert table[0] == ["section", "key", "measure", "value"]
    assert ["cycle", "end_to_end", "median_hours", "83"] in table
    assert ["exposure", "all", "value", "100"] in table
    text = run_report(erp, tmp_path, *args).stdout
    assert "Recovery: 156.25 of 198.00 returned = 78.9%" in text
    assert "Restocked within 48 h of receipt: 50.0% (1 of 2 units)" in text


def test_station_report_says_why_when_the_erp_cannot_be_reached(tmp_path):
    env = {
        "STATION_DATA_DIR": str(tmp_path),
        "STATION_ERP_URL": "http://admin:x@127.0.0.1:9/returns",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [STATION, "report", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith("station: the ERP gave no figures:")
    bad = subprocess.run([STATION, "report", "--from", "31/03"], env=env, capture_output=True, text=True)
    assert "is not a date like 2026-03-31" in bad.stderr


def test_old_quarantine_and_exposure_open_one_alert_each(history, erp, connector):
    # RET-1009's scarf has been in quarantine since D+126 h (about 25 days, over the 7-day limit);
    # the refunds not received (100.00) are under 1000.00. The history came in one batch per
    # station's run (each through its own ERP user); a batch evaluates the alerts at most every 10
    # minutes, so the first one did, before the scarf was inspected: the idempotent call opens it.
    assert connector.evaluate_alerts() == ["quarantine:ACC-SCARF-GRY"]
    assert [a["key"] for a in connector.figures({})["alerts"]] == ["quarantine:ACC-SCARF-GRY"]
    erp.call(
        "model.returns.station.figures.configuration.write", [1], {"alert_exposure": rpc_decimal("99")}, {}
    )
    assert connector.evaluate_alerts() == ["exposure"]
    assert connector.evaluate_alerts() == []
    (exposure,) = erp_read(erp, "quality.alert", [("station_key", "=", "exposure")], ["title", "origin"])
    assert exposure["title"] == "Refunded before receipt: 100.00 on 2 returns"
    assert exposure["origin"].startswith("company.company,")


def test_station_status_shows_last_seen_outbox_and_clock_offset(erp, connector):
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    status = new_operation(
        "station_status",
        {"outbox": {"pending": 2, "failed": 1}, "refusals": {"wrong_item": 3}, "app_version": "0.1.0"},
        station="S7",
        user="U-SUPV-1",
        created_at=ahead,
    )
    older = new_operation(
        "station_status",
        {"outbox": {}, "app_version": "0.0.9"},
        station="S7",
        user="U-SUPV-1",
        created_at=stamp(10),
    )
    apply(erp, [status, older])  # a late re-send of an older status changes nothing
    apply(erp, [status])  # the same id again: already applied
    (row,) = connector.figures({})["stations"]
    assert (row["station"], row["outbox_waiting"], row["outbox_failed"], row["app_version"]) == (
        "S7",
        2,
        1,
        "0.1.0",
    )
    assert row["refusals"] == {"wrong_item": 3}
    assert 290 <= row["clock_offset_s"] <= 301  # five minutes ahead, less the time to apply
    assert row["minutes_since_seen"] < 1
