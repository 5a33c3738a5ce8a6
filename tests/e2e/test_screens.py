"""Each screen in headless Chromium, driven as a worker drives it: a keyboard-wedge scanner types
into the focused scan field, buttons are found by their accessible names. The store holds the
demo's reference data; the round trip to the real ERP is in test_roles_erp.py."""

from __future__ import annotations

import re

import pytest

from app.ui.web import free_port
from sync import outbox
from tests.e2e.demo_store import return_spec
from tests.e2e.steps import DEMO, answer_checklist, barcode, jpeg, mark_received, sign_in
from tests.fixtures.browser import DESKTOP, FOCUSED_FIELD, HANDHELD

pytestmark = pytest.mark.browser


def both_sizes(page, name: str) -> None:
    """Screenshot at the desk and at the handheld size (then back to the desk)."""
    page.screenshot(name)
    page.resize(HANDHELD)
    page.screenshot(name)
    page.resize(DESKTOP)


def test_receiver_receives_a_complete_return(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, DESKTOP)
    both_sizes(page, "signin")
    sign_in(page, "U-RECV-1", "1111")
    page.see("Hello Rosa Diaz")
    both_sizes(page, "home-receiver")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000101")
    page.scan(spec.rma)
    page.see(spec.customer)
    for line in spec.box:
        page.scan(barcode(line.product))
    page.see("All expected items scanned")
    both_sizes(page, "receive")
    page.press("Confirm receipt")
    page.see("RMA-000101 received")
    page.see("Saved at this station")
    ops = served.station.store.operations()
    assert [op["type"] for op in ops] == ["receive_return"]
    assert ops[0]["operation"]["payload"]["rma"] == spec.rma
    assert ops[0]["operation"]["user"] == "U-RECV-1"
    assert any(url.endswith("/sounds/good.wav") for url in page.requests)  # the good-scan chirp
    assert page.non_local_requests() == []


def test_receiver_sees_a_wrong_item_in_red_and_cannot_confirm_without_a_reason(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    page.scan("RMA-999999")
    page.see(re.compile("RMA-999999"))
    spec = return_spec(DEMO, "RMA-000104")  # the box holds the wrong size
    page.scan(spec.rma)
    page.see(spec.customer)
    for line in spec.box:
        page.scan(barcode(line.product))
    page.see("Not expected")
    page.see(re.compile("not on this return"))
    both_sizes(page, "receive-refusal")
    page.press("Confirm partial receipt")
    page.see(re.compile("reason", re.I))
    assert served.station.store.operations() == []
    assert any(url.endswith("/sounds/refused.wav") for url in page.requests)  # the refusal buzz


def test_wrong_pin_is_refused_and_nothing_opens(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-RECV-1", "0000")
    page.see("badge or PIN not recognised")
    page.screenshot("signin-refusal")
    assert page.field("Badge").count() == 1
    assert served.station.store.operations() == []


def test_a_reload_loses_nothing_the_job_resumes_after_sign_in(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000110")  # two lines expected
    page.scan(spec.rma)
    page.scan(barcode(spec.lines[0].product))
    page.see("1 of 1")
    page.reload()  # the tab's session survives a reload
    page.see("1 of 1")
    page.see("0 of 1")
    crashed = open_station(served.url, DESKTOP)  # a new tab, as after a browser crash
    sign_in(crashed, "U-RECV-1", "1111")
    crashed.see("Resumed your")
    crashed.see("1 of 1")
    crashed.see("0 of 1")


def test_inspector_grades_with_photos_and_gets_the_rules_disposition(serve_station, open_station, tmp_path):
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
    page.see("waiting for inspection")
    tee = spec.lines[0].product
    page.scan(barcode(tee))
    page.see(re.compile("take 2 photo"))
    with page.page.expect_file_chooser() as chooser:
        page.press("Add photo")
    chooser.value.set_files(photos)
    page.see("Photos: 2 of 2 needed")
    page.press(re.compile("^A like new"))
    answer_checklist(
        page, [("Tags attached?", "Yes"), ("Signs of wear?", "No"), ("Stains?", "No"), ("Odour?", "No")]
    )
    page.see(re.compile("rule "))
    both_sizes(page, "inspect")
    page.press("Confirm")
    page.see("Saved at this station")
    ops = served.station.store.operations()
    types = [op["type"] for op in ops]
    assert types.count("upload_photo") == 2 and "inspect_item" in types
    inspected = next(op["operation"]["payload"] for op in ops if op["type"] == "inspect_item")
    assert inspected["grade"] == "A" and len(inspected["photos"]) == 2 and inspected["rule_id"]


def test_inspector_is_refused_an_item_that_is_not_in_the_return(serve_station, open_station):
    served = serve_station()
    spec = return_spec(DEMO, "RMA-000101")
    mark_received(served.station.store, spec.rma)
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-INSP-1", "2222")
    page.press("Inspect")
    page.see("Scan a received return")
    page.scan(spec.rma)
    page.scan(barcode("ELE-HEADPH-NC"))
    page.see(re.compile("not in this return"))
    both_sizes(page, "inspect-refusal")
    assert served.station.store.operations() == []


def plain_order():
    """An order without lot- or serial-tracked items."""
    return next(o for o in DEMO.orders if all(DEMO.product(ln.product).tracking == "none" for ln in o.lines))


def test_packer_packs_an_order_and_confirms_it(serve_station, open_station):
    served = serve_station()
    target = plain_order()
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-PACK-1", "3333")
    page.press("Pack")
    page.see("Scan the pick list")
    page.scan(target.shipment)
    page.see(target.customer)
    for line in target.lines:
        for _ in range(line.quantity):
            page.scan(barcode(line.product))
    both_sizes(page, "pack")
    page.press("Confirm")
    page.see("packed and confirmed")
    ops = served.station.store.operations()
    assert [op["type"] for op in ops] == ["confirm_pack"]


def test_packer_is_refused_an_item_the_order_does_not_hold(serve_station, open_station):
    served = serve_station()
    target = plain_order()
    foreign = next(
        p for p in DEMO.products if p.tracking == "none" and p.code not in {ln.product for ln in target.lines}
    )
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-PACK-1", "3333")
    page.press("Pack")
    page.see("Scan the pick list")
    page.scan(target.shipment)
    page.scan(foreign.barcode)
    page.see(re.compile(foreign.name.split(",")[0]))
    page.screenshot("pack-refusal")
    assert served.station.store.operations() == []


def test_supervisor_sends_a_failed_operation_again(serve_station, open_station):
    served = serve_station()
    store = served.station.store
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000101")
    page.scan(spec.rma)
    for line in spec.box:
        page.scan(barcode(line.product))
    page.press("Confirm receipt")
    page.see("Saved at this station")
    op_id = store.operations()[0]["id"]
    outbox.claim(store)
    outbox.fail(store, op_id, "the ERP refused: return CR00001 is locked")
    page.press("Sign out")
    page.see("Rosa Diaz signed out")
    sign_in(page, "U-SUPV-1", "444444")
    page.press("Supervise")
    page.see("Received, not inspected")
    page.see("is locked")  # at the desk the outbox is beside the queues, no tab to open
    both_sizes(page, "supervise")
    page.resize(HANDHELD)  # in the hand: one panel at a time
    page.press(re.compile("^Outbox"))
    page.see("is locked")
    page.screenshot("supervise-outbox")
    page.press("Retry")
    page.see("Sent again")
    assert store.operation(op_id)["state"] == "pending"
    assert any(entry["what"] == "retry" for entry in store.audit_log())


def test_settings_test_connection_says_why_it_failed(serve_station, open_station):
    served = serve_station(fill=False)
    page = open_station(served.url, DESKTOP)
    page.press("Settings")
    page.field("ERP host").wait_for()
    page.type_into("Port", "1", enter=False)  # 80001
    page.press("Test connection")
    page.see("The port must be between 1 and 65535, not 80001")
    page.field("Port").click()
    page.page.keyboard.press("Control+A")
    page.page.keyboard.type(str(free_port()))  # nobody listens there
    page.press("Test connection")
    page.see(re.compile("Cannot reach the ERP"))
    both_sizes(page, "settings")
    assert "admin@" not in page.page.content()


def test_a_scanner_that_sends_tab_after_each_code_works_too(serve_station, open_station):
    served = serve_station()
    served.station.scanner_suffix = "tab"
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000101")
    page.scan(spec.rma, suffix="Tab")
    page.see(spec.customer)
    page.scan(barcode(spec.box[0].product), suffix="Tab")
    page.see("1 of 1")


def test_an_idle_worker_is_signed_out_and_finds_the_job_again(serve_station, open_station):
    served = serve_station()
    served.station.idle_sign_out_s = 3
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000101")
    page.scan(spec.rma)
    page.see(spec.customer)
    page.see("Signed out after a while without activity", timeout_ms=15_000)
    sign_in(page, "U-RECV-1", "1111")
    page.see("Resumed your")
    page.see(spec.customer)


def test_a_slow_scan_survives_the_status_strip_changing_under_it(serve_station, open_station):
    """A re-render of the screen (here: the strip's waiting count climbing every 0.2 s) must not
    reset the scan field while a code is being typed into it."""
    import threading

    from sync.operations import new_operation

    served = serve_station()
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    stop = threading.Event()

    def queue_work() -> None:
        while not stop.wait(0.2):
            served.station.store.enqueue(
                new_operation("upload_photo", {"sha256": "0" * 64}, station="ST-TEST", user="U-RECV-1")
            )

    worker = threading.Thread(target=queue_work)
    worker.start()
    try:
        page.page.wait_for_function(FOCUSED_FIELD, timeout=5_000)
        page.page.keyboard.type("RMA-000101", delay=150)  # 1.5 s: several strip updates
        page.page.keyboard.press("Enter")
        page.see("Alma Jansen")
    finally:
        stop.set()
        worker.join()
    page.see(re.compile(r"[1-9]\d* waiting"))


def test_scanning_a_label_on_home_opens_that_job(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-RECV-1", "1111")
    page.see("Hello Rosa Diaz")
    page.scan("RMA-000101")
    page.see("Scan each item in the box")
    page.see("Alma Jansen")


def test_scanner_checkup_names_each_fix_and_saves_the_gs_stand_in(serve_station, open_station):
    from app.scan.checkup import GTIN, LOT, SERIAL
    from app.ui.saved_settings import load_saved

    served = serve_station(fill=False)
    page = open_station(served.url, DESKTOP)
    page.press("Settings")
    label = f"]C101{GTIN}10{LOT}|21{SERIAL}"

    def scan_checkup(text: str, suffix: str | None) -> None:
        field = page.field("Check-up scan").first
        field.wait_for(timeout=15_000)
        field.click()
        page.page.keyboard.type(text, delay=5)
        if suffix:
            page.page.keyboard.press(suffix)

    scan_checkup(label, "Enter")  # a scanner sending '|' for GS
    page.see("The scanner sends '|' for the GS1 separator. Save '|' as this station's GS replacement.")
    page.see(re.compile(r"Received: \]C1010950600013435210AZqy-07\|21CHK/1<CR>"))
    for size in (DESKTOP, HANDHELD):  # the report, scrolled into view at each size
        page.resize(size)
        page.page.mouse.move(size["width"] // 2, size["height"] // 2)
        page.page.mouse.wheel(0, 1200)
        page.screenshot("settings-checkup")
    page.resize(DESKTOP)
    page.press("Use '|' as GS replacement")
    page.see("Saved: this station reads '|' as the GS1 separator")
    assert load_saved(served.station.settings.data_dir).gs_replacement == "|"
    assert served.station.gs_replacement == "|"

    scan_checkup(label.replace("|", ""), None)  # GS lost, and no suffix
    page.see(re.compile("The GS1 separator between lot and serial is lost"))
    page.see(
        "Nothing is sent after the code. Set the scanner's suffix to Enter (CR), so each scan ends at once."
    )
    page.press("Scan the check-up again")
    scan_checkup(label, "Enter")
    page.see("The scanner is set up right for this station.")
