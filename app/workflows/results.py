"""What every workflow action gives back: ``Accepted`` (it happened, here is what to tell the
worker) or ``Refusal`` (it did not, here is why, in the worker's words). A refusal is a value the
screen shows, never an exception; nothing already scanned is lost by one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sync.operations import Operation


@dataclass(frozen=True)
class Refusal:
    """The station said no. ``code`` is stable for programs (``wrong_lot``); ``message`` is for the
    person and names what was expected and what was scanned ("wrong lot: expected L123, scanned L999")."""

    code: str
    message: str
    ok: ClassVar[bool] = False

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Accepted:
    """The action happened. ``warning`` marks something recorded that was not what was expected (an
    extra item in a return box): show it amber, not green. ``operations`` are those queued by it."""

    message: str
    operations: tuple[Operation, ...] = ()
    warning: bool = False
    ok: ClassVar[bool] = True

    def __str__(self) -> str:
        return self.message


Outcome = Accepted | Refusal
