"""Screens sized for the device, read from where Chromium draws them (the accessibility tree's
bounding boxes, in CSS pixels of the viewport, nothing scrolled):

- in the hand (360×640) the status strip, app bar, scan field and a scan's banner end within the top
  quarter (160 px) and the job's first line (Receive's, Pack's; Inspect's unit) is on screen;
- at the desk (1280×800) Inspect shows the unit and its photos beside the grade, checklist and
  disposition, all on screen; Receive and Pack show their lines beside the scan field; Supervise
  shows queues, outbox and approvals side by side.

Each flow leaves screenshots at both sizes in artifacts/screenshots/ (layout-*)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.demo_store import return_spec
from tests.e2e.steps import DEMO, answer_checklist, barcode, jpeg, mark_received, sign_in
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = pytest.mark.browser

QUARTER = HANDHELD["height"] / 4  # 160 px
BANNER_EDGE = 4  # the banner's padding and border under its text, in the hand


def box(locator) -> dict:
    found = locator.first.bounding_box()
    assert found is not None, f"not drawn: {locator}"
    return found


def bottom(found: dict) -> float:
    return found["y"] + found["height"]


def on_screen(found: dict, size: dict) -> bool:
    return (
        found["x"] >= 0
        and found["y"] >= 0
        and found["x"] + found["width"] <= size["width"]
        and bottom(found) <= size["height"]
    )


def both_sizes(page, name: str, first: dict) -> None:
    """The screen as it is now, then at the other size."""
    page.screenshot(name)
    page.resize(DESKTOP if first == HANDHELD else HANDHELD)
    page.screenshot(name)
    page.resize(first)


def test_in_the_hand_the_top_takes_a_quarter_and_the_returns_lines_show(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000110")  # two lines, one of them in the box
    page.scan(spec.rma)
    page.see(spec.customer)
    first = DEMO.product(spec.lines[0].product).name
    page.scan(barcode(spec.lines[0].product))
    banner = box(page.text(re.compile(f"^{re.escape(first)}: 1 of 1")))
    field = box(page.field("Scan"))
    line = box(page.text(first).last)  # the banner names it too: the line is the last one drawn
    second = box(page.text(DEMO.product(spec.lines[1].product).name))
    page.screenshot("layout-receive")
    print(f"field {field} banner {banner} first line {line} second line {second}")
    assert field["y"] < banner["y"] < line["y"]
    assert bottom(banner) + BANNER_EDGE <= QUARTER  # strip, app bar, scan field and banner
    assert on_screen(line, HANDHELD) and on_screen(second, HANDHELD)
    assert on_screen(box(page.button("Confirm partial receipt")), HANDHELD)


def test_in_the_hand_packs_order_lines_and_inspects_unit_show_without_scrolling(
    serve_station, open_station, tmp_path
):
    served = serve_station()
    order = DEMO.orders[1]  # OUT-1102: three units on two lines
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-PACK-1", "3333")
    page.press("Pack")
    page.see("Scan the pick list")
    page.scan(order.shipment)
    page.see(order.customer)
    page.scan(barcode(order.lines[0].product))
    names = [DEMO.product(line.product).name for line in order.lines]
    lines = [box(page.text(name).last) for name in names]
    page.screenshot("layout-pack")
    print(f"pack lines {lines}")
    assert all(on_screen(found, HANDHELD) for found in lines)
    assert box(page.field("Scan"))["y"] < QUARTER

    spec = return_spec(DEMO, "RMA-000101")
    mark_received(served.station.store, spec.rma)
    page.press("Home")
    page.press("Sign out")
    sign_in(page, "U-INSP-1", "2222")
    page.press("Inspect")
    page.see("Scan a received return")
    page.scan(spec.rma)
    page.see("waiting for inspection")
    tee = DEMO.product(spec.lines[0].product)
    page.scan(tee.barcode)
    page.see(re.compile("take 2 photo"))
    name = box(page.page.get_by_text(tee.name, exact=True))  # the unit's name, above the return's lines
    unit = box(page.text(tee.code).first)  # the unit's facts: SKU · family · value
    page.screenshot("layout-inspect")
    print(f"unit {name} {unit}")
    assert on_screen(name, HANDHELD) and on_screen(unit, HANDHELD)


def test_at_the_desk_inspect_shows_the_unit_beside_its_form_and_the_disposition_without_scrolling(
    serve_station, open_station, tmp_path
):
    served = serve_station()
    spec = return_spec(DEMO, "RMA-000101")
    mark_received(served.station.store, spec.rma)
    photos = []
    for i, colour in enumerate(("navy", "teal")):
        path = tmp_path / f"photo{i}.jpg"
        path.write_bytes(jpeg(colour))
        photos.append(str(path))
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-INSP-1", "2222")
    page.press("Inspect")
    page.see("Scan a received return")
    page.scan(spec.rma)
    tee = spec.lines[0].product
    page.scan(barcode(tee))
    with page.page.expect_file_chooser() as chooser:
        page.press("Add photo")
    chooser.value.set_files(photos)
    page.see("Photos: 2 of 2 needed")
    page.press(re.compile("^A like new"))
    answer_checklist(
        page, [("Tags attached?", "Yes"), ("Signs of wear?", "No"), ("Stains?", "No"), ("Odour?", "No")]
    )
    page.see(re.compile("rule "))
    disposition = box(page.text(re.compile("rule ")))
    confirm = box(page.button("Confirm disposition"))
    photo = box(page.page.get_by_role("img", name="photo 2"))
    grade = box(page.button(re.compile("^F unsaleable")))
    question = box(page.text("Odour?"))
    print(f"disposition {disposition} confirm {confirm} photo {photo} grade {grade} question {question}")
    for found in (disposition, confirm, photo, grade, question):
        assert on_screen(found, DESKTOP)
    # two panes: the unit and its photos on the left, the form on the right
    assert photo["x"] + photo["width"] < min(grade["x"], disposition["x"], question["x"])
    assert grade["y"] < photo["y"] + photo["height"]  # beside, not under
    both_sizes(page, "layout-inspect-graded", DESKTOP)
    page.press("Confirm disposition")
    page.see("Saved at this station")


def test_at_the_desk_the_lines_are_beside_the_scan_feedback(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000104")  # the box holds the wrong size
    page.scan(spec.rma)
    page.see(spec.customer)
    for line in spec.box:
        page.scan(barcode(line.product))
    page.see("Not expected")
    field = box(page.field("Scan"))
    items = box(page.text("Items"))
    extra = box(page.text("Not expected"))
    confirm = box(page.button("Confirm partial receipt"))
    print(f"field {field} items {items} confirm {confirm}")
    assert items["x"] > field["x"] + field["width"] and items["y"] < DESKTOP["height"] / 3
    assert extra["x"] == items["x"]
    assert confirm["x"] < items["x"] and on_screen(confirm, DESKTOP)
    both_sizes(page, "layout-receive-refusal", DESKTOP)

    page.press("Cancel job")
    page.press("Home")
    page.press("Sign out")
    sign_in(page, "U-PACK-1", "3333")
    page.press("Pack")
    order = DEMO.orders[0]
    page.scan(order.shipment)
    page.see(order.customer)
    first = box(page.text(DEMO.product(order.lines[0].product).name))
    field = box(page.field("Scan"))
    assert first["x"] > field["x"] + field["width"] and on_screen(first, DESKTOP)
    both_sizes(page, "layout-pack", DESKTOP)


def test_at_the_desk_supervise_shows_queues_outbox_and_approvals_side_by_side(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-SUPV-1", "444444")
    page.press("Supervise")
    page.see("Received, not inspected")
    titles = [box(page.text(re.compile(f"^{name}"))) for name in ("Queues", r"Outbox \(", r"Approvals \(")]
    print(f"titles {titles}")
    assert titles[0]["x"] < titles[1]["x"] < titles[2]["x"]
    assert max(t["y"] for t in titles) - min(t["y"] for t in titles) < 20  # one row of panels
    assert page.button(re.compile(r"^Outbox \(")).count() == 0  # no tabs at the desk
    page.see("No approvals waiting")
    page.screenshot("layout-supervise")
    page.resize(HANDHELD)  # in the hand: one panel at a time, chosen by its tab
    page.see("Received, not inspected")
    tabs = [box(page.button(re.compile(f"^{name}"))) for name in ("Queues", r"Outbox \(", r"Approvals \(")]
    print(f"tabs {tabs}")
    assert max(t["y"] for t in tabs) - min(t["y"] for t in tabs) < 5  # one line of tabs, not two
    assert all(t["y"] >= 0 and bottom(t) <= HANDHELD["height"] for t in tabs)
    page.screenshot("layout-supervise-tabs")
    page.press(re.compile(r"^Outbox \("))
    page.see("Failed: 0")
    page.screenshot("layout-supervise-outbox")
