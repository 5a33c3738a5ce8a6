"""The state one station tab shares between its screens: who is signed in, which screen shows,
what the last scan said, and the sync status. Everything else is read from the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import flet as ft

from app.ui.station import Station, StripStatus

Screen = Literal["signin", "home", "receive", "inspect", "pack", "supervise", "settings"]
FeedbackKind = Literal["good", "warning", "refused", "info"]

# Which screens each role opens from home (a supervisor can do every job).
ROLE_SCREENS: dict[str, tuple[Screen, ...]] = {
    "receiver": ("receive",),
    "inspector": ("inspect",),
    "packer": ("pack",),
    "supervisor": ("receive", "inspect", "pack", "supervise"),
}
SCREEN_TITLES: dict[str, str] = {
    "signin": "Sign in",
    "home": "Home",
    "receive": "Receive",
    "inspect": "Inspect",
    "pack": "Pack",
    "supervise": "Supervise",
    "settings": "Settings",
}


@dataclass(frozen=True)
class Feedback:
    kind: FeedbackKind
    message: str
    serial: int = 0  # bumps on every message, so the same text twice still flashes


def feedback_for(outcome: Any) -> Feedback:
    """A workflow's Accepted/Refusal as the banner shows it."""
    if not getattr(outcome, "ok", False):
        return Feedback("refused", str(getattr(outcome, "message", outcome)))
    return Feedback("warning" if getattr(outcome, "warning", False) else "good", str(outcome.message))


@ft.observable
@dataclass
class StationModel:
    station: Station
    person: dict[str, Any] | None = None
    screen: Screen = "signin"
    feedback: Feedback | None = None
    status: StripStatus | None = None
    session: Any = None  # the workflows' session for the signed-in person
    pending_scan: str | None = None  # a scan made on home that the next screen starts from
    _serial: int = field(default=0, repr=False)

    def say(self, kind: FeedbackKind, message: str) -> None:
        self._serial += 1
        self.feedback = Feedback(kind, message, self._serial)

    def show(self, outcome: Any) -> bool:
        """Show a workflow outcome in the banner; True when it was accepted."""
        fb = feedback_for(outcome)
        self.say(fb.kind, fb.message)
        return fb.kind != "refused"

    def go(self, screen: Screen) -> None:
        self.feedback = None
        self.screen = screen

    def screens(self) -> list[Screen]:
        if not self.person:
            return []
        allowed: list[Screen] = []
        for role in self.person.get("roles", []):
            for screen in ROLE_SCREENS.get(role, ()):
                if screen not in allowed:
                    allowed.append(screen)
        order = ["receive", "inspect", "pack", "supervise"]
        allowed = sorted(allowed, key=order.index)
        # ERP credentials are a supervisor's business (a new, empty station opens Settings from sign-in)
        return allowed + (["settings"] if "supervisor" in self.person.get("roles", []) else [])

    def refresh_status(self) -> None:
        status = self.station.status()
        if status != self.status:
            self.status = status
