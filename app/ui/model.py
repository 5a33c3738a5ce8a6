"""The state one station tab shares between its screens: who is signed in, which screen shows,
what the last scan said, and the sync status. Everything else is read from the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import flet as ft

from app.runtime import Station, StripStatus

Screen = Literal["signin", "home", "receive", "inspect", "pack", "supervise", "figures", "settings"]
FeedbackKind = Literal["good", "warning", "refused", "info"]

SCREEN_TITLES: dict[str, str] = {
    "signin": "Sign in",
    "home": "Home",
    "receive": "Receive",
    "inspect": "Inspect",
    "pack": "Pack",
    "supervise": "Supervise",
    "figures": "Figures",
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


SETTINGS_NEED_A_SUPERVISOR = (
    "Settings need a supervisor: scan a supervisor's badge and type their PIN "
    "(or run `station settings` on this machine)"
)


@ft.observable
@dataclass
class StationModel:
    station: Station
    person: dict[str, Any] | None = None
    screen: Screen = "signin"
    feedback: Feedback | None = None
    status: StripStatus | None = None
    session: Any = None  # the workflows' session for the signed-in person
    camera: bool = False  # the device's camera scans in this tab (it stays on from screen to screen)
    wants_settings: bool = False  # Settings was asked for at sign-in: it opens if a supervisor signs in
    _serial: int = field(default=0, repr=False)

    def say(self, kind: FeedbackKind, message: str) -> None:
        self._serial += 1
        self.feedback = Feedback(kind, message, self._serial)

    def show(self, outcome: Any) -> bool:
        """Show a workflow outcome in the banner; True when it was accepted."""
        fb = feedback_for(outcome)
        message = fb.message
        if getattr(outcome, "operations", ()):
            # the outbox write is durable before the worker is told so (ARCHITECTURE.md)
            message += " Saved at this station."
        self.say(fb.kind, message)
        if getattr(outcome, "code", None) == "store_fault":
            self.refresh_status()  # the red banner, at once
        return fb.kind != "refused"

    def go(self, screen: Screen) -> None:
        self.feedback = None
        self.screen = screen

    def screens(self) -> list[Screen]:
        """The job screens the signed-in person may open, then Settings for a supervisor."""
        if not self.person or self.session is None:
            return []
        allowed: list[Screen] = list(self.session.tasks())
        # ERP credentials are a supervisor's business (a new, empty station opens Settings from sign-in)
        supervisor = "supervisor" in self.person.get("roles", [])
        return allowed + (["figures", "settings"] if supervisor else [])

    def first_setup(self) -> bool:
        """A new station (no ERP yet, nothing pulled): Settings opens without a sign-in."""
        return not self.station.erp_configured and self.station.store.is_empty()

    def may_open_settings(self) -> bool:
        """Settings hold the ERP login: once an ERP is configured, only a signed-in supervisor opens
        them (``station settings`` on the station's own host always works)."""
        if self.first_setup():
            return True
        return bool(self.person) and "supervisor" in (self.person or {}).get("roles", [])

    def open(self, screen: Screen) -> bool:
        """Open a job screen: the session starts (or resumes) that task; a refusal stays on screen."""
        if screen == "settings" and not self.may_open_settings():
            self.say("refused", SETTINGS_NEED_A_SUPERVISOR)
            return False
        if screen in ("settings", "home", "figures"):
            self.go(screen)
            return True
        outcome = self.session.start(screen)
        if not getattr(outcome, "ok", False):
            self.show(outcome)
            return False
        self.go(screen)
        return True

    def refresh_status(self) -> None:
        status = self.station.status()
        if status != self.status:
            self.status = status
