"""How a handler says no: the dispatcher (operation.py) answers ``conflict`` or ``rejected``."""

from trytond.exceptions import UserError


class StationConflict(UserError):
    """The ERP's state moved under the operation (another station did it): answered ``conflict``."""


class StationRefusal(UserError):
    """The ERP refuses the operation's payload: answered ``rejected`` with this message."""


class IllegalTransition(StationConflict):
    """A record asked to move between two states its workflow does not join."""
