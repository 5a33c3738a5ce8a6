"""Tote labels, read the same way by the station and the ERP.

A tote is a container on the sort table that collects inspected units of ONE disposition; closed,
it moves as a whole to that disposition's location. Its label names the disposition, so a station
checks a unit against the tote without asking the ERP (offline too)::

    TOTE-RESTOCK-0001   TOTE-REFURB-0001   TOTE-QUAR-0001   TOTE-RTV-0001   TOTE-SCRAP-0001

A label is one trip: once its tote is closed and moved, the ERP refuses it (print the next number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sync.common.vocabulary import DISPOSITION_LABELS

# The word a label carries for each disposition (printed large on the tote).
TOTE_WORDS: dict[str, str] = {
    "restock": "RESTOCK",
    "refurbish": "REFURB",
    "quarantine": "QUAR",
    "return_to_vendor": "RTV",
    "dispose": "SCRAP",
}
DISPOSITION_OF_WORD = {word: disposition for disposition, word in TOTE_WORDS.items()}
LABEL = re.compile(r"TOTE-(?P<word>[A-Z]+)-(?P<number>\d{4,6})")
# What looks like a tote label but names no disposition (a typo, an old label): still a tote scan.
ANY_TOTE = re.compile(r"TOTE-\S*", re.IGNORECASE)


@dataclass(frozen=True)
class Tote:
    code: str  # the label as printed, e.g. "TOTE-REFURB-0003"
    disposition: str  # a key of vocabulary.DISPOSITIONS

    @property
    def label(self) -> str:
        """The disposition in a worker's words: "Refurbish"."""
        return disposition_words(self.disposition)


def disposition_words(disposition: str) -> str:
    return DISPOSITION_LABELS.get(disposition, disposition).split(" (")[0]


def read_tote(text: str) -> Tote | None:
    """The tote a scanned label names, or None when ``text`` is no tote label of a disposition."""
    found = LABEL.fullmatch((text or "").strip().upper())
    if found is None or found["word"] not in DISPOSITION_OF_WORD:
        return None
    return Tote(found.group(0), DISPOSITION_OF_WORD[found["word"]])


def looks_like_tote(text: str) -> bool:
    """True for anything labelled as a tote, also one whose disposition word is unknown."""
    return bool(ANY_TOTE.fullmatch((text or "").strip()))


def tote_code(disposition: str, number: int) -> str:
    """The label of tote ``number`` of ``disposition``: ``tote_code("refurbish", 3)`` is TOTE-REFURB-0003."""
    return f"TOTE-{TOTE_WORDS[disposition]}-{number:04d}"


def wrong_tote(tote: Tote, disposition: str) -> str:
    """Why a unit of ``disposition`` does not go into ``tote``, in a worker's words."""
    return (
        f"{tote.code} is a {tote.label} tote: this unit is {disposition_words(disposition)}, "
        f"put it in a {TOTE_WORDS[disposition]} tote (TOTE-{TOTE_WORDS[disposition]}-…)"
    )
