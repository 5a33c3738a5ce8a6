"""GTINs: check digits, UPC-E expansion and normalisation to GTIN-14.

Every article number a scanner can read (EAN-8, EAN-13, UPC-A, UPC-E, ITF-14, GS1 AI 01) names
the same thing once written as 14 digits, so the rest of the station compares GTIN-14s only:
a UPC-A label and the EAN-13 printed on the same box give the same ``gtin``.
"""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit for ``payload`` (the digits before the check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def has_valid_check_digit(digits: str) -> bool:
    """True when ``digits`` is all ASCII digits and its last digit is the GS1 check digit."""
    return (
        len(digits) >= 2
        and digits.isascii()
        and digits.isdigit()
        and check_digit(digits[:-1]) == int(digits[-1])
    )


def upce_to_upca(code: str) -> str | None:
    """Expand an 8-digit UPC-E (number system 0 or 1) to its 12-digit UPC-A; None if it is not one.

    A 6- or 7-digit UPC-E without number system / check digit is not accepted: without the check
    digit a misread cannot be told from a real code.
    """
    if len(code) != 8 or not code.isascii() or not code.isdigit() or code[0] not in "01":
        return None
    ns, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    upca = ns + body + check
    return upca if has_valid_check_digit(upca) else None


def to_gtin14(code: str, symbology: str | None = None) -> str | None:
    """The GTIN-14 for an EAN-8, UPC-A, EAN-13 or GTIN-14; with ``symbology="UPC-E"`` an 8-digit code
    is taken as a UPC-E (decoders give UPC-E expanded to 13 digits, which needs no hint).

    Returns None when ``code`` is not 8, 12, 13 or 14 digits with a valid check digit — a misread,
    or not an article number at all (a tracking number, an RMA). Surrounding spaces are ignored.
    """
    code = code.strip()
    if symbology == "UPC-E" and len(code) == 8:
        upca = upce_to_upca(code)
        return upca.zfill(14) if upca else None
    if len(code) not in GTIN_LENGTHS or not has_valid_check_digit(code):
        return None
    return code.zfill(14)
