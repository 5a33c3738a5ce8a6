"""GS1 element strings (the ``(01)…(17)…(10)…`` data of GS1-128, GS1 DataMatrix, GS1 QR and
DataBar): parsing with biip's table of application identifiers, and re-delimiting data whose
group separators a keyboard path lost.

A variable-length field (lot, serial, …) ends with a GS (ASCII 29) unless it comes last. Many
keyboard-wedge setups drop that character, and the lot then swallows what follows. We split it
again where what follows can be checked — a date with a valid month and day, a GTIN or SSCC with
a valid check digit — and leave it whole where it cannot (``10ABC12321XYZ`` could be lot
``ABC12321XYZ`` or lot ``ABC123`` and serial ``XYZ``; no table can tell).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from biip import ParseError
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message

GS = "\x1d"

# AIs whose value carries its own check (a calendar date or a GS1 check digit): finding one of
# these where a separator is missing is strong evidence that a new field starts there.
_SELF_CHECKING_AIS = {"00", "01", "02", "11", "12", "13", "15", "16", "17"}
_HRI = re.compile(r"^(\(\d{2,4}\)[^()]+)+$")


class GS1Error(ValueError):
    """The text claims to be GS1 but is not valid GS1 data; the message says what is wrong."""


@dataclass(frozen=True)
class GS1Data:
    """What a GS1 message says. ``text`` is the message with a GS after every variable-length
    field that is not last (restored where a keyboard lost it)."""

    text: str
    elements: dict[str, str] = field(default_factory=dict)
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    quantity: int | None = None


def _self_checking(element: GS1ElementString) -> bool:
    ai = element.ai.ai
    if ai not in _SELF_CHECKING_AIS:
        return False
    if ai in ("01", "02"):
        return element.gtin is not None and element.gtin_error is None
    if ai == "00":
        return element.sscc is not None and element.sscc_error is None
    return element.date is not None


def _parse_segment(segment: str) -> list[GS1ElementString]:
    """Parse a run of element strings that has no GS in it, re-delimiting variable-length fields."""
    elements: list[GS1ElementString] = []
    rest = segment
    while rest:
        element = GS1ElementString.extract(rest)
        consumed = len(element.ai.ai) + len(element.value)
        if element.ai.separator_required:
            split = _find_lost_separator(element)
            if split is not None:
                head, tail = split
                elements.append(head)
                elements.extend(tail)
                return elements
        elements.append(element)
        rest = rest[consumed:]
    return elements


def _find_lost_separator(
    element: GS1ElementString,
) -> tuple[GS1ElementString, list[GS1ElementString]] | None:
    """Where a variable-length value hides further element strings, split it at the first place
    where the remainder parses completely and starts with a self-checking field."""
    value = element.value
    ai = element.ai.ai
    for cut in range(1, len(value) - 2):
        remainder = value[cut:]
        try:
            first = GS1ElementString.extract(remainder)
            if not _self_checking(first):
                continue
            tail = _parse_segment(remainder)
            head = GS1ElementString.parse(ai + value[:cut])
        except ParseError:
            continue
        return head, tail
    return None


def _join(elements: list[GS1ElementString]) -> str:
    parts = []
    for i, element in enumerate(elements):
        parts.append(element.ai.ai + element.value)
        if element.ai.separator_required and i < len(elements) - 1:
            parts.append(GS)
    return "".join(parts)


def parse_gs1(text: str) -> GS1Data:
    """Parse GS1 element strings: raw (GS-separated, a leading GS/FNC1 allowed) or in the
    human-readable form with parentheses, ``(01)05901234123457(17)250500(10)ABC``.

    Raises GS1Error naming the problem when the text is not valid GS1 (an unknown AI, a value
    that does not fit its AI, a date that does not exist).
    """
    stripped = "".join(text.split()) if text.lstrip().startswith("(") else text.strip(" \r\n\t")
    try:
        if _HRI.match(stripped):
            elements = list(GS1Message.parse_hri(stripped).element_strings)
        else:
            elements = []
            for segment in stripped.split(GS):
                if segment:
                    elements.extend(_parse_segment(segment))
    except ParseError as exc:
        raise GS1Error(f"not valid GS1 data: {exc}") from None
    if not elements:
        raise GS1Error("not valid GS1 data: it is empty")
    values: dict[str, str] = {}
    for element in elements:
        values.setdefault(element.ai.ai, element.value)
    data: dict[str, object] = {"text": _join(elements), "elements": values}
    for element in elements:
        ai = element.ai.ai
        if ai in ("01", "02") and "gtin" not in data:
            if element.gtin_error:
                raise GS1Error(f"the GTIN in AI ({ai}) is wrong: {element.gtin_error}")
            data["gtin"] = element.value
        elif ai == "10":
            data.setdefault("lot", element.value)
        elif ai == "17":
            data.setdefault("expiry", element.date)
        elif ai == "21":
            data.setdefault("serial", element.value)
        elif ai in ("30", "37") and element.value:
            data.setdefault("quantity", int(element.value))
    return GS1Data(**data)  # type: ignore[arg-type]


def looks_like_gs1(text: str) -> bool:
    """True when text without a symbology identifier is most likely GS1 data rather than a plain
    code: it starts with a GS (FNC1), is in the parenthesised form, or starts with a GTIN/SSCC
    field whose check digit is valid and parses through to the end."""
    stripped = text.strip(" \r\n\t")
    if stripped.startswith(GS) or _HRI.match("".join(stripped.split())):
        return True
    if not (stripped[:2] in ("00", "01", "02") and len(stripped) >= 16):
        return False
    try:
        first = GS1ElementString.extract(stripped)
        parse_gs1(stripped)
    except (ParseError, GS1Error):
        return False
    return _self_checking(first)
