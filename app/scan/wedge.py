"""What a keyboard-wedge scanner (or a person) types: prefixes, suffixes, AIM symbology
identifiers and GS1 data whose separator the keyboard path may have lost.

A wedge scanner is a keyboard: a USB or Bluetooth scanner, or the built-in scanner of an Android
handheld, types the code into the focused field, usually followed by Enter or Tab. Configured
well it sends an AIM symbology identifier first (ISO/IEC 15424: ``]C1`` GS1-128, ``]E0`` EAN-13
and UPC-A, ``]d2`` GS1 DataMatrix, ...), and sends FNC1 as GS (ASCII 29) — which many keyboard
layouts cannot type, so scanners can be told to send a printable stand-in instead
(``gs_replacement``), or drop it altogether.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from biip import ParseError
from biip.symbology import GS1Symbology, ISOSymbology, SymbologyIdentifier

from app.scan.gs1 import GS
from app.scan.scan import Scan, make_scan

# The station's name for each symbology an AIM identifier announces (biip reads the identifier).
_SYMBOLOGY_NAMES = {
    ISOSymbology.CODE_39: "Code39",
    ISOSymbology.CODE_128: "Code128",
    ISOSymbology.EAN_UPC: "EAN-13",
    ISOSymbology.ITF: "ITF",
    ISOSymbology.DATA_MATRIX: "DataMatrix",
    ISOSymbology.QR_CODE: "QRCode",
    ISOSymbology.RSS_EAN_UCC_COMPOSITE: "DataBar",
}
# GS1 with ECI (FNC1 first, ISO/IEC 15424), which biip's table of GS1 symbologies leaves out.
_GS1_WITH_ECI = {"]d5", "]Q5"}
_AIM = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
# What scanners put around a code: Enter, Tab, and STX/ETX framing some are configured with.
_FRAMING = " \r\n\t\x02\x03\x04"


def _retail(digits: str, modifier: str) -> tuple[str, str]:
    """The (symbology, text) of an EAN/UPC sent under ``]E``. UPC-A comes as 13 digits with a
    leading 0 (kept, as the camera decoders give it); a scanner set up otherwise may send 12."""
    if modifier == "4":
        return "EAN-8", digits
    if modifier == "3" and len(digits) in (15, 18):  # EAN-13 with a 2- or 5-digit add-on
        digits = digits[:13]
    if len(digits) == 12:
        return "UPC-A", digits
    if len(digits) == 8:
        return "UPC-E", digits
    return "EAN-13", digits


def _read_aim(text: str) -> tuple[str, bool, str]:
    """(symbology, whether it announces GS1 data, the text after it) for text that starts with an
    AIM symbology identifier; an identifier biip does not know gives ``"unknown"``."""
    try:
        identifier = SymbologyIdentifier.extract(text)
    except (ParseError, ValueError):
        return "unknown", False, text[3:]
    text = text[len(identifier) :]
    symbology = _SYMBOLOGY_NAMES.get(identifier.iso_symbology, "unknown")
    gs1 = identifier.gs1_symbology in GS1Symbology.with_gs1_messages() or identifier.value in _GS1_WITH_ECI
    if identifier.iso_symbology is ISOSymbology.EAN_UPC:
        symbology, text = _retail(text, identifier.modifiers)
    elif identifier.iso_symbology is ISOSymbology.RSS_EAN_UCC_COMPOSITE:
        symbology = "DataBar" if len(text) == 16 else "DataBarExpanded"
    return symbology, gs1, text


def parse_typed(
    text: str,
    *,
    gs_replacement: str | None = None,
    aim: bool = True,
    source: str = "typed",
) -> Scan:
    """Turn what a keyboard-wedge scanner or a person typed into a Scan.

    Strips framing (Enter, Tab, STX/ETX, spaces at the ends); reads an AIM symbology identifier
    when ``aim`` is true; turns ``gs_replacement`` (the printable stand-in for GS the scanner is
    configured with, e.g. ``"|"`` or ``"<GS>"``) back into GS; parses GS1 data, re-delimiting it
    where the separator was lost; fills ``gtin`` for EAN/UPC/ITF-14/GS1 (a UPC-A and the EAN-13
    of the same item give the same gtin). Never raises: garbage gives a Scan with symbology
    ``"unknown"`` and no gtin, and data that claims to be GS1 or EAN but is broken gives
    ``problem``. Empty input gives a Scan whose ``is_empty`` is true.
    """
    if gs_replacement:
        text = text.replace(gs_replacement, GS)
    text = text.strip(_FRAMING)
    symbology, gs1 = "unknown", None
    if aim and _AIM.match(text):
        symbology, gs1, text = _read_aim(text)
    # A GS in first place is FNC1 in first position: the scanner says GS1 without AIM.
    if text.startswith(GS):
        gs1 = True
    text = text.strip(_FRAMING + GS)
    return make_scan(text, symbology, gs1=gs1, source=source)


@dataclass
class _Key:
    char: str
    at: float


@dataclass
class BurstDetector:
    """Tells a scanner's keystrokes from a person typing, by the time between keys.

    Feed it every character the field receives with its timestamp in seconds
    (``time.monotonic()``); ``feed`` returns the Scans it completes:

    * a fast run (every gap under ``max_gap``, at least ``min_length`` characters) ended by Enter
      or Tab, or by ``end_gap`` of silence (call :meth:`flush` from a timer for scanners set up
      without a suffix), gives a Scan with ``source="wedge"`` — of that run only, so a worker's
      stray keys before the scan do not end up in the code;
    * anything a person typed, ended by Enter, gives a Scan with ``source="typed"``.

    Scanners type 2–20 ms apart; the fastest typists rarely go under 50 ms between keys.
    """

    max_gap: float = 0.035
    min_length: int = 4
    end_gap: float = 0.1
    gs_replacement: str | None = None
    aim: bool = True
    _keys: list[_Key] = field(default_factory=list)
    _run_start: int = 0

    def feed(self, char: str, at: float) -> list[Scan]:
        """Take one key (``"\\n"``/``"\\r"``/``"\\t"`` end a scan); return the scans it completes
        (usually none; two when a burst without suffix is followed at once by Enter after typing)."""
        done = []
        if self._keys and at - self._keys[-1].at > self.end_gap and self._is_burst():
            done.append(self._complete(len(self._keys), at))
        if char in "\r\n\t":
            if self._keys:
                done.append(self._complete(len(self._keys), at))
            return done
        if self._keys and at - self._keys[-1].at > self.max_gap:
            self._run_start = len(self._keys)
        self._keys.append(_Key(char, at))
        return done

    def flush(self, now: float) -> Scan | None:
        """Call from a timer: a scanner burst that ended ``end_gap`` ago without Enter completes."""
        if self._keys and now - self._keys[-1].at >= self.end_gap and self._is_burst():
            return self._complete(len(self._keys), now)
        return None

    @property
    def pending(self) -> str:
        """What has been typed and not yet completed (for showing in the field)."""
        return "".join(k.char for k in self._keys)

    def _is_burst(self) -> bool:
        run = self._keys[self._run_start :]
        if len(run) < self.min_length:
            return False
        gaps = [b.at - a.at for a, b in zip(run, run[1:], strict=False)]
        return statistics.median(gaps) <= self.max_gap and max(gaps) <= self.max_gap

    def _complete(self, end: int, at: float) -> Scan:
        burst = self._is_burst()
        keys = self._keys[self._run_start : end] if burst else self._keys[:end]
        self._keys, self._run_start = [], 0
        return parse_typed(
            "".join(k.char for k in keys),
            gs_replacement=self.gs_replacement,
            aim=self.aim,
            source="wedge" if burst else "typed",
        )
