"""Article numbers: every code a scanner reads for an article (EAN-8, EAN-13, UPC-A, UPC-E,
ITF-14, GS1 AI 01) names the same thing once written as a GTIN-14, so the station and the ERP
compare GTIN-14s only: a UPC-A label and the EAN-13 printed on the same box give the same GTIN.

Check digits and UPC-E expansion are biip's (``biip.gtin``, ``biip.upc``).
"""

from __future__ import annotations

from biip import ParseError
from biip.gtin import Gtin
from biip.upc import Upc


def to_gtin14(code: str, symbology: str | None = None) -> str | None:
    """The GTIN-14 for an EAN-8, UPC-A, EAN-13 or GTIN-14; with ``symbology="UPC-E"`` an 8-digit code
    is taken as a UPC-E (number system 0 or 1, check digit included; decoders give UPC-E expanded
    to 13 digits, which needs no hint).

    Returns None when ``code`` is not such a number with a valid check digit: a misread, or not an
    article number at all (a tracking number, an RMA). Surrounding spaces are ignored.
    """
    code = code.strip()
    if not code.isascii() or not code.isdigit():
        return None
    try:
        if symbology == "UPC-E" and len(code) == 8:
            return Upc.parse(code).as_gtin_14()
        if len(code) not in (8, 12, 13, 14):
            return None
        return Gtin.parse(code).as_gtin_14()
    except ParseError:
        return None
