"""The station's domain: receive, inspect and grade, dispose, pack, approve.

Plain Python: no Flet, no HTTP. Reads reference data, returns refusals as values, emits operations.
The UI, the CLI and replay all go through :class:`StationSession` (app/workflows/station.py).
What the ERP decides alike (families, dispositions, rules, PINs, GTINs) lives in ``sync.common``.
"""

from app.workflows.people import TASK_LABELS, TASK_ROLES
from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.station import StationSession, rules_for
from app.workflows.views import ApprovalView, CheckView, ExtraView, LineView, TaskView, UnitView

__all__ = [
    "TASK_LABELS",
    "TASK_ROLES",
    "Accepted",
    "ApprovalView",
    "CheckView",
    "ExtraView",
    "LineView",
    "Outcome",
    "Refusal",
    "StationSession",
    "TaskView",
    "UnitView",
    "rules_for",
]
