"""decode_frame keeps one text per code: the second texts decoders read on the bars or modules of a
code (seen on 20 of the shared sample photos beside the right text) do not come out.

The boxes below are the ones the decoders gave on those photos (upca-4/1, ean13-1/35, upca-2/39,
qrcode-2/17, qrcode-2/32, code128-1/6, qrcode-2/16)."""

import numpy as np

from app.scan import decode


def read(text: str, symbology: str, corners, decoder: str = "zxing-cpp") -> decode._Read:
    return decode._Read(text, symbology, None, np.array(corners, np.float32), decoder=decoder)


def texts(reads, camera: bool = False) -> list[str]:
    return sorted(r.text for r in decode._unique(reads, camera=camera))


def test_an_ean_13_read_on_one_line_through_a_upc_a_is_dropped():
    upc = read("0023942431015", "UPC-A", [(146, 102), (342, 102), (340, 225), (148, 225)])
    lines = [
        read("9074932437075", "EAN-13", [(147, 193), (339, 193), (340, 194), (147, 194)]),
        read("4112234738478", "EAN-13", [(339, 178), (147, 178), (147, 186), (339, 186)], "pyzbar"),
    ]
    assert texts([*lines, upc]) == ["0023942431015"]


def test_a_sliver_beside_the_bars_of_a_larger_read_of_its_family_is_dropped():
    real = read("5030159003930", "EAN-13", [(219, 408), (219, 65), (102, 68), (102, 406)])
    sliver = read("7034759003930", "EAN-13", [(70, 406), (70, 68), (67, 68), (67, 406)])
    assert texts([sliver, real]) == ["5030159003930"]


def test_two_retail_texts_on_the_same_bars_both_lines_keep_neither():
    # Nothing tells which of two one-line reads is right: a misread is worse than no read.
    upc = read("0012546619592", "UPC-A", [(18, 19), (201, 19), (201, 20), (18, 20)])
    ean = read("6087746619592", "EAN-13", [(18, 27), (204, 27), (204, 34), (18, 34)], "pyzbar")
    assert texts([upc, ean]) == []


def test_a_qr_code_in_shift_jis_keeps_zxing_cpps_reading_over_pyzbars():
    square = [(18, 18), (200, 18), (200, 200), (18, 200)]
    zxing = read("ﾃﾞｻﾞｲﾝQR\nhttp://d-qr.net/ex/", "QRCode", square)
    zbar = read("蹬靼翌QR\nhttp://d-qr.net/ex/", "QRCode", square[::-1], "pyzbar")
    assert texts([zbar, zxing]) == ["ﾃﾞｻﾞｲﾝQR\nhttp://d-qr.net/ex/"]


def test_a_code_128_with_fnc4_keeps_zxing_cpps_reading_over_pyzbars():
    zxing = read("óóóó1234óóabózz", "Code128", [(11, 1), (276, 1), (276, 45), (11, 45)])
    zbar = read("ssss1234ssabszz", "Code128", [(13, 0), (13, 46), (274, 46), (274, 1)], "pyzbar")
    assert texts([zxing, zbar]) == ["óóóó1234óóabózz"]


def test_an_itf_read_in_a_qr_codes_modules_is_dropped():
    qr = read("BEGIN:VCARD", "QRCode", [(0, 0), (65, 0), (65, 65), (0, 65)])
    itf = read("871955", "ITF", [(18, 0), (18, 0), (18, 1), (18, 1)], "pyzbar")
    assert texts([qr, itf]) == ["BEGIN:VCARD"]


def test_a_qr_code_inside_another_is_a_second_code_and_is_kept():
    outer = read("[outer QR]", "QRCode", [(21, 22), (236, 21), (236, 237), (21, 236)])
    inner = read("[inner QR]", "QRCode", [(117, 117), (180, 117), (181, 181), (117, 180)])
    assert texts([outer, inner]) == ["[inner QR]", "[outer QR]"]


def test_two_codes_of_one_kind_side_by_side_are_both_kept():
    left = read("4006381333931", "EAN-13", [(10, 10), (200, 10), (200, 150), (10, 150)])
    right = read("5901234123457", "EAN-13", [(300, 10), (490, 10), (490, 150), (300, 150)])
    assert texts([left, right]) == ["4006381333931", "5901234123457"]


def test_of_two_retail_texts_on_the_same_bars_the_one_both_decoders_read_again_and_again_is_kept():
    # upca-2/39: the UPC-A read by zxing-cpp on two passes and by pyzbar, the EAN-13 once.
    upc = [(18, 19), (201, 19), (201, 20), (18, 20)]
    reads = [
        read("0012546619592", "UPC-A", upc),
        read("0012546619592", "UPC-A", upc),
        read("0012546619592", "UPC-A", upc, "pyzbar"),
        read("6087746619592", "EAN-13", [(18, 27), (204, 27), (204, 34), (18, 34)], "pyzbar"),
    ]
    assert texts(reads) == ["0012546619592"]
