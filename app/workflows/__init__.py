"""The station's domain: receive, inspect and grade, dispose, pack, approve.

Plain Python: no Flet, no HTTP. Reads reference data, returns refusals as values, emits operations.
The UI, the CLI and replay all go through :class:`StationSession` (app/workflows/station.py).
"""

from app.workflows.grading import FAMILIES, GRADES, CheckItem, FamilySpec, family
from app.workflows.people import TASK_LABELS, TASK_ROLES
from app.workflows.results import Accepted, Outcome, Refusal
from app.workflows.rules import (
    DISPOSITION_LABELS,
    DISPOSITIONS,
    Decision,
    Facts,
    RuleBook,
    RulesError,
    RuleSet,
    parse_rules,
)
from app.workflows.station import StationSession, rules_for
from app.workflows.views import ApprovalView, CheckView, ExtraView, LineView, TaskView, UnitView

__all__ = [
    "DISPOSITION_LABELS",
    "DISPOSITIONS",
    "FAMILIES",
    "GRADES",
    "TASK_LABELS",
    "TASK_ROLES",
    "Accepted",
    "ApprovalView",
    "CheckItem",
    "CheckView",
    "Decision",
    "ExtraView",
    "Facts",
    "FamilySpec",
    "LineView",
    "Outcome",
    "Refusal",
    "RuleBook",
    "RuleSet",
    "RulesError",
    "StationSession",
    "TaskView",
    "UnitView",
    "family",
    "parse_rules",
    "rules_for",
]
