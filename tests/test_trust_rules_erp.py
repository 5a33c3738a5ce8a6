"""The ERP holds the disposition rules and decides every inspection again with them.

A station sends what its rules decided; the ERP re-evaluates the unit from its own records (the
product, the return's reason, the lot) and the inspector's grade and checklist. Each test sends, as
the station user, what a tampered station could send and checks what the ERP holds: the unit held
for a supervisor with the ERP's reason, an approval request a supervisor can decide, and the rules
version the ERP checked with. The rules themselves are published in the ERP and reach stations by
the pull.
"""

from __future__ import annotations

import typing

import pytest

from app.cli import main
from app.workflows.station import rules_for
from sync.common.families import family
from sync.common.rules import DEFAULT_RULES_PATH, Facts, RuleSet, load_rules, parse_rules
from sync.common.vocabulary import DISPOSITION_LABELS
from sync.erp.address import ErpAddress
from sync.erp.protocol import ErpAuthFailed, ErpRejected
from sync.erp.tryton.demo import MISMATCHES
from sync.erp.tryton.rule_books import current_rules, publish_rules
from sync.operations import Operation, new_operation
from tests.sync_ops import erp_read, receive_all

pytestmark = pytest.mark.erp

PACKAGED = load_rules(DEFAULT_RULES_PATH)


def plain_returns(store: typing.Any) -> list[dict[str, typing.Any]]:
    """Returns whose first line is a plain unit (apparel, footwear or accessories, no lot or
    serial, worth less than the approval threshold), each unit with nothing wrong but its grade."""
    found = []
    for ret in store.returns("draft"):
        if ret["rma"] in MISMATCHES or ret["lines"][0]["lot"]:
            continue
        product = store.product(ret["lines"][0]["product_id"])
        if product["family"] in ("apparel", "footwear", "accessories") and product["unit_value"] < 250:
            found.append(ret)
    return found


def nothing_wrong(store: typing.Any, ret: dict[str, typing.Any]) -> dict[str, typing.Any]:
    product = store.product(ret["lines"][0]["product_id"])
    return {item.name: item.good for item in family(product["family"]).checklist if item.kind == "yes_no"}


def facts(store: typing.Any, ret: dict[str, typing.Any], grade: str) -> Facts:
    product = store.product(ret["lines"][0]["product_id"])
    return Facts(
        family=product["family"],
        grade=grade,
        checklist=nothing_wrong(store, ret),
        unit_value=float(product["unit_value"]),
        reason=ret["reason"],
    )


def decided(
    store: typing.Any, ret: dict[str, typing.Any], grade: str, rules: RuleSet = PACKAGED, **forged: typing.Any
) -> Operation:
    """The ``inspect_item`` an honest station sends for the return's unit (``forged`` replaces
    payload fields, as a tampered station would)."""
    decision = rules.decide(facts(store, ret, grade))
    line = ret["lines"][0]
    payload = {
        "return_id": ret["id"],
        "product_id": line["product_id"],
        "quantity": 1,
        "lot": None,
        "serial": None,
        "grade": grade,
        "checklist": nothing_wrong(store, ret),
        "photos": [],
        "disposition": decision.disposition,
        "rule_id": decision.rule_id,
        "rules_version": decision.rules_version,
        "refund": decision.refund_payload,
        "approval_required": decision.approval_required,
        "note": None,
        **forged,
    }
    return new_operation("inspect_item", payload, station="S1", user="U-INSP-1")


def received(connector: typing.Any, store: typing.Any, ret: dict[str, typing.Any]) -> None:
    connector.apply(receive_all(ret), store.photo_bytes)


def inspection(erp: typing.Any, op: Operation) -> dict[str, typing.Any]:
    (row,) = erp_read(
        erp,
        "quality.inspection",
        [("station_operation", "=", op.id)],
        ["state", "station_erp_rules_version", "station_erp_check", "station_disposition"],
    )
    return row


def requests_for(erp: typing.Any, op: Operation) -> list[dict[str, typing.Any]]:
    return erp_read(
        erp,
        "returns.station.approval",
        [("subject_op", "=", op.id)],
        ["request_id", "kind", "state", "reason", "requested_by"],
    )


def decide(request_id: str, verdict: str) -> Operation:
    return new_operation(
        "decide_approval",
        {"request_id": request_id, "decision": verdict, "note": "checked the unit"},
        station="S1",
        user="U-SUPV-1",
    )


def rules_text(version: str, fee: int = 40) -> str:
    """The packaged rules as a new version, a damaged unit's restocking fee changed to ``fee``%."""
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    text = text.replace('version = "2026-11-25.1"', f'version = "{version}"')
    damaged = (
        'id = "grade-d-damaged"\nwhen = { grade = "D" }\ndisposition = "refurbish"\nrefund = "partial"\n'
    )
    assert damaged in text
    return text.replace(damaged + "restocking_fee_pct = 25", damaged + f"restocking_fee_pct = {fee}")


def supervisor_user(erp: typing.Any, login: str = "rules-lead") -> ErpAddress:
    """An ERP user in the group "Returns Supervisor" only (not an administrator)."""
    (group,) = erp.call("model.res.group.search", [("name", "=", "Returns Supervisor")], 0, 1, None, {})
    (company,) = erp.call("model.company.company.search", [], 0, 1, None, {})
    erp.call(
        "model.res.user.create",
        [
            {
                "login": login,
                "name": "Rules Lead",
                "password": "a-long-supervisor-password",
                "groups": [("add", [group])],
                "companies": [("add", [company])],
                "company": company,
            }
        ],
        {},
    )
    return ErpAddress(
        host=erp.admin.host,
        port=erp.admin.port,
        database=erp.admin.database,
        user=login,
        password="a-long-supervisor-password",
    )


def unit_in_grade_d(store: typing.Any) -> tuple[dict[str, typing.Any], typing.Any]:
    ret = plain_returns(store)[0]
    decision = PACKAGED.decide(facts(store, ret, "D"))
    assert decision.disposition != "restock" and not decision.approval_required
    return ret, decision


# --- forged decisions are held for a supervisor --------------------------------------------------


def test_a_forged_restock_is_held_for_a_supervisor_with_the_erps_reason(seeded_store, connector, erp):
    ret, decision = unit_in_grade_d(seeded_store)
    received(connector, seeded_store, ret)
    forged = decided(seeded_store, ret, "D", disposition="restock", rule_id="grade-a-b-restock")
    result = connector.apply(forged, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "pending"
    held = result.erp_refs["held"]
    assert f"The ERP's rules 2026-11-25.1 say {DISPOSITION_LABELS[decision.disposition]}, refund" in held
    assert "the station sent the disposition (Restock (sellable))" in held
    row = inspection(erp, forged)
    assert row["state"] == "pending" and row["station_erp_check"] == held
    (move,) = erp_read(erp, "stock.move", [("id", "=", result.erp_refs["move_id"])], ["station_disposition"])
    assert move["station_disposition"] == "held"
    (request,) = requests_for(erp, forged)
    assert request["kind"] == "override" and request["state"] == "pending"
    assert request["reason"] == held and request["requested_by"] == "U-INSP-1"
    # the request reaches every station by the pull, and a supervisor's refusal quarantines the unit
    pulled = connector.pull(seeded_store.cursors())
    assert request["request_id"] in [a["request_id"] for a in pulled.records["approvals"]]
    refused = connector.apply(decide(request["request_id"], "refuse"), seeded_store.photo_bytes)
    assert refused.erp_refs["state"] == "refused"
    assert inspection(erp, forged)["state"] == "failed"
    (move,) = erp_read(erp, "stock.move", [("id", "=", result.erp_refs["move_id"])], ["to_location"])
    (quarantine,) = erp_read(erp, "stock.location", [("code", "=", "QUAR")], ["id"])
    assert move["to_location"] == quarantine["id"]


def test_a_forged_refund_is_held_for_a_supervisor(seeded_store, connector, erp):
    ret = plain_returns(seeded_store)[0]
    received(connector, seeded_store, ret)
    honest_refund = PACKAGED.decide(facts(seeded_store, ret, "C")).refund_payload
    assert honest_refund["kind"] != "full"
    forged = decided(seeded_store, ret, "C", refund={"kind": "full", "restocking_fee_pct": None})
    result = connector.apply(forged, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "pending"
    assert "the station sent the refund (full)" in result.erp_refs["held"]
    assert f"{honest_refund['restocking_fee_pct']}% restocking fee" in result.erp_refs["held"]
    (request,) = requests_for(erp, forged)
    assert request["state"] == "pending"


def test_a_write_off_sent_without_approval_waits_for_a_supervisor(seeded_store, connector, erp):
    ret = plain_returns(seeded_store)[0]
    received(connector, seeded_store, ret)
    rules_say = PACKAGED.decide(facts(seeded_store, ret, "F"))
    assert rules_say.disposition == "dispose" and rules_say.approval_required
    forged = decided(seeded_store, ret, "F", approval_required=False)
    result = connector.apply(forged, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "pending"
    assert "the station sent no supervisor's approval" in result.erp_refs["held"]
    assert "write-off: the unit is disposed of" in result.erp_refs["held"]
    (request,) = requests_for(erp, forged)
    approved = connector.apply(decide(request["request_id"], "approve"), seeded_store.photo_bytes)
    assert approved.erp_refs["state"] == "approved"
    assert inspection(erp, forged)["state"] == "passed"


def test_a_made_up_rules_version_is_checked_with_the_current_rules(seeded_store, connector, erp):
    first, second = plain_returns(seeded_store)[:2]
    for ret in (first, second):
        received(connector, seeded_store, ret)
    # what an invented version "decided": restock a damaged unit
    forged = decided(seeded_store, first, "D", disposition="restock", rules_version="2099-01-01.1")
    result = connector.apply(forged, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "pending"
    assert result.erp_refs["rules_version_checked"] == "2026-11-25.1"
    assert "the ERP holds no rules version 2099-01-01.1" in result.erp_refs["held"]
    assert inspection(erp, forged)["station_erp_rules_version"] == "2026-11-25.1"
    # the same rules under another name: nothing differs, nothing is held
    honest = decided(seeded_store, second, "D", rules_version="2099-01-01.1")
    result = connector.apply(honest, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "passed" and "held" not in result.erp_refs
    assert inspection(erp, honest)["station_erp_rules_version"] == "2026-11-25.1"


def test_an_honest_decision_passes_and_records_the_version_checked(seeded_store, connector, erp):
    ret = plain_returns(seeded_store)[0]
    received(connector, seeded_store, ret)
    honest = decided(seeded_store, ret, "D")
    result = connector.apply(honest, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "passed" and "held" not in result.erp_refs
    row = inspection(erp, honest)
    assert row["station_erp_rules_version"] == "2026-11-25.1" and row["station_erp_check"] is None
    assert requests_for(erp, honest) == []


def test_an_override_the_inspector_asked_for_names_the_erps_rules_in_the_request(
    seeded_store, connector, erp
):
    ret, decision = unit_in_grade_d(seeded_store)
    received(connector, seeded_store, ret)
    chosen = PACKAGED.decide(facts(seeded_store, ret, "D"), chosen="quarantine")
    asked = decided(
        seeded_store, ret, "D", disposition="quarantine", approval_required=True, rule_id=chosen.rule_id
    )
    request = new_operation(
        "request_approval",
        {
            "request_id": "req-override-1",
            "kind": "override",
            "subject_op": asked.id,
            "return_id": ret["id"],
            "shipment_id": None,
            "product_id": ret["lines"][0]["product_id"],
            "reason": "; ".join(chosen.approval_reasons),
            "summary": "quarantine it",
            "value": None,
            "rule_id": chosen.rule_id,
            "evidence": [],
        },
        station="S1",
        user="U-INSP-1",
    )
    first, second = connector.apply_batch([asked, request], seeded_store.photo_bytes)
    assert first.erp_refs["inspection_state"] == "pending"
    (only,) = requests_for(erp, asked)  # the station's own request: the ERP raised none
    assert only["request_id"] == "req-override-1"
    assert only["reason"].startswith("The ERP's rules 2026-11-25.1 say ")
    rule_label = DISPOSITION_LABELS[decision.disposition]
    assert only["reason"].endswith(f"Station: inspector chose Quarantine over the rule's {rule_label}")


# --- the rules are held in the ERP and pulled by stations ----------------------------------------


def test_a_published_version_reaches_the_station_by_the_pull_and_changes_its_decisions(
    seeded_store, connector, erp
):
    assert seeded_store.rules()["version"] == "2026-11-25.1"  # the ERP's first version, seeded at install
    book = rules_for(seeded_store)
    ret = plain_returns(seeded_store)[0]
    damaged = facts(seeded_store, ret, "D")
    before = book.decide(damaged)
    assert before.rules_version == "2026-11-25.1"
    lead = supervisor_user(erp)
    published = publish_rules(lead, rules_text("2026-12-02.1"))
    assert published["version"] == "2026-12-02.1" and published["published_by"] == "rules-lead"
    with pytest.raises(ErpAuthFailed):  # a station user publishes nothing
        publish_rules(erp.address, rules_text("2026-12-02.2"))

    pulled = connector.pull(seeded_store.cursors())
    assert [r["version"] for r in pulled.records["rules"]] == ["2026-12-02.1"]
    seeded_store.apply_pull(pulled.records, pulled.cursors)
    after = book.decide(damaged)
    assert after.rules_version == "2026-12-02.1"
    if before.rule_id == "grade-d-damaged":
        assert (before.restocking_fee_pct, after.restocking_fee_pct) == (25, 40)
    # and the ERP checks the new decisions with the new version
    received(connector, seeded_store, ret)
    op = decided(seeded_store, ret, "D", rules=parse_rules(rules_text("2026-12-02.1")))
    result = connector.apply(op, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "passed"
    assert result.erp_refs["rules_version_checked"] == "2026-12-02.1"
    shown = current_rules(lead)
    assert shown["current"]["version"] == "2026-12-02.1" and shown["accepted"] == ["2026-11-25.1"]


def test_a_station_deciding_with_the_previous_version_is_checked_with_it_during_the_grace_period(
    seeded_store, connector, erp
):
    first, second = [
        r
        for r in plain_returns(seeded_store)
        if PACKAGED.decide(facts(seeded_store, r, "D")).rule_id == "grade-d-damaged"
    ][:2]
    for ret in (first, second):
        received(connector, seeded_store, ret)
    publish_rules(erp.admin, rules_text("2026-12-02.1"))
    # an offline station still decides with 2026-11-25.1: within the grace period it stands
    offline = decided(seeded_store, first, "D")
    result = connector.apply(offline, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "passed"
    assert result.erp_refs["rules_version_checked"] == "2026-11-25.1"
    # with no grace period, the same decision is checked with the version in force: held
    erp.call("model.returns.station.rules.configuration.write", [1], {"grace_days": 0}, {})
    late = decided(seeded_store, second, "D")
    result = connector.apply(late, seeded_store.photo_bytes)
    assert result.erp_refs["inspection_state"] == "pending"
    assert result.erp_refs["rules_version_checked"] == "2026-12-02.1"
    assert "rules version 2026-11-25.1 was superseded" in result.erp_refs["held"]
    assert "partial (40% restocking fee)" in result.erp_refs["held"]


def test_an_invalid_rules_file_is_refused_with_its_line_and_the_rules_stay(
    seeded_store, erp, tmp_path, monkeypatch, capsys
):
    bad = 'version = "2026-12-02.9"\n[[rule]]\nid = "a"\ndisposition = "sell"\nrefund = "none"\n'
    with pytest.raises(ErpRejected) as refused:
        publish_rules(erp.admin, bad)
    assert "line 4: rule a: disposition must be one of" in str(refused.value)
    path = tmp_path / "rules.toml"
    path.write_text(bad)
    monkeypatch.setenv("STATION_ERP_ADMIN_URL", erp.admin.url())
    assert main(["erp", "rules", "publish", str(path)]) == 2
    assert "line 4: rule a: disposition must be one of" in capsys.readouterr().err
    again = tmp_path / "same.toml"
    again.write_text(DEFAULT_RULES_PATH.read_text())
    assert main(["erp", "rules", "publish", str(again)]) == 2
    assert "version 2026-11-25.1 was already published" in capsys.readouterr().err
    assert main(["erp", "rules", "show"]) == 0
    assert "Rules version 2026-11-25.1 in force" in capsys.readouterr().out


def test_the_erps_reason_reaches_the_outbox_screen_of_the_station_that_sent_it(seeded_store, connector, erp):
    from app.workflows.station import StationSession
    from sync.engine import SyncEngine
    from sync.erp.tryton.connector import TrytonConnector

    ret, _ = unit_in_grade_d(seeded_store)
    received(connector, seeded_store, ret)
    forged = decided(seeded_store, ret, "D", disposition="restock")
    seeded_store.enqueue(forged)
    engine = SyncEngine(seeded_store, lambda: TrytonConnector(erp.address), station="S1")
    try:
        report = engine.sync_once(pull=False)
    finally:
        engine.stop()
    assert not report.errors
    session = StationSession(seeded_store, "S1")
    (row,) = session.held_by_erp()
    assert row["id"] == forged.id and row["state"] == "done"
    assert row["erp_refs"]["held"].startswith("The ERP's rules 2026-11-25.1 say ")
