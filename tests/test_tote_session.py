"""Sort to tote at the station, without the ERP: after a unit is confirmed the station asks for the
tote of its disposition, refuses a wrong, closed or missing tote with what was expected, closes a
full tote by scan, and keeps which tote is open for which disposition in its own records (offline,
across a restart)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.workflows.results import Accepted, Refusal
from app.workflows.station import StationSession
from app.workflows.tasks.sorting import open_totes
from sync.common.totes import read_tote, tote_code
from tests.workflows_world import seed_world

TODAY = dt.date(2026, 11, 25)
TEE = {"tags_attached": True, "worn": False, "stains": False, "odour": False}
BEANIE = {"packaging_intact": True, "damaged": False}


def ok(outcome):
    assert isinstance(outcome, Accepted), outcome
    return outcome


def refused(outcome, code: str) -> Refusal:
    assert isinstance(outcome, Refusal) and outcome.code == code, outcome
    return outcome


def ops(store, type_: str) -> list[dict]:
    return [row["operation"] for row in store.operations() if row["type"] == type_]


@pytest.fixture
def inspector(store) -> StationSession:
    world = seed_world(store, TODAY)
    session = StationSession(store, "sort-1", sort_to_totes=True)
    session.world = world  # type: ignore[attr-defined]
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000101"))
    ok(session.scan(world.barcode("APP-TEE-M-WHT")))
    ok(session.scan(world.barcode("ACC-BEANIE-RED")))
    ok(session.confirm())
    ok(session.start("inspect"))
    return session


def inspect(session, product: str, answers: dict, photos: int, grade: str = "A"):
    ok(session.scan(session.world.barcode(product)))
    for n in range(photos):
        ok(session.photo(f"{product} photo {n}".encode()))
    ok(session.grade(grade))
    ok(session.check(answers))
    return ok(session.confirm())


def wrong_for(disposition: str) -> str:
    return tote_code("refurbish" if disposition != "refurbish" else "restock", 1)


def test_a_confirmed_unit_waits_for_the_tote_of_its_disposition(store, inspector):
    said = inspect(inspector, "APP-TEE-M-WHT", TEE, 2)
    (inspection,) = ops(store, "inspect_item")
    disposition = inspection["payload"]["disposition"]
    assert inspection["payload"]["to_sort"] is True
    word = tote_code(disposition, 1).split("-")[1]
    assert f"Put it in a {read_tote(tote_code(disposition, 1)).label} tote." in said.message
    view = inspector.view()
    assert view.prompt.startswith("Put the Organic Cotton Tee, White, M in a")
    assert view.prompt.endswith(f"tote (TOTE-{word}-…): scan the tote's label")
    assert view.extra["tote_for"] == disposition

    # anything but its tote is refused with what was expected, and nothing is queued
    beanie = inspector.world.barcode("ACC-BEANIE-RED")
    assert f"TOTE-{word}-…" in refused(inspector.scan(beanie), "tote_needed").message
    wrong = refused(inspector.scan(wrong_for(disposition)), "wrong_tote")
    assert wrong.message.startswith(f"{wrong_for(disposition)} is a ")
    assert f"put it in a {word} tote" in wrong.message
    refused(inspector.scan("TOTE-PALLET-0001"), "unknown_tote")
    refused(inspector.cancel(), "tote_needed")
    refused(inspector.start("receive"), "task_open")
    assert ops(store, "sort_to_tote") == []

    tote = tote_code(disposition, 1)
    put = ok(inspector.scan(tote))
    assert f"is in {tote} (1 unit)" in put.message and f"scan {tote} again to close it" in put.message
    (sort,) = ops(store, "sort_to_tote")
    assert sort["payload"]["tote"] == tote and sort["payload"]["inspect_op"] == inspection["id"]
    assert sort["depends_on"] == [inspection["id"]] and sort["payload"]["disposition"] == disposition
    assert [(t.code, t.disposition, t.units) for t in open_totes(store)] == [(tote, disposition, 1)]


def test_a_tote_label_where_a_unit_is_expected_is_refused_and_a_second_scan_closes_it(store, inspector):
    inspect(inspector, "APP-TEE-M-WHT", TEE, 2)
    disposition = ops(store, "inspect_item")[0]["payload"]["disposition"]
    tote = tote_code(disposition, 1)
    other = tote_code(disposition, 2)
    ok(inspector.scan(tote))
    # another tote's label where the next unit is expected: not a unit
    assert "not a unit" in refused(inspector.scan(other), "tote_not_unit").message
    closed = ok(inspector.scan(tote))  # the same tote again: it is full
    assert f"{tote} closed: take it to" in closed.message
    (close,) = ops(store, "close_tote")
    assert close["payload"] == {"tote": tote, "units": 1}
    assert close["depends_on"] == [ops(store, "sort_to_tote")[0]["id"]]
    assert open_totes(store) == []

    # the next unit may not go into the closed tote
    inspect(inspector, "ACC-BEANIE-RED", BEANIE, 1)
    beanie = ops(store, "inspect_item")[1]["payload"]["disposition"]
    assert beanie == disposition == "restock"
    assert "take an empty tote" in refused(inspector.scan(tote), "tote_closed").message
    ok(inspector.scan(tote_code(beanie, 3)))
    ok(inspector.close_tote())
    assert inspector.view().prompt == "Scan the label of the tote to close"
    ok(inspector.scan(tote_code(beanie, 3)))
    assert [op["payload"]["tote"] for op in ops(store, "close_tote")] == [tote, tote_code(beanie, 3)]


def test_the_open_tote_survives_a_sign_out_and_a_restart(store, inspector):
    inspect(inspector, "APP-TEE-M-WHT", TEE, 2)
    disposition = ops(store, "inspect_item")[0]["payload"]["disposition"]
    ok(inspector.sign_out())
    again = StationSession(store, "sort-1", sort_to_totes=True)
    ok(again.sign_in("U-LEAD-1", "5555"))
    assert again.view().extra["tote_for"] == disposition  # still waiting for its tote
    ok(again.scan(tote_code(disposition, 7)))
    assert [t.code for t in open_totes(store)] == [tote_code(disposition, 7)]


def test_a_station_that_does_not_sort_sends_units_straight_and_refuses_tote_labels(store):
    world = seed_world(store, TODAY)
    session = StationSession(store, "dock-1")
    session.world = world  # type: ignore[attr-defined]
    ok(session.sign_in("U-LEAD-1", "5555"))
    ok(session.start("receive"))
    ok(session.scan("RMA-000106"))
    ok(session.scan(world.barcode("ACC-SCARF-GRY")))
    ok(session.confirm())
    ok(session.start("inspect"))
    said = inspect(session, "ACC-SCARF-GRY", {"packaging_intact": True, "damaged": False}, 1)
    assert "tote" not in said.message
    assert "to_sort" not in ops(store, "inspect_item")[0]["payload"]
    refused(session.scan("TOTE-RESTOCK-0001"), "not_sorting")
    refused(session.close_tote(), "not_sorting")


def test_a_held_unit_is_not_sorted(store, inspector):
    # an override needs a supervisor: the unit's disposition is not final, so no tote is asked
    ok(inspector.scan(inspector.world.barcode("APP-TEE-M-WHT")))
    ok(inspector.photo(b"front"))
    ok(inspector.photo(b"back"))
    ok(inspector.grade("A"))
    ok(inspector.check(TEE))
    ok(inspector.choose_disposition("quarantine"))
    said = ok(inspector.confirm())
    assert "tote" not in said.message and not inspector.view().extra.get("tote_for")
    assert "to_sort" not in ops(store, "inspect_item")[0]["payload"]


def test_tote_labels_name_their_disposition():
    assert read_tote("TOTE-REFURB-0003").disposition == "refurbish"
    assert read_tote("tote-rtv-0012").code == "TOTE-RTV-0012"
    assert read_tote("TOTE-PALLET-0001") is None and read_tote("5901732000014") is None
    assert tote_code("dispose", 4) == "TOTE-SCRAP-0004"


def test_the_setting_changed_at_the_station_takes_effect_on_the_next_unit(tmp_path):
    from app.config import load_settings
    from app.runtime import open_station
    from app.ui.saved_settings import load_saved

    settings = load_settings(data_dir=tmp_path / "station", station_id="sort-2", environ={})
    station = open_station(settings, sync=False, environ={})
    try:
        world = seed_world(station.store, TODAY)
        session = station.new_session()
        ok(session.sign_in("U-LEAD-1", "5555"))
        ok(session.start("receive"))
        ok(session.scan("RMA-000101"))
        ok(session.scan(world.barcode("APP-TEE-M-WHT")))
        ok(session.scan(world.barcode("ACC-BEANIE-RED")))
        ok(session.confirm())
        ok(session.start("inspect"))
        session.world = world  # type: ignore[attr-defined]
        assert "tote" not in inspect(session, "ACC-BEANIE-RED", BEANIE, 1).message  # not sorting yet
        assert station.save_sort_to_totes(True).startswith("Saved: Inspect asks for the tote")
        assert load_saved(settings.data_dir).sort_to_totes is True
        assert "Put it in a" in inspect(session, "APP-TEE-M-WHT", TEE, 2).message  # the same session
    finally:
        station.close()
