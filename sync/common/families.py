"""The inspection checklist of each product family, with the photos each requires.

The checklist is data: the inspect screen draws one control per item, the rules file names items
under ``when.check``, and a test walks every family. ``derived`` items are filled in by the station
(from the scanned lot, serial and expiry) and may still be corrected by the inspector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AnswerKind = Literal["yes_no", "choice", "days"]
Answer = bool | int | str | None


@dataclass(frozen=True)
class CheckItem:
    """One question of a family's checklist. ``good`` is the answer that means "nothing wrong"
    (for colouring a yes/no control), ``choices`` the allowed answers of a ``choice`` item."""

    name: str
    question: str
    kind: AnswerKind = "yes_no"
    good: Answer = True
    choices: tuple[str, ...] = ()
    derived: bool = False

    def refusal_for(self, value: Answer) -> str | None:
        """Why ``value`` is not an answer to this question, in an inspector's words (None when fine)."""
        if self.kind == "yes_no" and not isinstance(value, bool):
            return f"{self.question}: answer yes or no (got {value!r})"
        if self.kind == "choice" and value not in self.choices:
            return f"{self.question}: answer one of {', '.join(self.choices)} (got {value!r})"
        if self.kind == "days" and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{self.question}: answer a whole number of days (got {value!r})"
        return None


@dataclass(frozen=True)
class FamilySpec:
    name: str
    label: str
    checklist: tuple[CheckItem, ...]
    photos_required: int

    def item(self, name: str) -> CheckItem | None:
        return next((item for item in self.checklist if item.name == name), None)


FAMILIES: dict[str, FamilySpec] = {
    spec.name: spec
    for spec in (
        FamilySpec(
            "apparel",
            "Apparel",
            (
                CheckItem("tags_attached", "Tags attached?", good=True),
                CheckItem("worn", "Signs of wear?", good=False),
                CheckItem("stains", "Stains?", good=False),
                CheckItem("odour", "Odour?", good=False),
            ),
            photos_required=2,
        ),
        FamilySpec(
            "footwear",
            "Footwear",
            (
                CheckItem("original_box", "Original box present and undamaged?", good=True),
                CheckItem("soles_clean", "Soles clean, no signs of walking outside?", good=True),
                CheckItem("pairs_match", "Left and right match (size, model)?", good=True),
            ),
            photos_required=2,
        ),
        FamilySpec(
            "accessories",
            "Accessories",
            (
                CheckItem("packaging_intact", "Packaging intact?", good=True),
                CheckItem("damaged", "Damaged (scratches, broken clasp, tears)?", good=False),
            ),
            photos_required=1,
        ),
        FamilySpec(
            "electronics",
            "Electronics",
            (
                CheckItem("powers_on", "Powers on?", good=True),
                CheckItem("functional_test", "Functional test passed?", good=True),
                CheckItem(
                    "cosmetic_grade", "Cosmetic grade", kind="choice", good="A", choices=("A", "B", "C", "D")
                ),
                CheckItem("accessories_complete", "Accessories complete?", good=True),
                CheckItem("serial_matches", "Serial matches the one sold?", good=True, derived=True),
            ),
            photos_required=3,
        ),
        FamilySpec(
            "health",
            "Health & wellness",
            (
                CheckItem("seal_intact", "Seal intact?", good=True),
                CheckItem("lot_matches", "Lot matches the one sold?", good=True, derived=True),
                CheckItem("days_to_expiry", "Days to expiry", kind="days", good=None, derived=True),
            ),
            photos_required=1,
        ),
    )
}


def family(name: str) -> FamilySpec:
    """The family spec for ``name``; an unknown family (a new ERP category) gets accessories' rules,
    so the inspector can still work and the rules' catch-all decides."""
    return FAMILIES.get(name) or FAMILIES["accessories"]
