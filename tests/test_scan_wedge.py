"""What keyboard-wedge scanners and people type: AIM identifiers, GS1 with and without its
separator, EAN/UPC equivalence, garbage, and telling a scanner's burst from typing."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scan import BurstDetector, parse_typed
from app.scan.gs1 import GS1Error, parse_gs1
from sync.common.gtin import to_gtin14

GS = "\x1d"


@pytest.mark.parametrize(
    "typed, symbology, text, gtin",
    [
        ("]C0RMA-100234\r", "Code128", "RMA-100234", None),
        ("]E04006381333931\r", "EAN-13", "4006381333931", "04006381333931"),
        ("]E00036000291452\r", "UPC-A", "0036000291452", "00036000291452"),
        ("]E0036000291452\r", "UPC-A", "036000291452", "00036000291452"),
        ("]E3400638133393112\r", "EAN-13", "4006381333931", "04006381333931"),
        ("]E496385074\r", "EAN-8", "96385074", "00000096385074"),
        ("]A0PART-42\t", "Code39", "PART-42", None),
        ("]I000012345678905\r", "ITF", "00012345678905", "00012345678905"),
        ("]I100012345678905\r", "ITF", "00012345678905", "00012345678905"),
        ("]d1https://example.com/r/77\r", "DataMatrix", "https://example.com/r/77", None),
        ("]Q1RMA-100234\r", "QRCode", "RMA-100234", None),
        ("]X0whatever\r", "unknown", "whatever", None),
    ],
)
def test_aim_identifier_gives_symbology_and_is_stripped(typed, symbology, text, gtin):
    scan = parse_typed(typed)
    assert (scan.symbology, scan.text, scan.gtin, scan.problem) == (symbology, text, gtin, None)


@pytest.mark.parametrize(
    "typed, symbology",
    [
        ("]C1010590123412345710ABC123" + GS + "17250500\r", "Code128"),
        ("]d2010590123412345710ABC123" + GS + "17250500\r", "DataMatrix"),
        ("]Q3010590123412345710ABC123" + GS + "17250500\r", "QRCode"),
        ("]e0010590123412345710ABC123" + GS + "17250500\r", "DataBarExpanded"),
    ],
)
def test_gs1_aim_identifiers_give_lot_and_expiry(typed, symbology):
    scan = parse_typed(typed)
    assert scan.symbology == symbology
    assert scan.gtin == "05901234123457"
    assert scan.lot == "ABC123"
    assert scan.expiry == date(2025, 5, 31)
    assert scan.text == "010590123412345710ABC123" + GS + "17250500"


def test_databar_omnidirectional_from_its_aim_identifier():
    scan = parse_typed("]e00105901234123457")
    assert (scan.symbology, scan.gtin, scan.gs1) == ("DataBar", "05901234123457", {"01": "05901234123457"})


def test_upc_a_and_ean13_of_the_same_item_give_the_same_gtin():
    upc = parse_typed("]E00036000291452")
    ean = parse_typed("0036000291452")
    plain_upc = parse_typed("036000291452")
    assert upc.gtin == ean.gtin == plain_upc.gtin == to_gtin14("036000291452") == "00036000291452"


def test_upc_e_expands_to_the_gtin_of_its_upc_a():
    assert parse_typed("]E004252614").gtin == parse_typed("042100005264").gtin == "00042100005264"


def test_printable_gs_replacement_is_turned_back_into_the_separator():
    scan = parse_typed("]C1010590123412345710ABC123<GS>21SN-9\r", gs_replacement="<GS>")
    assert (scan.lot, scan.serial) == ("ABC123", "SN-9")
    assert scan.text == "010590123412345710ABC123" + GS + "21SN-9"


def test_lost_separator_is_restored_before_a_self_checking_field():
    scan = parse_typed("]C1010590123412345710ABC1231725050021SN9\r")
    assert (scan.lot, scan.expiry, scan.serial) == ("ABC123", date(2025, 5, 31), "SN9")
    assert scan.text == "010590123412345710ABC123" + GS + "1725050021SN9"


def test_gs1_without_aim_or_separator_is_recognised_by_its_valid_gtin():
    scan = parse_typed("01059012341234571725050010ABC123\r")
    assert (scan.gtin, scan.expiry, scan.lot) == ("05901234123457", date(2025, 5, 31), "ABC123")


def test_leading_gs_is_fnc1_and_means_gs1():
    scan = parse_typed(GS + "0105901234123457" + "10L1\r", aim=False)
    assert (scan.gtin, scan.lot) == ("05901234123457", "L1")


def test_human_readable_gs1_with_parentheses_is_parsed():
    scan = parse_typed("(01)05901234123457(17)250500(10)ABC123")
    assert (scan.gtin, scan.lot, scan.expiry) == ("05901234123457", "ABC123", date(2025, 5, 31))


def test_ambiguous_lost_separator_keeps_the_lot_whole():
    # "ABC12321XYZ" may be lot ABC123 + serial XYZ, or one lot: nothing can tell, so keep it whole.
    scan = parse_typed("]C1010590123412345710ABC12321XYZ")
    assert (scan.lot, scan.serial) == ("ABC12321XYZ", None)


def test_non_gs1_code128_is_not_read_as_gs1_even_if_it_looks_like_it():
    scan = parse_typed("]C00105901234123457")
    assert (scan.gtin, scan.gs1) == (None, None)


@pytest.mark.parametrize("typed", ["", "\r", "\t\r\n", "  "])
def test_only_enter_or_tab_gives_an_empty_scan(typed):
    assert parse_typed(typed).is_empty


@pytest.mark.parametrize("typed", ["hello world", "§$%&/", "]", "]C", "12345", "ÄÖÜ-ß"])
def test_garbage_gives_an_unknown_scan_without_gtin(typed):
    scan = parse_typed(typed)
    assert (scan.symbology, scan.gtin, scan.gs1, scan.problem) == ("unknown", None, None, None)


def test_gs1_claim_with_broken_data_reports_a_problem():
    scan = parse_typed("]C1xx-not-gs1")
    assert scan.gs1 is None and scan.gtin is None
    assert "GS1" in scan.problem


def test_ean13_with_a_wrong_check_digit_reports_a_misread():
    scan = parse_typed("]E04006381333932")
    assert scan.gtin is None
    assert "check digit" in scan.problem


def test_aim_off_keeps_a_leading_bracket_as_text():
    assert parse_typed("]C0ABC", aim=False).text == "]C0ABC"


# --- GS1 element strings -------------------------------------------------------------------


def test_gs1_expiry_day_00_is_the_end_of_the_month():
    assert parse_gs1("010590123412345717240200").expiry == date(2024, 2, 29)


def test_gs1_serial_quantity_and_every_ai_are_kept():
    data = parse_gs1("0105901234123457" + "21SN-1" + GS + "3712" + GS + "10L-7" + GS + "11240101")
    assert (data.serial, data.quantity, data.lot) == ("SN-1", 12, "L-7")
    assert data.elements == {"01": "05901234123457", "21": "SN-1", "37": "12", "10": "L-7", "11": "240101"}


def test_gs1_with_a_nonexistent_date_is_refused():
    with pytest.raises(GS1Error, match="not valid GS1"):
        parse_gs1("010590123412345717251340")


def test_gs1_with_a_wrong_gtin_check_digit_is_refused():
    with pytest.raises(GS1Error, match="GTIN"):
        parse_gs1("0105901234123458")


# --- GTIN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, gtin",
    [
        ("96385074", "00000096385074"),
        ("036000291452", "00036000291452"),
        ("4006381333931", "04006381333931"),
        ("10012345678902", "10012345678902"),
        (" 4006381333931 ", "04006381333931"),
        ("4006381333932", None),
        ("400638133393", None),
        ("40063813339a1", None),
        ("", None),
        ("١٢٣٤٥٦٧٨", None),
    ],
)
def test_to_gtin14(code, gtin):
    assert to_gtin14(code) == gtin


# --- burst detection -------------------------------------------------------------------------


def feed_all(detector, keys):
    scans = []
    for char, at in keys:
        scans.extend(detector.feed(char, at))
    return scans


def keys_at(text, start, gap):
    return [(c, start + i * gap) for i, c in enumerate(text)]


def test_scanner_burst_ended_by_enter_is_a_wedge_scan():
    scans = feed_all(BurstDetector(), keys_at("]E04006381333931\r", 0.0, 0.008))
    assert [(s.source, s.gtin) for s in scans] == [("wedge", "04006381333931")]


def test_person_typing_then_enter_is_a_typed_scan():
    scans = feed_all(BurstDetector(), keys_at("RMA-77\r", 0.0, 0.18))
    assert [(s.source, s.text) for s in scans] == [("typed", "RMA-77")]


def test_stray_keys_before_a_scan_are_not_part_of_the_code():
    detector = BurstDetector()
    keys = keys_at("xy", 0.0, 0.3) + keys_at("4006381333931\r", 1.0, 0.01)
    assert [(s.source, s.text) for s in feed_all(detector, keys)] == [("wedge", "4006381333931")]


def test_burst_without_suffix_completes_after_silence():
    detector = BurstDetector(end_gap=0.1)
    assert feed_all(detector, keys_at("4006381333931", 0.0, 0.01)) == []
    assert detector.flush(0.15) is None  # 0.03 s after the last key: maybe more is coming
    scan = detector.flush(0.3)
    assert (scan.source, scan.gtin) == ("wedge", "04006381333931")
    assert detector.pending == ""


def test_slow_typing_is_never_completed_by_silence():
    detector = BurstDetector()
    feed_all(detector, keys_at("4006", 0.0, 0.2))
    assert detector.flush(10.0) is None
    assert detector.pending == "4006"


def test_two_scans_back_to_back_without_suffix_are_two_scans():
    detector = BurstDetector(end_gap=0.1)
    keys = keys_at("RMA-100234", 0.0, 0.01) + keys_at("RMA-100235", 0.5, 0.01)
    scans = feed_all(detector, keys)
    scans.append(detector.flush(1.0))
    assert [s.text for s in scans] == ["RMA-100234", "RMA-100235"]


# --- whatever arrives, the parser answers ------------------------------------------------------

_SCANNER_ALPHABET = st.sampled_from(
    list("0123456789ABCXYZabc-/.()|]\x1d\r\n\t ") + ["]C1", "]E0", "]d2", "]e0"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SCANNER_ALPHABET, max_size=40).map("".join), st.sampled_from([None, "|"]))
def test_parse_typed_never_raises_and_a_gtin_is_always_valid(text, replacement):
    scan = parse_typed(text, gs_replacement=replacement)
    assert scan.gtin is None or (len(scan.gtin) == 14 and to_gtin14(scan.gtin) == scan.gtin)
    assert scan.text == scan.text.strip("\r\n\t")  # no Enter or Tab left at either end


def test_gs1_with_eci_identifiers_are_read_as_gs1():
    for prefix, symbology in (("]d5", "DataMatrix"), ("]Q5", "QRCode")):
        scan = parse_typed(prefix + "0104006381333931\x1d10ABC")
        assert (scan.symbology, scan.gtin, scan.lot) == (symbology, "04006381333931", "ABC")


def test_an_identifier_biip_does_not_know_is_dropped_and_the_code_kept():
    for typed in ("]W1ABC-123", "]YxABC-123"):
        scan = parse_typed(typed)
        assert (scan.symbology, scan.text, scan.problem) == ("unknown", "ABC-123", None)
