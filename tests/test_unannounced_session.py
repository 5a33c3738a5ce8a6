"""Unannounced parcels at the station without the ERP: the offer to search, the blind receipt when
offline, and the refusals (on a real store holding the demo's reference data)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.workflows.results import Accepted, Refusal
from app.workflows.station import StationSession
from tests.workflows_world import seed_world

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def receiver(store) -> StationSession:
    world = seed_world(store, TODAY)
    session = StationSession(store, "dock-1")  # no ERP configured: every search is offline
    session.world = world  # type: ignore[attr-defined]
    assert session.sign_in("U-RECV-1", "1111").ok
    assert session.start("receive").ok
    return session


def ops(store, type_: str) -> list[dict]:
    return [row["operation"] for row in store.operations() if row["type"] == type_]


def test_an_unknown_parcel_offers_the_search_and_offline_a_blind_receipt_to_quarantine(store, receiver):
    unknown = receiver.scan("1ZNOBODYKNOWS01")
    assert isinstance(unknown, Refusal) and unknown.code == "unknown_return"
    assert "Search the sale" in unknown.message and "receive it blind" in unknown.message
    offline = receiver.search_sales("alma.jansen@example.com")
    assert isinstance(offline, Refusal) and offline.code == "offline" and "blind" in offline.message
    assert isinstance(receiver.receive_blind(), Accepted)
    assert receiver.view().title == "Blind receipt (to quarantine)"
    assert isinstance(receiver.scan(receiver.world.barcode("APP-TEE-M-WHT")), Accepted)
    done = receiver.confirm()
    assert isinstance(done, Accepted) and "to quarantine" in done.message
    (op,) = ops(store, "blind_receipt")
    assert op["payload"]["why"] == "offline" and op["payload"]["parcel_code"] == "1ZNOBODYKNOWS01"
    assert [i["product_id"] for i in op["payload"]["items"]] == [receiver.world.product_ids["APP-TEE-M-WHT"]]
    assert receiver.confirm().code == "no_return"  # the next parcel starts afresh: nothing sent twice
    assert len(ops(store, "blind_receipt")) == 1


def test_a_blind_receipt_refuses_a_return_label_and_an_empty_confirm(store, receiver):
    assert isinstance(receiver.receive_blind(), Accepted)
    assert receiver.confirm().code == "nothing_scanned"
    refused = receiver.scan("RMA-000101")
    assert isinstance(refused, Refusal) and refused.code == "other_return"
    assert "cancel the blind receipt" in refused.message
    assert ops(store, "blind_receipt") == []


def test_a_sale_not_found_cannot_be_chosen_and_a_search_needs_words(receiver):
    refused = receiver.choose_sale("SO-1001")
    assert (
        isinstance(refused, Refusal) and refused.code == "unknown_sale" and "search first" in refused.message
    )
    assert receiver.search_sales("  ").code == "empty_search"


def test_a_blind_receipt_survives_a_restart(store, receiver):
    assert isinstance(receiver.receive_blind(), Accepted)
    assert isinstance(receiver.scan(receiver.world.barcode("APP-TEE-M-WHT")), Accepted)
    again = StationSession(store, "dock-1")
    assert again.sign_in("U-RECV-1", "1111").ok
    assert again.view().title == "Blind receipt (to quarantine)" and len(again.view().extras) == 1
