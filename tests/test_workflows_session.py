"""The station session as a worker uses it: sign-in, receive, inspect, pack, supervise — on a real
store holding the demo's reference data. Assertions are on what the worker reads and on the
operations queued for the ERP."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.workflows.results import Accepted, Refusal
from app.workflows.station import StationSession
from sync.common.pins import hash_pin
from sync.store import Store
from tests.workflows_world import WRITE_DATE, World, seed_world

TODAY = dt.date(2026, 11, 25)


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw) -> None:
        self.at += timedelta(**kw)


@pytest.fixture
def world(store) -> World:
    return seed_world(store, TODAY)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def session(store, world, clock) -> StationSession:
    return StationSession(store, "dock-1", clock=clock)


def ok(outcome):
    assert isinstance(outcome, Accepted), outcome
    return outcome


def refused(outcome, code: str) -> Refusal:
    assert isinstance(outcome, Refusal), outcome
    assert outcome.code == code, outcome
    return outcome


def queued(store, type_: str | None = None) -> list[dict]:
    return [row["operation"] for row in store.operations() if type_ is None or row["type"] == type_]


def receive(session, world, rma: str, scans: list[str], reason: str | None = None):
    ok(session.start("receive"))
    ok(session.scan(rma))
    for text in scans:
        session.scan(text)
    return session.confirm(reason)


# --- people ------------------------------------------------------------------------------------
@pytest.mark.parametrize("badge, pin", [("U-RECV-1", "1112"), ("U-NOBODY", "1111"), ("U-GONE-1", "9999")])
def test_a_wrong_badge_a_wrong_pin_and_a_disabled_badge_get_the_same_refusal(session, badge, pin):
    outcome = refused(session.sign_in(badge, pin), "sign_in_refused")
    assert outcome.message == "badge or PIN not recognised: scan your badge and type your PIN again"
    assert session.signed_in is None


def test_sign_in_lists_the_persons_tasks(session):
    outcome = ok(session.sign_in("U-LEAD-1", "5555"))
    assert "Receive returns, Inspect and grade" in outcome.message
    assert session.tasks() == ["receive", "inspect"]


def test_a_task_needs_its_role(session):
    ok(session.sign_in("U-RECV-1", "1111"))
    outcome = refused(session.start("pack"), "no_role")
    assert "needs the packer role" in outcome.message


def test_nothing_happens_before_sign_in(session):
    refused(session.scan("RMA-000101"), "not_signed_in")


def test_an_idle_person_is_signed_out_and_finds_their_scans_when_back(store, session, world, clock):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000101"))
    ok(session.scan(world.barcode("APP-TEE-M-WHT")))
    clock.advance(minutes=11)
    outcome = refused(session.scan(world.barcode("ACC-BEANIE-RED")), "signed_out")
    assert "your work is kept" in outcome.message
    assert session.signed_in is None
    again = ok(session.sign_in("U-RECV-1", "1111"))
    assert "Resumed your receive returns of RMA-000101" in again.message
    lines = {line.product: line.scanned for line in session.view().lines}
    assert lines == {"Organic Cotton Tee, White, M": 1, "Wool Beanie, Red": 0}


def test_work_survives_a_crash_a_new_session_finds_it(store, world, clock):
    first = StationSession(store, "dock-1", clock=clock)
    ok(first.sign_in("U-PACK-1", "3333"))
    ok(first.start("pack"))
    ok(first.scan("WEB-6010"))
    ok(first.scan(world.barcode("APP-TEE-M-BLK")))
    del first  # the process dies: nothing was confirmed
    second = StationSession(store, "dock-1", clock=clock)
    ok(second.sign_in("U-PACK-1", "3333"))
    assert second.task == "pack"
    assert [line.scanned for line in second.view().lines] == [1, 0]


def test_every_operation_is_stamped_with_the_person_and_station(store, session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(receive(session, world, "RMA-000106", [world.barcode("ACC-SCARF-GRY")]))
    (op,) = queued(store)
    assert (op["user"], op["station"], op["created_at"]) == ("U-RECV-1", "dock-1", "2026-11-25T09:00:00.000Z")


# --- receiving ----------------------------------------------------------------------------------
@pytest.mark.parametrize("label", ["RMA-000101", "CR00001", "1Z5JTBD58CLCW2D0WM", "WEB-5001"])
def test_the_first_scan_finds_the_return_by_rma_return_number_tracking_or_order(session, label):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    outcome = ok(session.scan(label))
    assert outcome.message.startswith("RMA-000101 (CR00001")


def test_a_matching_box_becomes_one_receive_return(store, session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    outcome = ok(
        receive(
            session, world, "RMA-000101", [world.barcode("APP-TEE-M-WHT"), world.barcode("ACC-BEANIE-RED")]
        )
    )
    assert outcome.message.startswith("RMA-000101 received: 2 item(s)")
    (op,) = queued(store, "receive_return")
    payload = op["payload"]
    assert payload["return_id"] == world.return_ids["RMA-000101"] and payload["rma"] == "RMA-000101"
    assert [line["received"] for line in payload["lines"]] == [1, 1]
    assert payload["extra"] == [] and payload["missing"] == [] and payload["partial_reason"] is None


# (case, RMA, what the box holds (scans), the reason given, extra reasons, missing count, warning words)
def _box(world, rma):
    b = world.barcode
    return {
        "RMA-000104": [b("APP-TEE-M-BLK"), b("ACC-CAP-NVY")],
        "RMA-000107": [b("APP-HOOD-L-GRY"), b("ACC-BELT-BRN")],
        "RMA-000110": [b("APP-HOOD-L-GRY")],
        "RMA-000113": [world.gs1("HLT-HANDCR-75", lot="L26499A")],
        "RMA-000116": [b("ELE-EREADER-6"), "SNRELACCMKLY"],
    }[rma]


MISMATCHES = [
    ("wrong item", "RMA-000104", ["wrong item"], 1, "is not on this return"),
    ("extra item", "RMA-000107", ["wrong item"], 0, "is not on this return"),
    ("missing item", "RMA-000110", [], 1, None),
    ("wrong lot", "RMA-000113", ["wrong lot"], 1, "wrong lot: expected L26642U, scanned L26499A"),
    (
        "wrong serial",
        "RMA-000116",
        ["wrong lot"],
        1,
        "wrong serial: expected SN8XTZZ16Q76, scanned SNRELACCMKLY",
    ),
]


@pytest.mark.parametrize("case, rma, reasons, missing, words", MISMATCHES, ids=[m[0] for m in MISMATCHES])
def test_the_demos_mismatched_boxes_are_recorded_as_they_are(
    store, session, world, case, rma, reasons, missing, words
):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    ok(session.scan(rma))
    feedback = [session.scan(text) for text in _box(world, rma)]
    assert all(outcome.ok for outcome in feedback)  # a box's contents are facts: recorded, never refused
    if words:
        assert any(outcome.warning and words in outcome.message for outcome in feedback), feedback
    if missing:
        refusal = refused(session.confirm(), "reason_needed")
        assert refusal.message.startswith("partial receipt: missing 1 × ")
        assert len(session.view().lines) >= 1 and session.view().extras == tuple(session.view().extras)
        ok(session.confirm("customer kept one item"))
    else:
        ok(session.confirm())
    (op,) = queued(store, "receive_return")
    assert [extra["reason"] for extra in op["payload"]["extra"]] == reasons
    assert len(op["payload"]["missing"]) == missing
    assert op["payload"]["partial_reason"] == ("customer kept one item" if missing else None)


def test_a_refused_confirm_loses_no_scan(session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000110"))
    ok(session.scan(world.barcode("APP-HOOD-L-GRY")))
    ok(session.scan("NOT-A-BARCODE-42"))
    before = session.view()
    refused(session.confirm(), "reason_needed")
    after = session.view()
    assert after.lines == before.lines and after.extras == before.extras
    assert [extra.outcome for extra in after.extras] == ["unknown_barcode"]
    assert after.refusals[-1].code == "reason_needed"


def test_unknown_barcodes_are_sent_not_dropped(store, session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(receive(session, world, "RMA-000106", [world.barcode("ACC-SCARF-GRY"), "4012345678901"]))
    (op,) = queued(store, "receive_return")
    assert op["payload"]["extra"] == [
        {
            "barcode": "4012345678901",
            "product_id": None,
            "quantity": 1,
            "lot": None,
            "serial": None,
            "reason": "unknown barcode",
        }
    ]


def test_a_return_already_received_here_is_refused(session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(receive(session, world, "RMA-000106", [world.barcode("ACC-SCARF-GRY")]))
    outcome = refused(session.scan("RMA-000106"), "already_received")
    assert outcome.message == "RMA-000106 was already received at this station"


def test_an_unknown_label_is_refused_in_words(session):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    outcome = refused(session.scan("RMA-999999"), "unknown_return")
    assert outcome.message.startswith("no return matches RMA-999999")


def test_a_duplicate_serial_in_one_box_is_refused(session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000105"))
    ok(session.scan(world.gs1("ELE-CHRG-65W", serial="SN6UV8HS487S")))
    outcome = refused(session.scan(world.gs1("ELE-CHRG-65W", serial="SN6UV8HS487S")), "duplicate_serial")
    assert "SN6UV8HS487S" in outcome.message


def test_another_task_waits_until_the_receipt_is_confirmed_or_cancelled(session, world):
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000106"))
    ok(session.scan(world.barcode("ACC-SCARF-GRY")))
    refused(session.start("inspect"), "task_open")
    ok(session.cancel())
    ok(session.start("inspect"))


# --- inspection -------------------------------------------------------------------------------
def inspect_unit(session, scans, photos, grade, answers, reason=None):
    for text in scans:
        ok(session.scan(text))
    for n in range(photos):
        ok(session.photo(f"photo {n} {scans}".encode()))
    ok(session.grade(grade))
    ok(session.check(answers))
    return session.confirm(reason)


def test_inspecting_a_received_charger_restocks_it_with_its_photos_first(store, session, world):
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(receive(session, world, "RMA-000105", [world.barcode("ELE-CHRG-65W"), "SN6UV8HS487S"]))
    ok(session.start("inspect"))
    outcome = ok(
        inspect_unit(
            session,
            ["RMA-000105", world.barcode("ELE-CHRG-65W"), "SN6UV8HS487S"],
            3,
            "A",
            {"powers_on": True, "functional_test": True, "cosmetic_grade": "A", "accessories_complete": True},
        )
    )
    assert "Restock (sellable), refund full (rule electronics-like-new" in outcome.message
    assert "fully inspected" in outcome.message
    receipt = queued(store, "receive_return")[0]
    photos = queued(store, "upload_photo")
    (inspection,) = queued(store, "inspect_item")
    assert len(photos) == 3 and all(
        p["payload"]["return_id"] == world.return_ids["RMA-000105"] for p in photos
    )
    assert set(inspection["depends_on"]) == {p["id"] for p in photos} | {receipt["id"]}
    payload = inspection["payload"]
    assert (payload["disposition"], payload["rule_id"], payload["serial"], payload["grade"]) == (
        "restock",
        "electronics-like-new",
        "SN6UV8HS487S",
        "A",
    )
    assert payload["checklist"]["serial_matches"] is True
    assert payload["photos"] == [p["payload"]["sha256"] for p in photos]
    assert queued(store, "request_approval") == []


def test_confirm_says_what_the_unit_still_needs(session, world):
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(receive(session, world, "RMA-000106", [world.barcode("ACC-SCARF-GRY")]))
    ok(session.start("inspect"))
    ok(session.scan(world.barcode("ACC-SCARF-GRY")))  # the unit alone finds its return
    outcome = refused(session.confirm(), "incomplete")
    assert outcome.message == (
        "Merino Scarf, Grey needs 1 more photo(s), a grade, answer: Packaging intact?, "
        "answer: Damaged (scratches, broken clasp, tears)?"
    )


def test_an_expired_health_lot_is_disposed_and_a_supervisor_asked(store, session, world):
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(
        receive(
            session, world, "RMA-000113", [world.gs1("HLT-HANDCR-75", lot="L26499A")], reason="wrong lot sent"
        )
    )
    ok(session.start("inspect"))
    ok(session.scan("RMA-000113"))
    ok(session.scan(world.gs1("HLT-HANDCR-75", lot="L26499A")))
    refused(session.choose_disposition("restock"), "never_restock")
    ok(session.photo(b"jar"))
    ok(session.grade("A"))
    ok(session.check({"seal_intact": True}))
    unit = session.view().unit
    assert unit.checklist[1].answer is False and unit.checklist[2].answer < 0  # lot_matches, days_to_expiry
    outcome = ok(session.confirm())
    assert "Dispose (write off)" in outcome.message and "needs a supervisor" in outcome.message
    (inspection,) = queued(store, "inspect_item")
    (request,) = queued(store, "request_approval")
    assert inspection["payload"]["rule_id"] == "health-expired" and inspection["payload"]["approval_required"]
    assert request["payload"]["kind"] == "write_off" and request["payload"]["subject_op"] == inspection["id"]
    assert request["depends_on"] == [inspection["id"]]


def test_a_return_not_yet_received_cannot_be_inspected(session):
    ok(session.sign_in("U-INSP-1", "2222"))
    ok(session.start("inspect"))
    outcome = refused(session.scan("RMA-000101"), "not_received")
    assert outcome.message == "RMA-000101 has not been received yet: receive it first"


def test_a_unit_not_in_the_return_is_refused_naming_both(session, world):
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(receive(session, world, "RMA-000106", [world.barcode("ACC-SCARF-GRY")]))
    ok(session.start("inspect"))
    ok(session.scan("RMA-000106"))
    outcome = refused(session.scan(world.barcode("ACC-BELT-BRN")), "not_in_return")
    assert (
        outcome.message
        == "not in this return: RMA-000106 holds Merino Scarf, Grey; scanned Leather Belt, Brown"
    )


# --- packing ----------------------------------------------------------------------------------
def test_a_complete_pack_is_confirmed(store, session, world):
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    ok(session.scan("WEB-6006"))
    for code in ("ACC-BEANIE-RED", "ACC-BEANIE-RED", "ACC-BELT-BRN"):
        ok(session.scan(world.barcode(code)))
    assert session.view().can_confirm and not session.view().confirm_needs_reason
    ok(session.confirm())
    (op,) = queued(store, "confirm_pack")
    assert op["payload"]["shipment_id"] == world.shipment_ids["WEB-6006"]
    assert [line["quantity"] for line in op["payload"]["lines"]] == [2, 1] and op["payload"]["short"] == []


def _pack_world(store, world):
    """An order of two vitamin packs (any lot) and two phones, to show lot and serial refusals."""
    vit, earbuds = world.product_ids["HLT-VITD-60"], world.product_ids["ELE-EARBUDS-W"]
    store.upsert_reference(
        "shipments",
        [
            {
                "id": 99,
                "number": "CS00099",
                "order": "WEB-6099",
                "customer": "Test Customer",
                "state": "assigned",
                "lines": [
                    {"move_id": 9901, "product_id": vit, "quantity": 2, "lot": None},
                    {"move_id": 9902, "product_id": earbuds, "quantity": 2, "lot": None},
                ],
                "write_date": WRITE_DATE,
            }
        ],
    )
    store.upsert_reference(
        "lots",
        [
            {
                "id": 999,
                "number": "L-RECALL",
                "product_id": vit,
                "expiration_date": "2029-01-01",
                "recalled": True,
                "write_date": WRITE_DATE,
            }
        ],
    )


# (case, scans before, the scan, refusal code, words)
PACK_REFUSALS = [
    (
        "wrong item",
        [],
        "belt",
        "wrong_item",
        "wrong item: order CS00099 needs Vitamin D3 Capsules, 60, Wireless Earbuds; "
        "scanned Leather Belt, Brown",
    ),
    (
        "over-pack",
        ["vit-long", "vit-long"],
        "vit-long",
        "over_pack",
        "over-pack: order CS00099 needs 2 × Vitamin D3 Capsules, 60, 2 already packed",
    ),
    ("expired lot", [], "vit-expired", "expired_lot", "expired lot: L26971Y expired on 2026-09-07"),
    (
        "short-dated lot",
        [],
        "vit-short",
        "short_dated_lot",
        "short-dated lot: L26552F expires on 2026-12-19, in 24 days; orders need at least 30 days",
    ),
    ("recalled lot", [], "vit-recalled", "recalled_lot", "recalled lot: L-RECALL of Vitamin D3 Capsules, 60"),
    ("lot not scanned", [], "vit-plain", "lot_needed", "Vitamin D3 Capsules, 60 is lot-tracked"),
    (
        "duplicate serial",
        ["earbuds-1"],
        "earbuds-1",
        "duplicate_serial",
        "duplicate serial: SNRT10SMXA2M is already in this parcel",
    ),
    ("unknown barcode", [], "junk", "unknown_barcode", "unknown barcode 4012345678901"),
]


@pytest.mark.parametrize("case, before, scan, code, words", PACK_REFUSALS, ids=[p[0] for p in PACK_REFUSALS])
def test_pack_refusals_name_what_was_expected_and_scanned(
    store, session, world, case, before, scan, code, words
):
    _pack_world(store, world)
    texts = {
        "belt": world.barcode("ACC-BELT-BRN"),
        "vit-long": world.gs1("HLT-VITD-60", lot="L26565J"),
        "vit-expired": world.gs1("HLT-VITD-60", lot="L26971Y"),
        "vit-short": world.gs1("HLT-VITD-60", lot="L26552F"),
        "vit-recalled": world.gs1("HLT-VITD-60", lot="L-RECALL"),
        "vit-plain": world.barcode("HLT-VITD-60"),
        "earbuds-1": world.gs1("ELE-EARBUDS-W", serial="SNRT10SMXA2M"),
        "junk": "4012345678901",
    }
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    ok(session.scan("CS00099"))
    for name in before:
        ok(session.scan(texts[name]))
    outcome = refused(session.scan(texts[scan]), code)
    assert words in outcome.message
    assert sum(line.scanned for line in session.view().lines) == len(before)  # nothing packed is lost


def test_an_order_that_requires_a_lot_refuses_another_lot(session, world):
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    ok(session.scan("WEB-6001"))
    outcome = refused(session.scan(world.gs1("HLT-OMEGA-90", lot="L26116Y")), "wrong_lot")
    assert outcome.message == "wrong lot: expected L26213B, scanned L26116Y"
    ok(session.scan(world.gs1("HLT-OMEGA-90", lot="L26213B")))


def test_a_short_pack_needs_a_reason_and_asks_a_supervisor(store, session, world):
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    ok(session.scan("WEB-6006"))
    ok(session.scan(world.barcode("ACC-BEANIE-RED")))
    outcome = refused(session.confirm(), "incomplete")
    assert "1 × Wool Beanie, Red, 1 × Leather Belt, Brown still to pack" in outcome.message
    ok(session.confirm("belt out of stock"))
    (request,) = queued(store, "request_approval")
    (pack,) = queued(store, "confirm_pack")
    assert pack["depends_on"] == [request["id"]]
    assert pack["payload"]["approval_request"] == request["payload"]["request_id"]
    assert pack["payload"]["short_reason"] == "belt out of stock" and len(pack["payload"]["short"]) == 2
    assert request["payload"]["kind"] == "short_pack" and request["payload"]["subject_op"] == pack["id"]


def _pack_short_and_pull_the_decision(store, session, world, state: str, note: str | None) -> None:
    """Pack WEB-6006 short at this station, then pull its approval as the ERP has it (``state``)."""
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    ok(session.scan("WEB-6006"))
    ok(session.scan(world.barcode("ACC-BEANIE-RED")))
    ok(session.confirm("belt out of stock"))
    (request,) = queued(store, "request_approval")
    store.upsert_reference(
        "approvals",
        [
            {
                **request["payload"],
                "state": state,
                "requested_by": "U-PACK-1",
                "requested_at": request["created_at"],
                "station": "dock-1",
                "decided_by": None if state == "pending" else "U-SUPV-1",
                "note": note,
                "write_date": "2026-11-25T09:30:00.000Z",
            }
        ],
    )


def test_an_order_whose_short_pack_was_refused_is_packed_again(store, session, world):
    _pack_short_and_pull_the_decision(store, session, world, "refused", "find the last unit")
    outcome = ok(session.scan("WEB-6006"))
    assert outcome.message.startswith(
        "U-SUPV-1 refused shipping CS00006 short: 'find the last unit'; pack it again — "
        "order CS00006 for Elif Yilmaz: pack 3 item(s)."
    )
    assert outcome.warning
    assert [line.scanned for line in session.view().lines] == [0, 0]  # afresh, not the short pack's units
    for code in ("ACC-BEANIE-RED", "ACC-BEANIE-RED", "ACC-BELT-BRN"):
        ok(session.scan(world.barcode(code)))
    ok(session.confirm())
    short, complete = queued(store, "confirm_pack")
    assert short["payload"]["approval_request"] and complete["payload"]["approval_request"] is None
    assert complete["payload"]["short"] == []
    assert [line["quantity"] for line in complete["payload"]["lines"]] == [2, 1]
    assert refused(session.scan("WEB-6006"), "already_packed").message == (
        "order CS00006 was already packed at this station"
    )


def test_an_order_packed_short_waits_for_the_supervisor_before_it_is_packed_again(store, session, world):
    _pack_short_and_pull_the_decision(store, session, world, "pending", None)
    outcome = refused(session.scan("WEB-6006"), "awaiting_approval")
    assert outcome.message == (
        "order CS00006 was packed short at this station and is waiting for a supervisor's decision: "
        "it cannot be packed again until then"
    )
    assert session.view().lines == ()


def test_an_order_packed_short_before_its_approval_is_pulled_is_waiting_too(store, session, world):
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    ok(session.scan("WEB-6006"))
    ok(session.scan(world.barcode("ACC-BEANIE-RED")))
    ok(session.confirm("belt out of stock"))
    refused(session.scan("WEB-6006"), "awaiting_approval")


def test_an_order_whose_short_pack_was_approved_stays_packed(store, session, world):
    _pack_short_and_pull_the_decision(store, session, world, "approved", "customer agreed")
    outcome = refused(session.scan("WEB-6006"), "already_packed")
    assert outcome.message == "order CS00006 was already packed at this station (short, approved)"
    assert len(queued(store, "confirm_pack")) == 1


def test_a_waiting_order_cannot_be_packed(store, session, world):
    store.upsert_reference(
        "shipments",
        [
            {
                "id": 98,
                "number": "CS00098",
                "order": None,
                "customer": "X",
                "state": "waiting",
                "lines": [],
                "write_date": WRITE_DATE,
            }
        ],
    )
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    assert refused(session.scan("CS00098"), "not_ready").message == (
        "order CS00098 is waiting for stock: it cannot be packed yet"
    )


# --- approvals ----------------------------------------------------------------------------------
def test_a_supervisor_approves_a_request_made_at_this_station(store, session, world):
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    ok(session.scan("WEB-6006"))
    ok(session.scan(world.barcode("ACC-BEANIE-RED")))
    ok(session.confirm("belt out of stock"))
    session.sign_out()
    ok(session.sign_in("U-SUPV-1", "444444"))
    ok(session.start("supervise"))
    (waiting,) = session.view().approvals
    assert waiting.kind == "short_pack" and waiting.can_decide and not waiting.synced
    outcome = ok(session.approve("WEB-6006", note="customer agreed"))
    assert outcome.message.startswith("approved: order CS00006")
    (decision,) = queued(store, "decide_approval")
    (request,) = queued(store, "request_approval")
    assert decision["payload"] == {
        "request_id": request["payload"]["request_id"],
        "decision": "approve",
        "note": "customer agreed",
    }
    assert decision["depends_on"] == [request["id"]]
    assert session.view().approvals == ()


def test_nobody_approves_their_own_request(store, session, world):
    store.upsert_reference(
        "people",
        [
            {
                "badge": "U-BOTH-1",
                "name": "Bo",
                "roles": ["packer", "supervisor"],
                "active": True,
                "write_date": WRITE_DATE,
            }
        ],
    )
    store.save_verifier("U-BOTH-1", hash_pin("777777"), "2999-01-01T00:00:00Z")
    ok(session.sign_in("U-BOTH-1", "777777"))
    ok(session.start("pack"))
    ok(session.scan("WEB-6006"))
    ok(session.scan(world.barcode("ACC-BEANIE-RED")))
    ok(session.confirm("belt out of stock"))
    outcome = refused(session.approve("oldest", note="fine"), "cannot_decide")
    assert outcome.message == "you asked for this approval yourself: another supervisor must decide it"
    assert queued(store, "decide_approval") == []


def test_refusing_needs_a_note(store, session, world):
    store.upsert_reference(
        "approvals",
        [
            {
                "request_id": "req-1",
                "kind": "disposition",
                "state": "pending",
                "requested_by": "U-INSP-1",
                "requested_at": "2026-11-25T08:00:00.000Z",
                "station": "dock-2",
                "reason": "unit value over",
                "summary": "RMA-000105: charger",
                "value": 300.0,
                "rule_id": "electronics-like-new",
                "return_id": world.return_ids["RMA-000105"],
                "shipment_id": None,
                "product_id": 1,
                "evidence": [],
                "write_date": WRITE_DATE,
            }
        ],
    )
    ok(session.sign_in("U-SUPV-1", "444444"))
    refused(session.refuse("RMA-000105", note=" "), "note_needed")
    ok(session.refuse("RMA-000105", note="serial scratched off"))
    (decision,) = queued(store, "decide_approval")
    assert decision["payload"]["decision"] == "refuse" and decision["depends_on"] == []


def test_only_a_supervisor_decides(session):
    ok(session.sign_in("U-INSP-1", "2222"))
    refused(session.approve("oldest"), "no_role")


# --- property: what the receiver scanned is what the ERP is told ----------------------------------
BOX_CHOICES = ["APP-TEE-M-WHT", "ACC-BEANIE-RED", "ACC-BELT-BRN", "unknown"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(BOX_CHOICES), max_size=8))
def test_a_receipt_tells_the_erp_every_scanned_item_once(tmp_path_factory, scans):
    with Store.open(tmp_path_factory.mktemp("prop") / "station.sqlite") as store:
        world = seed_world(store, TODAY)
        session = StationSession(store, "dock-1", clock=Clock())
        ok(session.sign_in("U-RECV-1", "1111"))
        texts = [world.barcode(code) if code != "unknown" else "4012345678901" for code in scans]
        ok(receive(session, world, "RMA-000101", texts, reason="property test"))
        (op,) = queued(store, "receive_return")
        payload = op["payload"]
        told: Counter = Counter()
        for line in payload["lines"]:
            told[line["product_id"]] += line["received"]
        for extra in payload["extra"]:
            told[extra["product_id"]] += extra["quantity"]
        scanned = Counter(world.product_ids.get(code) for code in scans)
        assert +told == +scanned


def test_a_damaged_gs1_label_is_refused_to_be_scanned_again_not_recorded(session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000113"))
    damaged = "]d201" + world.barcode("HLT-HANDCR-75").zfill(14)[:-1] + "9" + "10L26642U"
    outcome = refused(session.scan(damaged), "unreadable")
    assert (
        outcome.message.startswith("the label's GS1 data cannot be read")
        and "scan it again" in outcome.message
    )
    assert session.view().extras == ()


def test_an_inspector_overriding_the_rules_asks_a_supervisor(store, session, world):
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(receive(session, world, "RMA-000106", [world.barcode("ACC-SCARF-GRY")]))
    ok(session.start("inspect"))
    ok(session.scan(world.barcode("ACC-SCARF-GRY")))
    ok(session.photo(b"scarf"))
    ok(session.grade("A"))
    ok(session.check({"packaging_intact": True, "damaged": False}))
    assert session.view().unit.decision.disposition == "restock"
    ok(session.choose_disposition("refurbish"))
    decision = session.view().unit.decision
    assert (decision.disposition, decision.rule_disposition, decision.approval_kind) == (
        "refurbish",
        "restock",
        "override",
    )
    ok(session.confirm("small pull in the knit"))
    (inspection,) = queued(store, "inspect_item")
    (request,) = queued(store, "request_approval")
    assert inspection["payload"]["disposition"] == "refurbish" and inspection["payload"]["approval_required"]
    assert inspection["payload"]["note"] == "small pull in the knit"
    assert request["payload"]["kind"] == "override"
    assert request["payload"]["reason"].startswith(
        "inspector chose Refurbish over the rule's Restock (sellable)"
    )


def test_a_receipt_cancelled_by_a_supervisor_can_be_received_again(store, session, world):
    from sync import outbox

    ok(session.sign_in("U-RECV-1", "1111"))
    ok(receive(session, world, "RMA-000106", [world.barcode("ACC-SCARF-GRY")]))
    refused(session.scan("RMA-000106"), "already_received")
    (op,) = queued(store, "receive_return")
    outbox.cancel(store, op["id"], who="U-SUPV-1", station="dock-1", reason="scanned into the wrong return")
    ok(session.scan("RMA-000106"))


def test_a_badge_scanned_into_a_receipt_is_not_recorded_as_an_item(session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000106"))
    outcome = refused(session.scan("U-SUPV-1"), "badge_scanned")
    assert outcome.message == "U-SUPV-1 is a badge, not an item: to change who works here, sign out first"
    assert session.view().extras == ()


def test_a_task_view_is_plain_data_a_screen_or_a_log_can_serialise(session, world):
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(receive(session, world, "RMA-000106", [world.barcode("ACC-SCARF-GRY")]))
    ok(session.start("inspect"))
    ok(session.scan(world.barcode("ACC-SCARF-GRY")))
    ok(session.grade("A"))
    assert session.view().unit.decision is None  # not before the checklist is answered
    ok(session.check({"packaging_intact": True, "damaged": False}))
    refused(session.confirm(), "incomplete")  # a photo is still needed
    data = json.loads(json.dumps(session.view().to_dict()))
    assert data["unit"]["decision"]["rule_id"] == "grade-a-b-restock"
    assert data["last"] == {"ok": False, "code": "incomplete", "message": data["refusals"][-1]["message"]}


def test_a_sku_typed_by_hand_counts_like_the_barcode(store, session, world):
    ok(session.sign_in("U-RECV-1", "1111"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000106"))
    assert ok(session.scan("ACC-SCARF-GRY")).message == "Merino Scarf, Grey: 1 of 1"
    assert [line.outcome for line in session.view().lines] == ["matched"]


def test_a_pin_typed_into_the_badge_field_is_not_written_to_the_audit_log(store, session):
    refused(session.sign_in("1111", "1111"), "sign_in_refused")
    assert all("1111" not in json.dumps(row) for row in store.audit_log())


def test_electronics_are_packed_with_their_serials(store, session, world):
    store.upsert_reference(
        "shipments",
        [
            {
                "id": 97,
                "number": "CS00097",
                "order": "WEB-6097",
                "customer": "Test Customer",
                "state": "assigned",
                "lines": [
                    {
                        "move_id": 9701,
                        "product_id": world.product_ids["ELE-EARBUDS-W"],
                        "quantity": 2,
                        "lot": None,
                    },
                    {
                        "move_id": 9702,
                        "product_id": world.product_ids["ACC-BELT-BRN"],
                        "quantity": 1,
                        "lot": None,
                    },
                ],
                "write_date": WRITE_DATE,
            }
        ],
    )
    ok(session.sign_in("U-PACK-1", "3333"))
    ok(session.start("pack"))
    ok(session.scan("CS00097"))
    ok(session.scan(world.barcode("ELE-EARBUDS-W")))
    ok(session.scan(world.barcode("ACC-BELT-BRN")))
    ok(session.scan(world.gs1("ELE-EARBUDS-W", serial="SN82C8M5DGQB")))
    outcome = refused(session.confirm(), "serial_needed")
    assert outcome.message == "scan the serial label of Wireless Earbuds: 1 unit(s) packed without one"
    assert ok(session.scan("SNRT10SMXA2M")).message == "serial SNRT10SMXA2M recorded for Wireless Earbuds"
    ok(session.confirm())
    (pack,) = queued(store, "confirm_pack")
    earbuds = next(line for line in pack["payload"]["lines"] if line["move_id"] == 9701)
    assert sorted(earbuds["serials"]) == ["SN82C8M5DGQB", "SNRT10SMXA2M"]


def test_five_wrong_pins_lock_the_badge_even_for_the_right_pin(store, session):
    for _ in range(5):
        refused(session.sign_in("U-RECV-1", "0000"), "sign_in_refused")
    outcome = refused(session.sign_in("U-RECV-1", "1111"), "locked_out")
    assert outcome.message == "too many wrong tries for this badge: wait 5 minutes, or ask a supervisor"
    ok(session.sign_in("U-PACK-1", "3333"))  # other badges are not locked


def test_a_good_sign_in_clears_the_count_of_wrong_pins(store, session):
    for _ in range(4):
        refused(session.sign_in("U-RECV-1", "0000"), "sign_in_refused")
    ok(session.sign_in("U-RECV-1", "1111"))
    session.sign_out()
    refused(session.sign_in("U-RECV-1", "0000"), "sign_in_refused")
    ok(session.sign_in("U-RECV-1", "1111"))
