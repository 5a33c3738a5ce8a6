"""The one value every scan path produces: a :class:`Scan`, whatever read it (a camera, a photo,
a keyboard-wedge scanner or a person typing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.scan.gs1 import GS1Error, looks_like_gs1, parse_gs1
from sync.common.gtin import to_gtin14

SYMBOLOGIES = (
    "EAN-13", "EAN-8", "UPC-A", "UPC-E", "Code128", "Code39", "ITF", "DataMatrix", "QRCode",
    "DataBar", "DataBarExpanded", "unknown",
)  # fmt: skip
# Symbologies that carry GS1 element strings whenever they carry FNC1 (DataBar always does).
ALWAYS_GS1 = ("DataBar", "DataBarExpanded")
RETAIL = ("EAN-13", "EAN-8", "UPC-A", "UPC-E")
SOURCES = ("camera", "image", "wedge", "typed")

Point = tuple[int, int]


@dataclass(frozen=True)
class Scan:
    """One code read once.

    ``text`` is the plain decoded text as the symbol encodes it, GS1 separators as ``"\\x1d"``.
    ``gtin`` is a GTIN-14 wherever the code names an article (EAN/UPC, GS1 AI 01), so a UPC-A and
    the EAN-13 of the same item compare equal. ``problem`` says, in a worker's words, why a code
    that looked like GS1 or EAN/UPC could not be used (None when nothing is wrong).
    """

    text: str
    symbology: str
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    quantity: int | None = None
    gs1: dict[str, str] | None = None
    position: tuple[Point, ...] | None = None
    source: str = "typed"
    problem: str | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing but prefixes/suffixes (Enter, Tab) was scanned or typed."""
        return not self.text

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (expiry as ISO date, position as lists)."""
        return {
            "text": self.text,
            "symbology": self.symbology,
            "gtin": self.gtin,
            "lot": self.lot,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "serial": self.serial,
            "quantity": self.quantity,
            "gs1": self.gs1,
            "position": [list(p) for p in self.position] if self.position else None,
            "source": self.source,
            "problem": self.problem,
        }


def make_scan(
    text: str,
    symbology: str,
    *,
    gs1: bool | None = None,
    position: tuple[Point, ...] | None = None,
    source: str = "typed",
) -> Scan:
    """Build a Scan from decoded text: fill ``gtin`` and the GS1 fields.

    ``gs1=True`` means the symbol said it carries GS1 data (FNC1 first, an AIM modifier);
    ``None`` means unknown, and the text is taken as GS1 only when it clearly is (see
    :func:`app.scan.gs1.looks_like_gs1`). Never raises: bad data gives ``problem``.
    """
    if symbology == "EAN-13" and len(text) == 13 and text.startswith("0"):
        symbology = "UPC-A"  # a UPC-A is an EAN-13 with a leading 0; decoders give it as 13 digits
    if symbology in RETAIL:
        gtin = to_gtin14(text, symbology)
        problem = None if gtin else f"{symbology} {text!r} has a wrong check digit: scan it again"
        return Scan(text=text, symbology=symbology, gtin=gtin, position=position, source=source,
                    problem=problem)  # fmt: skip
    if gs1 is None:
        gs1 = symbology in ALWAYS_GS1 or looks_like_gs1(text)
    if gs1:
        try:
            data = parse_gs1(text)
        except GS1Error as exc:
            return Scan(text=text, symbology=symbology, position=position, source=source,
                        problem=f"the label's GS1 data cannot be read ({exc})")  # fmt: skip
        return Scan(
            text=data.text,
            symbology=symbology,
            gtin=data.gtin,
            lot=data.lot,
            expiry=data.expiry,
            serial=data.serial,
            quantity=data.quantity,
            gs1=data.elements,
            position=position,
            source=source,
        )
    gtin = to_gtin14(text) if symbology in ("ITF", "unknown") else None
    return Scan(text=text, symbology=symbology, gtin=gtin, position=position, source=source)
