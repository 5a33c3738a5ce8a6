"""Disposition rules: a declarative, versioned TOML file decides what happens to a returned unit.

The file (``default_rules.toml`` beside this module is the packaged one, read by the station and
the ERP module alike) has a ``version``, approval settings, pack settings and an ordered list of
``[[rule]]`` tables; the first rule whose ``when`` matches decides. The last rule must match
everything, so every unit gets a decision. An invalid file is refused with its line and
reason (:class:`RulesError`) and :class:`RuleBook` keeps the last valid one in force.

Two things no file can change: an expired or recalled lot is never restocked (a rule that says
restock is overridden to quarantine by the station's guard, and a file whose rule restocks on
``lot_expired``/``lot_recalled`` is refused), and a disposition chosen against the rule's result
always needs a supervisor.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.common.families import FAMILIES
from sync.common.vocabulary import DISPOSITION_LABELS, DISPOSITIONS, GRADES, REFUNDS

# The rules in force until a station or the ERP loads its own: read by both sides.
DEFAULT_RULES_PATH = Path(__file__).with_name("default_rules.toml")

_CONDITIONS = {
    "family",
    "grade",
    "reason",
    "value_over",
    "value_at_most",
    "days_to_expiry_below",
    "lot_expired",
    "lot_recalled",
    "check",
}
_RULE_KEYS = {"id", "when", "disposition", "refund", "restocking_fee_pct", "approval", "note"}
_TOP_KEYS = {"version", "description", "approval", "pack", "rule"}
_APPROVAL_KEYS = {"value_over", "write_off"}
_PACK_KEYS = {"min_days_to_expiry"}


class RulesError(ValueError):
    """A rules file that cannot be used: ``line`` (1-based, None when unknown) and ``reason``."""

    def __init__(self, reason: str, line: int | None = None, source: str = "rules file") -> None:
        self.reason = reason
        self.line = line
        self.source = source
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Facts:
    """What is known about one unit when it is graded: the inputs of every rule."""

    family: str
    grade: str
    checklist: Mapping[str, Any] = field(default_factory=dict)
    unit_value: float = 0.0
    days_to_expiry: int | None = None
    reason: str | None = None
    lot_expired: bool = False
    lot_recalled: bool = False


@dataclass(frozen=True)
class Decision:
    """What the rules decided for a unit, and why. ``approval_kind`` is ``disposition`` (value or
    rule), ``write_off`` or ``override``; ``approval_reasons`` are in a supervisor's words."""

    disposition: str
    refund: str
    restocking_fee_pct: int | None
    approval_required: bool
    approval_kind: str | None
    approval_reasons: tuple[str, ...]
    rule_id: str
    rules_version: str
    note: str | None = None
    rule_disposition: str | None = None  # what the rule said, when the inspector or a guard changed it

    @property
    def refund_payload(self) -> dict[str, Any]:
        return {"kind": self.refund, "restocking_fee_pct": self.restocking_fee_pct}

    def describe(self) -> str:
        refund = (
            self.refund if self.refund != "partial" else f"partial, {self.restocking_fee_pct}% restocking fee"
        )
        label = DISPOSITION_LABELS[self.disposition]
        text = f"{label}, refund {refund} (rule {self.rule_id}, rules {self.rules_version})"
        if self.approval_required:
            text += "; needs a supervisor: " + "; ".join(self.approval_reasons)
        return text


@dataclass(frozen=True)
class Rule:
    id: str
    when: Mapping[str, Any]
    disposition: str
    refund: str
    restocking_fee_pct: int | None = None
    approval: bool = False
    note: str | None = None

    def matches(self, facts: Facts) -> bool:
        for key, wanted in self.when.items():
            if not _condition_holds(key, wanted, facts):
                return False
        return True


def _as_set(value: Any) -> set[Any]:
    return set(value) if isinstance(value, list) else {value}


def _condition_holds(key: str, wanted: Any, facts: Facts) -> bool:
    if key == "family":
        return facts.family in _as_set(wanted)
    if key == "grade":
        return facts.grade in _as_set(wanted)
    if key == "reason":
        return (facts.reason or "") in _as_set(wanted)
    if key == "value_over":
        return facts.unit_value > wanted
    if key == "value_at_most":
        return facts.unit_value <= wanted
    if key == "days_to_expiry_below":
        return facts.days_to_expiry is not None and facts.days_to_expiry < wanted
    if key == "lot_expired":
        return facts.lot_expired == wanted
    if key == "lot_recalled":
        return facts.lot_recalled == wanted
    if key == "check":
        return all(facts.checklist.get(name) == value for name, value in wanted.items())
    raise AssertionError(f"unchecked condition {key}")  # parse_rules refuses unknown keys


@dataclass(frozen=True)
class RuleSet:
    """One valid rules file."""

    version: str
    rules: tuple[Rule, ...]
    approval_value_over: float | None = None
    approval_write_off: bool = True
    pack_min_days_to_expiry: int = 0
    source: str = "rules file"

    def decide(self, facts: Facts, *, chosen: str | None = None) -> Decision:
        """The decision for ``facts``: the first matching rule, the station's guards, then the
        approvals it needs. ``chosen`` is a disposition the inspector picked over the rule's
        (always needs a supervisor). Raises ValueError for an unknown ``chosen`` or a ``chosen``
        restock of an expired or recalled lot: callers refuse those before asking."""
        rule = next(rule for rule in self.rules if rule.matches(facts))
        disposition, rule_id, rule_disposition = rule.disposition, rule.id, None
        reasons: list[str] = []
        kind: str | None = None
        if disposition == "restock" and (facts.lot_expired or facts.lot_recalled):
            why = "recalled" if facts.lot_recalled else "expired"
            rule_disposition, disposition = disposition, "quarantine"
            rule_id = f"{rule.id}+guard-{why}-lot"
        if chosen is not None and chosen != disposition:
            if chosen not in DISPOSITIONS:
                raise ValueError(f"unknown disposition {chosen!r}")
            if chosen == "restock" and (facts.lot_expired or facts.lot_recalled):
                raise ValueError("an expired or recalled lot is never restocked")
            reasons.append(
                f"inspector chose {DISPOSITION_LABELS[chosen]} over the rule's "
                f"{DISPOSITION_LABELS[disposition]}"
            )
            kind = "override"
            rule_disposition, disposition = rule_disposition or disposition, chosen
        if disposition == "dispose" and self.approval_write_off:
            reasons.append("write-off: the unit is disposed of")
            kind = kind or "write_off"
        if self.approval_value_over is not None and facts.unit_value > self.approval_value_over:
            reasons.append(
                f"unit value {facts.unit_value:.2f} over the {self.approval_value_over:.2f} threshold"
            )
            kind = kind or "disposition"
        if rule.approval:
            reasons.append(f"rule {rule.id} asks for a supervisor")
            kind = kind or "disposition"
        return Decision(
            disposition=disposition,
            refund=rule.refund,
            restocking_fee_pct=rule.restocking_fee_pct,
            approval_required=bool(reasons),
            approval_kind=kind,
            approval_reasons=tuple(reasons),
            rule_id=rule_id,
            rules_version=self.version,
            note=rule.note,
            rule_disposition=rule_disposition,
        )


def _line_finder(text: str):
    """Map (rule index, key) to the file's line, for error messages: tomllib keeps no positions."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[\s*rule\s*\]\]")
    any_header = re.compile(r"^\s*\[")
    rule_starts = [i for i, line in enumerate(lines) if header.match(line)]

    def find(rule: int | None, key: str | None = None, table: str | None = None) -> int | None:
        if rule is not None:
            if rule >= len(rule_starts):
                return None
            start = rule_starts[rule]
        elif table is not None:
            start = next((i for i, ln in enumerate(lines) if re.match(rf"^\s*\[\s*{table}\s*\]", ln)), None)
            if start is None:
                return None
        else:
            start = -1
        if key is None:
            return start + 1 if start >= 0 else None
        for i in range(start + 1, len(lines)):
            if any_header.match(lines[i]):
                break
            if re.match(rf"^\s*{re.escape(key)}\s*[=.]", lines[i]):
                return i + 1
        return start + 1 if start >= 0 else None

    return find


def parse_rules(text: str, *, source: str = "rules file") -> RuleSet:
    """Parse and validate a rules file. Raises :class:`RulesError` naming the line and the reason."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise RulesError(f"not valid TOML: {exc}", int(match.group(1)) if match else None, source) from None
    line = _line_finder(text)

    def fail(reason: str, rule: int | None = None, key: str | None = None, table: str | None = None):
        raise RulesError(reason, line(rule, key, table), source)

    for key in data:
        if key not in _TOP_KEYS:
            fail(f"unknown setting {key!r} (expected one of {', '.join(sorted(_TOP_KEYS))})", None, key)
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        fail('the file needs a version, e.g. version = "2026-11-25.1"', None, "version")
    approval = data.get("approval", {})
    pack = data.get("pack", {})
    for table_name, table, allowed in (("approval", approval, _APPROVAL_KEYS), ("pack", pack, _PACK_KEYS)):
        if not isinstance(table, dict):
            fail(f"[{table_name}] must be a table", None, table_name)
        for key in table:
            if key not in allowed:
                fail(
                    f"unknown setting {key!r} in [{table_name}] (expected {', '.join(sorted(allowed))})",
                    None,
                    key,
                    table_name,
                )
    value_over = approval.get("value_over")
    if value_over is not None and (
        isinstance(value_over, bool) or not isinstance(value_over, int | float) or value_over < 0
    ):
        fail("approval.value_over must be a number of at least 0", None, "value_over", "approval")
    write_off = approval.get("write_off", True)
    if not isinstance(write_off, bool):
        fail("approval.write_off must be true or false", None, "write_off", "approval")
    min_days = pack.get("min_days_to_expiry", 0)
    if isinstance(min_days, bool) or not isinstance(min_days, int) or min_days < 0:
        fail(
            "pack.min_days_to_expiry must be a whole number of days, at least 0",
            None,
            "min_days_to_expiry",
            "pack",
        )

    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        fail("the file has no [[rule]] tables: at least one rule (the catch-all) is needed")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rules.append(_parse_rule(index, raw, seen, fail))
    if rules[-1].when:
        fail(
            f"the last rule ({rules[-1].id}) must match everything (no 'when'), so every unit gets a "
            "decision",
            len(rules) - 1,
            "when",
        )
    return RuleSet(
        version=version.strip(),
        rules=tuple(rules),
        approval_value_over=float(value_over) if value_over is not None else None,
        approval_write_off=write_off,
        pack_min_days_to_expiry=min_days,
        source=source,
    )


def _parse_rule(index: int, raw: dict[str, Any], seen: set[str], fail) -> Rule:
    number = f"rule {index + 1}"
    for key in raw:
        if key not in _RULE_KEYS:
            fail(f"{number}: unknown key {key!r} (expected {', '.join(sorted(_RULE_KEYS))})", index, key)
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        fail(f'{number} needs an id, e.g. id = "health-expired"', index, "id")
    if rule_id in seen:
        fail(f"rule id {rule_id!r} is used twice", index, "id")
    seen.add(rule_id)
    label = f"rule {rule_id}"
    when = raw.get("when", {})
    if not isinstance(when, dict):
        fail(f"{label}: 'when' must be a table of conditions", index, "when")
    for key, value in when.items():
        problem = _condition_problem(key, value)
        if problem:
            fail(f"{label}: {problem}", index, "when")
    disposition = raw.get("disposition")
    if disposition not in DISPOSITIONS:
        fail(
            f"{label}: disposition must be one of {', '.join(DISPOSITIONS)} (got {disposition!r})",
            index,
            "disposition",
        )
    if disposition == "restock" and (when.get("lot_expired") is True or when.get("lot_recalled") is True):
        fail(f"{label}: an expired or recalled lot is never restocked", index, "disposition")
    refund = raw.get("refund")
    if refund not in REFUNDS:
        fail(f"{label}: refund must be one of {', '.join(REFUNDS)} (got {refund!r})", index, "refund")
    fee = raw.get("restocking_fee_pct")
    if refund == "partial":
        if isinstance(fee, bool) or not isinstance(fee, int) or not 1 <= fee <= 100:
            fail(
                f"{label}: a partial refund needs restocking_fee_pct between 1 and 100 (got {fee!r})",
                index,
                "restocking_fee_pct" if fee is not None else "refund",
            )
    elif fee is not None:
        fail(f'{label}: restocking_fee_pct only goes with refund = "partial"', index, "restocking_fee_pct")
    approval = raw.get("approval", False)
    if not isinstance(approval, bool):
        fail(f"{label}: approval must be true or false", index, "approval")
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        fail(f"{label}: note must be text", index, "note")
    return Rule(rule_id, dict(when), disposition, refund, fee, approval, note)


def _condition_problem(key: str, value: Any) -> str | None:
    if key not in _CONDITIONS:
        return f"unknown condition {key!r} (expected one of {', '.join(sorted(_CONDITIONS))})"
    values = value if isinstance(value, list) else [value]
    if key == "family":
        bad = [v for v in values if v not in FAMILIES]
        return f"unknown family {bad[0]!r} (expected one of {', '.join(FAMILIES)})" if bad else None
    if key == "grade":
        bad = [v for v in values if v not in GRADES]
        return f"unknown grade {bad[0]!r} (expected one of {', '.join(GRADES)})" if bad else None
    if key == "reason":
        return None if all(isinstance(v, str) for v in values) else "reason must be text or a list of texts"
    if key in ("value_over", "value_at_most", "days_to_expiry_below"):
        ok = not isinstance(value, bool) and isinstance(value, int | float)
        return None if ok else f"{key} must be a number (got {value!r})"
    if key in ("lot_expired", "lot_recalled"):
        return None if isinstance(value, bool) else f"{key} must be true or false (got {value!r})"
    if key == "check":
        if not isinstance(value, dict) or not value:
            return "check must be a table of checklist answers, e.g. check = { powers_on = false }"
        known = {item.name: item for spec in FAMILIES.values() for item in spec.checklist}
        for name, answer in value.items():
            item = known.get(name)
            if item is None:
                return f"unknown checklist item {name!r} (expected one of {', '.join(sorted(known))})"
            problem = item.refusal_for(answer)
            if problem:
                return f"check.{name}: {problem}"
    return None


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate the rules file at ``path``. Raises RulesError (also for an unreadable file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"cannot read it: {exc}", None, str(path)) from None
    return parse_rules(text, source=str(path))


class RuleBook:
    """The rules in force at a station. Loading an invalid file keeps the last valid one."""

    def __init__(self, rules: RuleSet | None = None) -> None:
        self.current: RuleSet = rules or load_rules(DEFAULT_RULES_PATH)
        self.last_error: RulesError | None = None

    @classmethod
    def from_file(cls, path: str | Path | None) -> RuleBook:
        """The default rules, replaced by ``path`` when it exists and is valid (else ``last_error``)."""
        book = cls()
        if path is not None and Path(path).exists():
            book.load(path)
        return book

    def load(self, path: str | Path) -> RulesError | None:
        """Put the file at ``path`` in force; on error keep the current rules and return the error."""
        try:
            self.current = load_rules(path)
        except RulesError as exc:
            self.last_error = exc
            return exc
        self.last_error = None
        return None

    def load_text(self, text: str, *, source: str = "rules file") -> RulesError | None:
        try:
            self.current = parse_rules(text, source=source)
        except RulesError as exc:
            self.last_error = exc
            return exc
        self.last_error = None
        return None

    def decide(self, facts: Facts, *, chosen: str | None = None) -> Decision:
        return self.current.decide(facts, chosen=chosen)
