"""The scanner check-up: what a scanner sends for the check-up label, and the fix it names for each
way scanners are commonly set up wrong (GS lost, a GS stand-in, no suffix, AIM off, keyboard layout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from app.scan.checkup import _LAYOUTS, CHECKUP_LABEL, GTIN, LOT, SERIAL, check_scanner
from app.scan.wedge import parse_typed
from app.ui.saved_settings import load_saved
from app.workflows.results import Accepted, Refusal
from app.workflows.station import StationSession
from tests.test_workflows_session import TODAY, Clock
from tests.workflows_world import seed_world

ROOT = Path(__file__).resolve().parents[1]
WELL_SET_UP = f"]C101{GTIN}10{LOT}\x1d21{SERIAL}\r"


def typed_on(layout: str, text: str) -> str:
    return "".join(_LAYOUTS[layout].get(c, c) for c in text)


def finding(report, topic):
    return next(f for f in report.findings if f.topic == topic)


def test_the_label_and_what_a_well_set_up_scanner_sends_agree():
    assert CHECKUP_LABEL == f"(01){GTIN}(10){LOT}(21){SERIAL}"
    scan = parse_typed(WELL_SET_UP)
    assert (scan.gtin, scan.lot, scan.serial) == (GTIN, LOT, SERIAL)


def test_a_well_set_up_scanner_passes_every_check():
    report = check_scanner(WELL_SET_UP, key_times=[i * 0.004 for i in range(len(WELL_SET_UP))])
    assert report.all_fine, report.lines()
    assert (report.aim, report.suffix, report.gs, report.layout) == (True, "Enter", "sent", "US English")
    assert report.scanner_speed is True
    assert report.received.endswith("<GS>21CHK/1<CR>")


def test_a_lost_gs_separator_names_the_scanner_setting_to_change():
    report = check_scanner(WELL_SET_UP.replace("\x1d", ""))
    gs = finding(report, "gs")
    assert report.gs == "lost" and not gs.fine
    assert "GS replacement" in gs.fix and "'|'" in gs.fix
    assert report.gs_replacement is None


def test_a_printable_stand_in_is_offered_as_the_stations_gs_replacement():
    report = check_scanner(WELL_SET_UP.replace("\x1d", "<GS>"))
    assert report.gs == "stand-in" and report.gs_replacement == "<GS>"
    assert finding(report, "gs").fix == "Save '<GS>' as this station's GS replacement."
    # once saved, the same scan is fine and the parser reads lot and serial apart
    saved = check_scanner(WELL_SET_UP.replace("\x1d", "<GS>"), gs_replacement="<GS>")
    assert finding(saved, "gs").fine and saved.all_fine
    scan = parse_typed(WELL_SET_UP.replace("\x1d", "<GS>"), gs_replacement="<GS>")
    assert (scan.lot, scan.serial) == (LOT, SERIAL)


def test_no_suffix_names_the_enter_suffix():
    report = check_scanner(WELL_SET_UP.rstrip("\r"))
    suffix = finding(report, "suffix")
    assert report.suffix is None and not suffix.fine
    assert suffix.fix == "Set the scanner's suffix to Enter (CR), so each scan ends at once."


def test_a_tab_suffix_on_a_station_that_expects_enter_says_both_ways_to_fix_it():
    report = check_scanner(WELL_SET_UP.replace("\r", "\t"))
    assert report.suffix == "Tab"
    assert "to Tab in Settings" in finding(report, "suffix").fix
    assert finding(check_scanner(WELL_SET_UP.replace("\r", "\t"), station_suffix="tab"), "suffix").fine


def test_aim_identifiers_off_is_named():
    report = check_scanner(WELL_SET_UP.removeprefix("]C1"))
    assert report.aim is False
    assert "AIM" in finding(report, "aim").fix
    assert report.gs == "sent"  # the rest is still read


def test_a_scanner_typing_for_another_keyboard_layout_is_named():
    german = check_scanner(typed_on("German (QWERTZ)", WELL_SET_UP))
    assert german.layout == "German (QWERTZ)" and "German" in finding(german, "layout").fix
    assert german.received.startswith("+C1") and "AYqzß07" in german.received
    french = check_scanner(typed_on("French (AZERTY)", WELL_SET_UP))
    assert french.layout == "French (AZERTY)" and "French" in finding(french, "layout").fix
    assert french.gs == "sent" and french.aim is True  # read through the layout, AIM and GS still checked


def test_caps_lock_is_named():
    report = check_scanner(WELL_SET_UP.swapcase())
    assert not finding(report, "caps").fine
    assert "Caps Lock" in finding(report, "caps").fix


def test_keys_typed_at_a_persons_pace_are_named():
    times = [i * 0.12 for i in range(len(WELL_SET_UP))]
    report = check_scanner(WELL_SET_UP, key_times=times)
    assert report.scanner_speed is False
    assert finding(report, "speed").seen == "Keys came 120 ms apart, as fast as a person types"
    assert report.keys[1].gap_ms == 120.0


def test_another_code_is_not_taken_for_the_checkup_label():
    report = check_scanner("RMA-000104\r")
    assert not report.is_checkup_label and not report.all_fine
    assert report.fixes == ["Scan the label 'Scanner check-up' from the label sheet (station erp labels)."]


@given(st.text())
def test_any_text_gets_a_report_and_never_raises(text):
    report = check_scanner(text, key_times=[0.0] * len(text))
    assert report.findings


def test_the_session_reads_the_saved_gs_replacement(store):
    world = seed_world(store, TODAY)
    # a lot-tracked order: the lot comes before the expiry, so the separator decides where it ends
    code = "]d201" + world.barcodes["HLT-OMEGA-90"].zfill(14) + "10L26213B|17280626"
    outcomes = {}
    for replacement in (None, "|"):
        session = StationSession(store, "dock-1", clock=Clock(), gs_replacement=replacement)
        session.sign_in("U-PACK-1", "3333")
        session.start("pack")
        session.scan("WEB-6001")
        outcomes[replacement] = session.scan(code)
        session.cancel()
    assert isinstance(outcomes[None], Refusal) and "L26213B|17280626" in outcomes[None].message
    assert isinstance(outcomes["|"], Accepted), outcomes["|"]


def run_check(data_dir: Path, *args: str, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "scan", "--check", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )


def test_station_scan_check_reads_piped_text_and_saves_the_stand_in(tmp_path):
    stand_in = WELL_SET_UP.replace("\x1d", "|").encode()
    result = run_check(tmp_path, stdin=stand_in)
    assert result.returncode == 1, result.stderr
    assert "FIX The scanner sends '|' for the GS1 separator" in result.stdout.decode()
    saved = run_check(tmp_path, "--save", stdin=stand_in)
    assert saved.returncode == 0, saved.stderr
    assert load_saved(tmp_path).gs_replacement == "|"
    again = run_check(tmp_path, stdin=stand_in)
    assert again.returncode == 0 and "The scanner is set up right" in again.stdout.decode()


def test_station_scan_check_at_a_terminal_times_each_key(tmp_path):
    """A real pseudo-terminal: keys typed 5 ms apart, no suffix: the check-up names the missing
    Enter and shows each key's gap."""
    import pty

    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "scan", "--check", "--data-dir", str(tmp_path)],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    os.close(slave)
    try:
        time.sleep(3.0)  # the child starts and puts the terminal in key-by-key mode
        for char in WELL_SET_UP.rstrip("\r"):
            os.write(master, char.encode())
            time.sleep(0.005)
        out, err = child.communicate(timeout=30)
    finally:
        os.close(master)
    text = out.decode()
    assert child.returncode == 1, err
    assert "FIX Nothing is sent after the code" in text
    keys = next(line for line in text.splitlines() if line.startswith("Keys: "))
    assert keys.split()[1] == "]" and "<GS>+" in keys
    gaps = [float(part.split("+")[1].removesuffix("ms")) for part in keys.split()[2:]]
    assert len(gaps) == len(WELL_SET_UP) - 2 and max(gaps) < 1000


def test_the_saved_settings_keep_the_stand_in_when_settings_are_saved(tmp_path):
    from app.ui.saved_settings import update_saved

    update_saved(tmp_path, gs_replacement="|")
    update_saved(tmp_path, scanner_suffix="tab")
    data = json.loads((tmp_path / "station-settings.json").read_text())
    assert data["gs_replacement"] == "|" and data["scanner_suffix"] == "tab"


def test_the_label_sheet_ends_with_a_checkup_label_that_decodes_as_gs1():
    import zxingcpp

    from app.commands.erp import station_labels
    from sync.erp.tryton.labels import label_pages
    from tests.test_erp_labels import rasterise

    last = label_pages(extra=station_labels())[-1]
    read = {r.text: r for r in zxingcpp.read_barcodes(rasterise(last))}
    assert CHECKUP_LABEL in read
    assert read[CHECKUP_LABEL].symbology_identifier == "]C1"
