"""Turn what a scanner typed into what the workflows need: a GTIN, and the lot, expiry and serial
when the barcode carries them (GS1). The parsing is app.scan's; this is the workflows' view of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.scan import parse_typed
from sync.common.totes import Tote, read_tote


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
    def tote(self) -> Tote | None:
        """The tote a tote label names (sort to tote: ``TOTE-REFURB-0003``), else None."""
        return None if self.gtin or self.is_gs1 else read_tote(self.data)

    @property
    def is_gs1(self) -> bool:
        return self.lot is not None or self.expiry is not None or self.serial is not None


def read_scan(text: str, *, gs_replacement: str | None = None) -> ScannedCode:
    """Parse scanner text with the scan layer's parser. Never raises: text that is not a barcode
    the station knows how to read comes back with only ``text``/``data`` set (an RMA number, a
    badge, a serial label); a broken GS1 or EAN code comes back with ``problem`` said."""
    cleaned = text.strip("\r\n\t ")
    scan = parse_typed(cleaned, gs_replacement=gs_replacement)
    return ScannedCode(
        text=cleaned,
        data=scan.text,
        gtin=scan.gtin,
        lot=scan.lot,
        expiry=scan.expiry,
        serial=scan.serial,
        problem=scan.problem,
    )
