"""Scanning with the camera of the device in the worker's hand, in Chromium with a fake camera
playing a video the test writes from the demo's own labels, over HTTPS with the station's own
generated certificate. Nothing is typed into the scan field in the camera-only flows: the codes
come from the camera and go down the wedge scanner's path."""

from __future__ import annotations

import hashlib
import re
import time

import cv2
import numpy as np
import pytest

from app.workflows.station import StationSession
from tests.e2e.demo_store import return_spec
from tests.e2e.fake_camera import browser_with_camera, write_item_video, write_mjpeg
from tests.e2e.steps import DEMO, answer_checklist, barcode, sign_in
from tests.fixtures.browser import DESKTOP, HANDHELD, StationPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# press() marks the field focused before the click stale: here the same field takes the focus back
SCAN_FIELD_FOCUSED = "() => document.activeElement?.tagName === 'INPUT' && !document.activeElement.value"


def wedge_scan(page: StationPage, code: str) -> None:
    """A keyboard-wedge scan right after a button press on the same screen: the scan field has
    the focus back (the station gives it back after any button), and the scanner types into it."""
    page.page.wait_for_function(SCAN_FIELD_FOCUSED, timeout=5_000)
    page.page.evaluate("() => { delete document.activeElement.dataset.stale; }")
    page.scan(code)


# What the device did, recorded: each vibration the page asked for, each screen wake lock taken.
DEVICE_LOG = """
window.__vibrations = [];
window.__wakelocks = 0;
if (navigator.vibrate) {
  const vibrate = navigator.vibrate.bind(navigator);
  navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); return vibrate(pattern); };
}
if (navigator.wakeLock) {
  const request = navigator.wakeLock.request.bind(navigator.wakeLock);
  navigator.wakeLock.request = (kind) => { window.__wakelocks += 1; return request(kind); };
}
"""


def open_tab(browser, url: str, size: dict[str, int] = HANDHELD) -> StationPage:
    context = browser.new_context(viewport=size)
    context.add_init_script(DEVICE_LOG)
    return StationPage(context.new_page(), url).open()


def test_receiver_receives_a_whole_return_by_camera_with_a_wrong_item_refused_in_red(
    serve_station, chromium, tmp_path
):
    spec = return_spec(DEMO, "RMA-000101")
    tee, wallet = (barcode(line.product) for line in spec.lines)
    wrong = barcode("ACC-BEANIE-RED")  # not on this return
    video = write_mjpeg(tmp_path / "receive.mjpeg", [spec.rma, tee, wrong, wallet])
    served = serve_station(tls=True)
    assert served.url.startswith("https://")
    with browser_with_camera(chromium, video, cert=served.tls.cert) as browser:
        page = open_tab(browser, served.url, HANDHELD)
        sign_in(page, "U-RECV-1", "1111")
        page.press("Receive")
        page.see("Scan the parcel")
        page.press("Scan with camera")
        page.see(spec.customer, timeout_ms=30_000)  # the RMA label, read by the camera
        page.see(re.compile("not on this return"), timeout_ms=30_000)
        page.screenshot("receive-camera-refusal")
        page.see("All expected items scanned", timeout_ms=30_000)
        page.screenshot("receive-camera")
        page.resize(DESKTOP)
        time.sleep(1.5)  # the camera's preview is laid out again
        page.screenshot("receive-camera")
        page.press("Confirm receipt")
        page.see("Saved at this station")
        assert any(url.endswith("/sounds/refused.wav") for url in page.requests)  # the red buzz
        assert page.page.evaluate("window.__vibrations.length") >= 1  # and the handheld vibrates
        assert page.page.evaluate("window.__wakelocks") >= 1  # its screen stays on during the job
        assert all(url.startswith(("https://", "wss://", "blob:", "data:")) for url in page.requests)
    ops = served.station.store.operations()
    assert [op["type"] for op in ops] == ["receive_return"]
    payload = ops[0]["operation"]["payload"]
    assert payload["rma"] == spec.rma


def test_packer_packs_an_order_by_camera(serve_station, chromium, tmp_path):
    order = next(o for o in DEMO.orders if o.shipment == "OUT-1102")
    run43, boot43 = barcode("FTW-RUN-43"), barcode("FTW-BOOT-43")
    # two of the same shoe: out of view between them, so each is one item
    # a long lead: on a loaded CI machine the camera took more than the default 2 s to start, and
    # the pick list passed by before the first frame was read
    video = write_mjpeg(
        tmp_path / "pack.mjpeg", [order.shipment, run43, run43, boot43], lead_s=6.0, hold_s=3.0
    )
    served = serve_station(tls=True)
    with browser_with_camera(chromium, video, cert=served.tls.cert) as browser:
        page = open_tab(browser, served.url, HANDHELD)
        sign_in(page, "U-PACK-1", "3333")
        page.press("Pack")
        page.press("Scan with camera")
        page.see(order.customer, timeout_ms=30_000)
        page.see("2 of 2", timeout_ms=30_000)
        page.see(re.compile("^1 of 1$"), timeout_ms=30_000)
        page.screenshot("pack-camera")
        page.resize(DESKTOP)
        time.sleep(1.5)
        page.screenshot("pack-camera")
        time.sleep(2)  # the tail of the video is blank: nothing more is counted
        page.see("2 of 2")
        page.press(re.compile("^Confirm"))
        page.see("Saved at this station")
    ops = served.station.store.operations()
    assert [op["type"] for op in ops] == ["confirm_pack"]


def test_a_refused_camera_says_so_in_words_and_the_wedge_still_works(serve_station, chromium, tmp_path):
    served = serve_station(tls=True)
    video = write_mjpeg(tmp_path / "any.mjpeg", [], tail_s=5)
    with browser_with_camera(chromium, video, permission=False, cert=served.tls.cert) as browser:
        page = open_tab(browser, served.url, HANDHELD)
        sign_in(page, "U-RECV-1", "1111")
        page.press("Receive")
        page.press("Scan with camera")
        page.see("Camera blocked: allow it in the browser's site settings")
        page.screenshot("camera-blocked")
        spec = return_spec(DEMO, "RMA-000102")
        wedge_scan(page, spec.rma)
        page.see(spec.customer)


def test_a_device_without_a_camera_says_so_and_the_wedge_still_works(serve_station, chromium):
    served = serve_station(tls=True)
    with browser_with_camera(chromium, None, cert=served.tls.cert) as browser:
        page = open_tab(browser, served.url, HANDHELD)
        sign_in(page, "U-RECV-1", "1111")
        page.press("Receive")
        page.press("Scan with camera")
        page.see(re.compile("^No camera found on this device"))
        spec = return_spec(DEMO, "RMA-000102")
        wedge_scan(page, spec.rma)
        page.see(spec.customer)


def test_a_plain_http_page_on_a_network_name_says_it_needs_https(serve_station, chromium, tmp_path):
    served = serve_station()  # plain HTTP, as with --insecure-http
    video = write_mjpeg(tmp_path / "any.mjpeg", [], tail_s=5)
    # a name that is not loopback to the browser (so the page is not a secure context) but is
    resolver = "--host-resolver-rules=MAP dock.example 127.0.0.1"
    with browser_with_camera(chromium, video, extra=[resolver]) as browser:
        url = served.url.replace("127.0.0.1", "dock.example")
        page = open_tab(browser, url, HANDHELD)
        sign_in(page, "U-RECV-1", "1111")
        page.press("Receive")
        page.press("Scan with camera")
        port = url.rsplit(":", 1)[1].strip("/")
        page.see(f"This page needs HTTPS for the camera: open https://dock.example:{port}/")
        spec = return_spec(DEMO, "RMA-000102")
        wedge_scan(page, spec.rma)
        page.see(spec.customer)


@pytest.mark.erp
def test_inspector_photo_from_the_device_camera_reaches_the_erp(erp, serve_station, chromium, tmp_path):
    served = serve_station(erp=erp.address, tls=True)
    station = served.station
    spec = return_spec(erp.demo, "RMA-000101")
    # received at this station earlier (the ERP checked the PIN)
    desk = StationSession(station.store, station.station_id, requester=station.engine.request)
    desk.sign_in("U-RECV-1", "1111")
    desk.start("receive")
    desk.scan(spec.rma)
    for line in spec.box:
        desk.scan(erp.demo.product(line.product).barcode)
    assert desk.confirm().ok
    desk.sign_out()
    deadline = time.monotonic() + 60
    while station.store.find_return(spec.rma)["state"] != "received":
        assert time.monotonic() < deadline, "the pull never brought the received return"
        station.engine.sync_once()
        time.sleep(0.5)

    video = write_item_video(tmp_path / "item.mjpeg")
    with browser_with_camera(chromium, video, cert=served.tls.cert) as browser:
        page = open_tab(browser, served.url, HANDHELD)
        sign_in(page, "U-INSP-1", "2222")
        page.press("Inspect")
        page.see("Scan a received return")
        page.scan(spec.rma)
        page.see("waiting for inspection")
        page.scan(erp.demo.product(spec.lines[0].product).barcode)
        page.see("Photos: 0 of 2 needed")
        page.press("Scan with camera")
        page.press("Capture photo", timeout_ms=30_000)
        page.see("Photos: 1 of 2 needed", timeout_ms=30_000)
        # The fake camera's video can hand out the same frame twice on a loaded machine; the
        # station then refuses the copy ("already added") and the inspector takes it again.
        for _ in range(6):  # a full CI run on 2 cores has needed more than 3
            time.sleep(2.0)
            page.press("Capture photo", timeout_ms=30_000)
            try:
                page.text("Photos: 2 of 2 needed").first.wait_for(timeout=20_000)
                break
            except Exception:
                assert page.text("that photo was already added").count(), "neither added nor refused"
        page.see("Photos: 2 of 2 needed", timeout_ms=30_000)
        page.screenshot("inspect-device-camera")
        page.press(re.compile("^A like new"))
        answer_checklist(
            page, [("Tags attached?", "Yes"), ("Signs of wear?", "No"), ("Stains?", "No"), ("Odour?", "No")]
        )
        page.press("Confirm")
        page.see("Saved at this station")

    photos = [p for p in station.settings.photos_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(photos) == 2
    for photo in photos:
        data = photo.read_bytes()
        assert photo.name == hashlib.sha256(data).hexdigest()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[:2] == (720, 1280)  # the camera's full picture, not the preview
    deadline = time.monotonic() + 60
    while True:
        attachments = erp.call(
            "model.ir.attachment.search_read",
            [("resource", "like", "quality.inspection,%")],
            0,
            None,
            None,
            ["data"],
            {},
        )
        if len(attachments) >= 2:
            break
        assert time.monotonic() < deadline, "the photos never reached the ERP"
        time.sleep(0.5)
    in_erp = {
        hashlib.sha256(a["data"] if isinstance(a["data"], bytes) else bytes(a["data"])).hexdigest()
        for a in attachments
    }
    assert {p.name for p in photos} <= in_erp
