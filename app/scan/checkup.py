"""The scanner check-up: scan one known label and learn what the scanner really sends.

Most "unknown barcode" complaints on a warehouse floor are a scanner set up for another desk: the
Enter suffix missing, the GS1 separator lost or replaced, AIM identifiers off, or the scanner
typing for a US keyboard while the computer expects a German or French one. The check-up label
(:data:`CHECKUP_LABEL`, printed with ``station erp labels``) is a GS1-128 code whose content makes
each of these visible: a GTIN (digits), a lot of letters that move between QWERTY, QWERTZ and AZERTY
(``AZqy-07``), a GS separator before the serial, and a ``/`` in the serial.

:func:`check_scanner` compares what arrived with what the label holds and returns a
:class:`CheckupReport`: what arrived key by key (hidden characters named), what it implies, and a
:class:`Finding` per setting, each saying in plain words what to change on the scanner or the station.

The keyboard tables are written here because no kept library maps a scanner's US keystrokes to what
a host layout types; they hold only the characters the label uses.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.scan.gs1 import GS

GTIN = "09506000134352"
LOT = "AZqy-07"
SERIAL = "CHK/1"
# The label, as GS1 element strings (what the label sheet encodes as GS1-128) ...
CHECKUP_LABEL = f"(01){GTIN}(10){LOT}(21){SERIAL}"
# ... and the parts a well set-up scanner sends: AIM prefix, data with GS before the serial, suffix.
AIM_PREFIX = "]C1"
_HEAD = f"01{GTIN}10{LOT}"
_TAIL = f"21{SERIAL}"

# Time between a scanner's keys; see app.scan.wedge.BurstDetector.
SCANNER_MAX_GAP = 0.035

HIDDEN = {
    GS: "<GS>",
    "\x1e": "<RS>",
    "\x04": "<EOT>",
    "\x02": "<STX>",
    "\x03": "<ETX>",
    "\r": "<CR>",
    "\n": "<LF>",
    "\t": "<Tab>",
}
_SUFFIXES = {"\r": "Enter", "\n": "Enter", "\t": "Tab"}

# What a host with this keyboard layout types when the scanner sends the US key for a character
# (only the characters of the label and of the AIM prefix).
_LAYOUTS: dict[str, dict[str, str]] = {
    "US English": {},
    "German (QWERTZ)": {"y": "z", "z": "y", "Y": "Z", "Z": "Y", "-": "ß", "/": "-", "]": "+"},
    "French (AZERTY)": {
        "a": "q", "q": "a", "A": "Q", "Q": "A", "w": "z", "z": "w", "W": "Z", "Z": "W",
        "1": "&", "2": "é", "3": '"', "4": "'", "5": "(", "6": "-", "7": "è", "8": "_", "9": "ç",
        "0": "à", "-": ")", "/": "!", "]": "$",
    },
}  # fmt: skip


def show(text: str) -> str:
    """``text`` with its hidden characters named: ``"10AB<GS>21X<CR>"``."""
    return "".join(HIDDEN.get(c, c if c.isprintable() else f"<0x{ord(c):02X}>") for c in text)


@dataclass(frozen=True)
class Finding:
    """One setting checked: ``fine`` or not, what was seen, and (when not fine) what to change."""

    topic: str  # "suffix", "aim", "gs", "layout", "caps", "speed", "label"
    fine: bool
    seen: str
    fix: str | None = None


@dataclass(frozen=True)
class KeySeen:
    char: str  # as shown (hidden characters named)
    gap_ms: float | None  # time since the key before, when known


@dataclass(frozen=True)
class CheckupReport:
    """What one scan of the check-up label showed about the scanner and this station."""

    received: str  # everything that arrived, hidden characters named
    keys: tuple[KeySeen, ...]
    is_checkup_label: bool
    layout: str | None = None  # the host layout the characters imply
    aim: bool | None = None
    suffix: str | None = None  # "Enter", "Tab", or None (nothing after the code)
    gs: str | None = None  # "sent", "lost", or "stand-in"
    gs_replacement: str | None = None  # the stand-in the scanner sends for GS, to save
    scanner_speed: bool | None = None  # True: keys came as fast as a scanner's; None: no timing
    findings: tuple[Finding, ...] = field(default=())

    @property
    def all_fine(self) -> bool:
        return self.is_checkup_label and all(f.fine for f in self.findings)

    @property
    def fixes(self) -> list[str]:
        """What to change, in the order a person would do it."""
        return [f.fix for f in self.findings if f.fix and not f.fine]

    def lines(self) -> list[str]:
        """The report as short lines for a terminal or a screen."""
        out = [f"Received: {self.received or '(nothing)'}"]
        for finding in self.findings:
            mark = "OK " if finding.fine else "FIX"
            out.append(f"{mark} {finding.seen}")
            if finding.fix and not finding.fine:
                out.append(f"    -> {finding.fix}")
        if self.all_fine:
            out.append("The scanner is set up right for this station.")
        return out


def _to_us(text: str, layout: str) -> str:
    """``text`` as the scanner meant it, if the host types it with ``layout`` (one char per char)."""
    back = {typed: us for us, typed in _LAYOUTS[layout].items()}
    return "".join(back.get(c, c) for c in text)


def _score(text: str) -> int:
    return sum(len(part) for part in (GTIN, f"10{LOT}", _TAIL, AIM_PREFIX) if part in text)


def _guess_layout(body: str) -> tuple[str, str, bool]:
    """(layout, body as the scanner meant it, caps lock on) that explains the most of the label."""
    best = ("US English", body, False)
    best_score = _score(body)
    for layout in _LAYOUTS:
        for caps in (False, True):
            candidate = _to_us(body.swapcase() if caps else body, layout)
            score = _score(candidate)
            if score > best_score:
                best, best_score = (layout, candidate, caps), score
    return best


def check_scanner(
    received: str,
    *,
    key_times: Sequence[float] | None = None,
    gs_replacement: str | None = None,
    station_suffix: str = "enter",
) -> CheckupReport:
    """Read one scan of the check-up label as it arrived: every character, its suffix included
    (``received``), and when known the time of each key in seconds (``key_times``, same length).
    ``gs_replacement`` is the stand-in this station is set to read as GS; ``station_suffix`` what
    the station expects after a code (``"enter"`` or ``"tab"``). Never raises."""
    keys = tuple(
        KeySeen(
            show(c),
            None if key_times is None or i == 0 or i >= len(key_times) else
            round((key_times[i] - key_times[i - 1]) * 1000, 1),
        )
        for i, c in enumerate(received)
    )  # fmt: skip
    core = received.rstrip("\r\n\t\x04")
    ending = received[len(core) :]
    suffix = _SUFFIXES.get(ending[:1]) if ending else None
    core = core.strip("\x02\x03")
    layout, meant, caps = _guess_layout(core)
    findings: list[Finding] = []
    if _score(meant) < len(GTIN):
        findings.append(
            Finding(
                "label",
                False,
                "This is not the check-up label" if core else "Nothing arrived",
                "Scan the label 'Scanner check-up' from the label sheet (station erp labels).",
            )
        )
        return CheckupReport(show(received), keys, False, findings=tuple(findings))

    aim = meant.startswith(AIM_PREFIX)
    data = meant[len(AIM_PREFIX) :] if aim else meant
    data = data.removeprefix(GS)  # FNC1 in first position, sent as GS by a scanner without AIM
    offset = len(meant) - len(data)
    head_at, tail_at = data.find(_HEAD), data.rfind(_TAIL)
    gs, stand_in = None, None
    if head_at >= 0 and tail_at >= head_at + len(_HEAD):
        between = core[offset + head_at + len(_HEAD) : offset + tail_at]  # as the host typed it
        gs = "lost" if between == "" else "sent" if between == GS else "stand-in"
        stand_in = between if gs == "stand-in" else None
    speed = None
    if key_times is not None and len(key_times) >= 4:
        gaps = [b - a for a, b in zip(key_times, key_times[1:], strict=False)][: len(core) - 1]
        speed = bool(gaps) and statistics.median(gaps) <= SCANNER_MAX_GAP

    findings.append(_layout_finding(layout))
    if caps:
        findings.append(
            Finding("caps", False, "Caps Lock is on: upper and lower case arrive swapped",
                    "Turn Caps Lock off on this computer (or set the scanner to ignore Caps Lock).")
        )  # fmt: skip
    findings.append(
        Finding("aim", True, "AIM identifier ]C1 sent: the station knows a GS1 code from a plain one")
        if aim
        else Finding(
            "aim",
            False,
            "No AIM identifier before the code",
            "Turn on the scanner's AIM symbology identifier ('Transmit AIM ID' / 'Code ID: AIM').",
        )
    )
    findings.append(_gs_finding(gs, stand_in, gs_replacement))
    findings.append(_suffix_finding(suffix, station_suffix))
    if speed is not None:
        median_ms = round(statistics.median(k.gap_ms for k in keys[1 : len(core)] if k.gap_ms is not None))
        findings.append(
            Finding("speed", True, f"Keys came {median_ms} ms apart: a scanner")
            if speed
            else Finding(
                "speed",
                False,
                f"Keys came {median_ms} ms apart, as fast as a person types",
                "Set the scanner's inter-key delay to none, or scan rather than type the label.",
            )
        )
    return CheckupReport(
        show(received),
        keys,
        True,
        layout=layout,
        aim=aim,
        suffix=suffix,
        gs=gs,
        gs_replacement=stand_in,
        scanner_speed=speed,
        findings=tuple(findings),
    )


def _layout_finding(layout: str) -> Finding:
    if layout == "US English":
        return Finding("layout", True, "Letters and digits arrive as printed")
    return Finding(
        "layout",
        False,
        f"Characters arrive as a {layout} keyboard types a US scanner's keys",
        f"Set the scanner's keyboard country to {layout.split(' ')[0]} (this computer's layout), "
        "or set this computer's keyboard to US English.",
    )


def _gs_finding(gs: str | None, stand_in: str | None, saved: str | None) -> Finding:
    if gs == "sent":
        return Finding("gs", True, "The GS1 separator arrives as GS")
    if gs == "stand-in":
        shown = show(stand_in or "")
        if saved and saved == stand_in:
            return Finding("gs", True, f"The scanner sends '{shown}' for GS; the station reads it")
        return Finding(
            "gs",
            False,
            f"The scanner sends '{shown}' for the GS1 separator",
            f"Save '{shown}' as this station's GS replacement.",
        )
    if gs == "lost":
        return Finding(
            "gs",
            False,
            "The GS1 separator between lot and serial is lost",
            "Set the scanner to replace GS with a printable character such as '|' ('GS replacement' "
            "or 'FNC1 substitution'), then scan the check-up label again and save it here.",
        )
    return Finding(
        "gs",
        False,
        "The lot and serial did not arrive whole",
        "Check the scanner reads GS1-128 with FNC1, then scan the check-up label again.",
    )


def _suffix_finding(suffix: str | None, station_suffix: str) -> Finding:
    if suffix is None:
        return Finding(
            "suffix",
            False,
            "Nothing is sent after the code",
            "Set the scanner's suffix to Enter (CR), so each scan ends at once.",
        )
    if suffix.lower() != station_suffix.lower():
        return Finding(
            "suffix",
            False,
            f"The scanner sends {suffix} after each code; the station expects {station_suffix.title()}",
            f"Set 'Scanner sends after each code' to {suffix} in Settings, "
            f"or set the scanner's suffix to {station_suffix.title()}.",
        )
    return Finding("suffix", True, f"{suffix} is sent after each code")
