"""Sort to tote, the last step of Inspect at a station that sorts (the station's setting).

After a unit is confirmed (its ``inspect_item`` queued with ``to_sort``: the ERP puts it on the
sort table), the station asks for the tote of its disposition: the worker scans the tote's label
(sync.common.totes: the label names its disposition, so the check needs no ERP). A tote of another
disposition, a tote this station closed, or anything but a tote is refused with what was expected.
The unit in the tote queues ``sort_to_tote``. A full tote is closed by scanning its label again
right after a unit went in, or by "Close tote" and a scan of its label: that queues
``close_tote``, and the ERP moves the whole tote to the disposition's location.

A unit held for a supervisor's approval is not sorted: its disposition is not final.

What this station put in which tote, and which totes it closed, are its progress rows
(sync.progress SORTED / TOTE_CLOSED): they say which totes are open here, since when, with how many
units, offline too (:func:`open_totes`, shown on Supervise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.scanning import ScannedCode
from app.workflows.tasks.base import Desk
from sync.common.totes import TOTE_WORDS, Tote, disposition_words, looks_like_tote, wrong_tote
from sync.progress import SORTED, TOTE_CLOSED


@dataclass(frozen=True)
class ToteView:
    """An open tote at this station: its label, disposition, units in it and when it was opened."""

    code: str
    disposition: str
    label: str
    units: int
    opened_at: str  # the store's clock, UTC ISO


def open_totes(store: Any) -> list[ToteView]:
    """The totes this station put units in and has not closed, oldest first."""
    closed = {row["subject"] for row in store.progress(TOTE_CLOSED)}
    totes: dict[str, dict[str, Any]] = {}
    for row in store.progress(SORTED):
        if row["subject"] in closed:
            continue
        disposition = (row["data"] or {}).get("disposition")
        entry = totes.setdefault(row["subject"], {"disposition": disposition, "units": 0, "at": row["at"]})
        entry["units"] += int(row["quantity"] or 1)
    return sorted(
        (
            ToteView(code, e["disposition"], disposition_words(e["disposition"]), e["units"], e["at"])
            for code, e in totes.items()
        ),
        key=lambda t: t.opened_at,
    )


def expected_tote(disposition: str) -> str:
    return f"a {disposition_words(disposition)} tote (TOTE-{TOTE_WORDS[disposition]}-…)"


class Sorting:
    """The sort step of one Inspect task: the unit waiting for its tote, the tote last filled, and
    whether the next tote scanned is to be closed. Saved in the task's draft."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.waiting: dict[str, Any] | None = None  # the unit confirmed and not yet in a tote
        self.last_tote: str | None = None  # scanning it again closes it
        self.closing = False  # "Close tote" pressed: the next tote scanned is closed

    @property
    def enabled(self) -> bool:
        """The station's setting now (a bool, or a function giving it: Settings may change it)."""
        value = getattr(self.desk, "sort_to_totes", False)
        return bool(value() if callable(value) else value)

    def to_draft(self) -> dict[str, Any]:
        return {"waiting": self.waiting, "last_tote": self.last_tote, "closing": self.closing}

    def restore(self, data: Mapping[str, Any] | None) -> None:
        data = data or {}
        self.waiting = dict(data["waiting"]) if data.get("waiting") else None
        self.last_tote = data.get("last_tote")
        self.closing = bool(data.get("closing"))

    # --- after a confirm ---------------------------------------------------------------------------
    def wait_for_tote(self, inspect_op: str, payload: Mapping[str, Any], name: str) -> str:
        """The unit of ``inspect_op`` now waits for its tote; what to tell the worker."""
        self.waiting = {
            "inspect_op": inspect_op,
            "name": name,
            "disposition": payload["disposition"],
            "return_id": payload["return_id"],
            "product_id": payload["product_id"],
            "lot": payload.get("lot"),
            "serial": payload.get("serial"),
        }
        self.closing = False
        return f"Put it in a {disposition_words(payload['disposition'])} tote"

    def prompt(self) -> str | None:
        if self.waiting is not None:
            tote = expected_tote(self.waiting["disposition"])
            return f"Put the {self.waiting['name']} in {tote}: scan the tote's label"
        if self.closing:
            return "Scan the label of the tote to close"
        return None

    # --- scans ------------------------------------------------------------------------------------
    def scan(self, code: ScannedCode) -> Outcome | None:
        """The answer to a scan while a unit waits for its tote, or to any tote label; None when the
        scan is the task's own (a unit or a return, nothing waiting)."""
        text = code.data or code.text
        tote = code.tote
        if self.waiting is not None:
            if tote is None:
                if looks_like_tote(text):
                    return self._unknown_tote(text)
                return Refusal(
                    "tote_needed",
                    f"put the {self.waiting['name']} in {expected_tote(self.waiting['disposition'])} first: "
                    f"scan the tote (scanned {code.text})",
                )
            return self._into(tote)
        if tote is None:
            return self._unknown_tote(text) if looks_like_tote(text) else None
        if not self.enabled:
            return Refusal(
                "not_sorting",
                f"{tote.code} is a tote label: this station does not sort into totes (Settings)",
            )
        if self.closing or tote.code == self.last_tote:
            return self.close(tote)
        return Refusal(
            "tote_not_unit",
            f"{tote.code} is a tote label, not a unit: scan a unit or a return. To close a full tote, "
            "press Close tote and scan its label",
        )

    def _unknown_tote(self, text: str) -> Refusal:
        words = ", ".join(TOTE_WORDS.values())
        return Refusal(
            "unknown_tote", f"{text} is not a tote label this station knows (TOTE-{{{words}}}-0001)"
        )

    def _closed_here(self, code: str) -> bool:
        return bool(self.desk.progress(TOTE_CLOSED, code))

    def _into(self, tote: Tote) -> Outcome:
        unit = self.waiting
        assert unit is not None
        if tote.disposition != unit["disposition"]:
            return Refusal("wrong_tote", wrong_tote(tote, unit["disposition"]))
        if self._closed_here(tote.code):
            return Refusal(
                "tote_closed",
                f"{tote.code} is closed (moved to {tote.label}): take an empty tote with a new label",
            )
        op = self.desk.operation(
            "sort_to_tote",
            {
                "tote": tote.code,
                "inspect_op": unit["inspect_op"],
                "return_id": unit["return_id"],
                "product_id": unit["product_id"],
                "lot": unit.get("lot"),
                "serial": unit.get("serial"),
                "disposition": unit["disposition"],
            },
            depends_on=[unit["inspect_op"]],
        )
        self.desk.queue([op], f"put {unit['name']} in {tote.code}")
        self.waiting = None
        self.last_tote = tote.code
        units = len(self.desk.progress(SORTED, tote.code))
        return Accepted(
            f"{unit['name']} is in {tote.code} ({units} unit{'s' if units != 1 else ''}). Scan the next "
            f"unit; when the tote is full, scan {tote.code} again to close it.",
            operations=(op,),
        )

    # --- closing ----------------------------------------------------------------------------------
    def arm_close(self) -> Outcome:
        """The "Close tote" button: the next tote label scanned is closed."""
        if not self.enabled:
            return Refusal("not_sorting", "this station does not sort into totes (Settings)")
        if self.waiting is not None:
            return Refusal(
                "tote_needed",
                f"put the {self.waiting['name']} in {expected_tote(self.waiting['disposition'])} first",
            )
        self.closing = True
        return Accepted("Scan the label of the tote to close")

    def close(self, tote: Tote) -> Outcome:
        if self._closed_here(tote.code):
            self.closing = False
            return Refusal(
                "tote_closed", f"{tote.code} is already closed: take an empty tote with a new label"
            )
        sorted_here = self.desk.progress(SORTED, tote.code)
        op = self.desk.operation(
            "close_tote",
            {"tote": tote.code, "units": len(sorted_here)},
            depends_on=sorted({row["op_id"] for row in sorted_here}),
        )
        self.desk.queue([op], f"closed {tote.code}")
        self.closing = False
        self.last_tote = None
        count = len(sorted_here)
        held = f"its {count} unit{'s' if count != 1 else ''}" if count else "what other stations put in it"
        return Accepted(
            f"{tote.code} closed: take it to {tote.label}; the ERP moves {held} there.", operations=(op,)
        )
