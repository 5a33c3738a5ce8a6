"""Turn what a scanner typed into what the workflows need: a GTIN, and the lot, expiry and serial
when the barcode carries them (GS1). One small function, so the scan layer can change underneath."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_AIM_PREFIX_LENGTH = 3  # "]" + symbology letter + modifier digit, e.g. "]E0", "]d2", "]C1"


@dataclass(frozen=True)
class ScannedCode:
    """One scan. ``text`` is the scan as typed (minus Enter/Tab); ``data`` is it without the AIM
    symbology prefix; ``gtin`` is a GTIN-14 when the code is a product number (plain or GS1)."""

    text: str
    data: str
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    problem: str | None = None  # why a code that looked like GS1 could not be read, in a worker's words

    @property
    def is_gs1(self) -> bool:
        return self.lot is not None or self.expiry is not None or self.serial is not None


def read_scan(text: str) -> ScannedCode:
    """Parse scanner text. Never raises: text that is not a barcode the station knows how to read
    comes back with only ``text``/``data`` set (an RMA number, a badge, a serial label)."""
    cleaned = text.strip("\r\n\t ")
    try:
        from app.scan import parse_typed  # the scan engineer's parser, when present
    except ImportError:
        parse_typed = None
    if parse_typed is not None:
        try:
            scan = parse_typed(cleaned)
        except Exception:  # a parser bug must not cost a worker their scan: fall back below
            scan = None
        if scan is not None:
            return _from_scan(cleaned, scan)
    return _parse_with_biip(cleaned)


def _from_scan(cleaned: str, scan: object) -> ScannedCode:
    data = getattr(scan, "data", None) or getattr(scan, "text", None) or _strip_aim(cleaned)
    expiry = getattr(scan, "expiry", None)
    if isinstance(expiry, str):
        try:
            expiry = date.fromisoformat(expiry)
        except ValueError:
            expiry = None
    return ScannedCode(
        text=cleaned,
        data=str(data),
        gtin=getattr(scan, "gtin", None) or None,
        lot=getattr(scan, "lot", None) or None,
        expiry=expiry if isinstance(expiry, date) else None,
        serial=getattr(scan, "serial", None) or None,
        problem=getattr(scan, "problem", None) or None,
    )


def _strip_aim(text: str) -> str:
    if len(text) > _AIM_PREFIX_LENGTH and text[0] == "]":
        return text[_AIM_PREFIX_LENGTH:]
    return text


def _parse_with_biip(cleaned: str) -> ScannedCode:
    data = _strip_aim(cleaned)
    if not data or not any(ch.isdigit() for ch in data):
        return ScannedCode(text=cleaned, data=data)
    try:
        import biip

        result = biip.parse(cleaned.replace("\\x1d", "\x1d"))
    except Exception:
        return ScannedCode(text=cleaned, data=data)
    gtin = lot = serial = None
    expiry: date | None = None
    if result.gs1_message is not None:
        for element in result.gs1_message.element_strings:
            ai = element.ai.ai
            if ai == "01" and element.gtin is not None:
                gtin = element.gtin.as_gtin_14()
            elif ai == "10":
                lot = element.value
            elif ai == "21":
                serial = element.value
            elif ai in ("17", "15") and element.date is not None and expiry is None:
                expiry = element.date
    if gtin is None and result.gtin is not None and data.isdigit():
        gtin = result.gtin.as_gtin_14()
    return ScannedCode(text=cleaned, data=data, gtin=gtin, lot=lot, expiry=expiry, serial=serial)
