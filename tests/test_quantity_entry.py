"""Quantity entry for lines of many identical units: ``N*`` typed before a scan (Receive, Pack),
each unit still checked against what was expected (on a real store holding the demo's data)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.workflows.results import Accepted, Refusal
from app.workflows.station import StationSession
from tests.workflows_world import seed_world

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def world(store):
    return seed_world(store, TODAY)


def signed_in(store, badge: str, pin: str, task: str) -> StationSession:
    session = StationSession(store, "dock-1")
    assert session.sign_in(badge, pin).ok
    assert session.start(task).ok
    return session


def packed(session) -> dict[str, float]:
    return {line.product: line.scanned for line in session.view().lines}


def test_a_count_before_a_scan_packs_that_many_units(store, world):
    packer = signed_in(store, "U-PACK-1", "3333", "pack")
    assert packer.scan("WEB-6006").ok
    outcome = packer.scan("2*" + world.barcode("ACC-BEANIE-RED"))
    assert isinstance(outcome, Accepted) and outcome.message.startswith("2 × Wool Beanie, Red recorded"), (
        outcome
    )
    assert packed(packer)["Wool Beanie, Red"] == 2


def test_a_count_over_what_the_order_needs_is_refused_and_records_none(store, world):
    packer = signed_in(store, "U-PACK-1", "3333", "pack")
    assert packer.scan("WEB-6006").ok
    outcome = packer.scan("3*" + world.barcode("ACC-BEANIE-RED"))
    assert isinstance(outcome, Refusal) and outcome.code == "over_pack", outcome
    assert "unit 3 refused, none recorded" in outcome.message
    assert packed(packer)["Wool Beanie, Red"] == 0
    assert packer.view().last is outcome


def test_a_count_over_what_the_return_expects_records_the_rest_as_extra(store, world):
    receiver = signed_in(store, "U-RECV-1", "1111", "receive")
    assert receiver.scan("RMA-000106").ok
    outcome = receiver.scan("3*" + world.barcode("ACC-SCARF-GRY"))
    assert isinstance(outcome, Accepted) and outcome.warning and "quantity over" in outcome.message, outcome
    view = receiver.view()
    assert [line.scanned for line in view.lines] == [1]
    assert [extra.outcome for extra in view.extras] == ["quantity_over", "quantity_over"]


@pytest.mark.parametrize(
    "typed, code",
    [("0*{tee}", "bad_quantity"), ("1000*{tee}", "bad_quantity"), ("5*{charger}", "no_quantity")],
)
def test_a_count_that_cannot_be_right_is_refused_with_why(store, world, typed, code):
    receiver = signed_in(store, "U-RECV-1", "1111", "receive")
    assert receiver.scan("RMA-000105").ok
    text = typed.format(tee=world.barcode("APP-TEE-M-WHT"), charger=world.barcode("ELE-CHRG-65W"))
    outcome = receiver.scan(text)
    assert isinstance(outcome, Refusal) and outcome.code == code, outcome
    assert receiver.view().extras == () and all(line.scanned == 0 for line in receiver.view().lines)


def test_a_count_before_the_job_is_open_is_refused(store, world):
    packer = signed_in(store, "U-PACK-1", "3333", "pack")
    outcome = packer.scan("2*" + world.barcode("ACC-BEANIE-RED"))
    assert isinstance(outcome, Refusal) and outcome.code == "no_quantity" and "job open" in outcome.message
