"""Disposition rules: every rule of the default file decides what it says, the station's guards hold
whatever a file says, approvals are asked when the rules gate, and a bad file is refused with its
line and reason while the last valid one stays in force."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync.common.rules import DEFAULT_RULES_PATH, Facts, RuleBook, RulesError, load_rules, parse_rules

DEFAULT = load_rules(DEFAULT_RULES_PATH)
GOOD_ELECTRONICS = {
    "powers_on": True,
    "functional_test": True,
    "cosmetic_grade": "A",
    "accessories_complete": True,
    "serial_matches": True,
}
GOOD_APPAREL = {"tags_attached": True, "worn": False, "stains": False, "odour": False}
GOOD_FOOTWEAR = {"original_box": True, "soles_clean": True, "pairs_match": True}
GOOD_HEALTH = {"seal_intact": True, "lot_matches": True}


def facts(
    family: str,
    grade: str = "A",
    value: float = 20.0,
    reason: str | None = "changed mind",
    days: int | None = None,
    expired: bool = False,
    recalled: bool = False,
    **checks,
) -> Facts:
    base = {
        "electronics": GOOD_ELECTRONICS,
        "apparel": GOOD_APPAREL,
        "footwear": GOOD_FOOTWEAR,
        "health": GOOD_HEALTH,
    }.get(family, {"packaging_intact": True, "damaged": False})
    return Facts(
        family=family,
        grade=grade,
        checklist={**base, **checks},
        unit_value=value,
        days_to_expiry=days,
        reason=reason,
        lot_expired=expired,
        lot_recalled=recalled,
    )


# (case, facts, rule id, disposition, refund, restocking fee, approval needed)
RULE_PATHS = [
    (
        "recalled lot is held",
        facts("health", days=400, recalled=True),
        "recalled-lot",
        "quarantine",
        "full",
        None,
        False,
    ),
    (
        "expired health product is destroyed",
        facts("health", days=-3, expired=True),
        "health-expired",
        "dispose",
        "full",
        None,
        True,
    ),
    (
        "opened health product is destroyed",
        facts("health", days=400, seal_intact=False),
        "health-seal-broken",
        "dispose",
        "none",
        None,
        True,
    ),
    (
        "health product of another lot is held",
        facts("health", days=400, lot_matches=False),
        "health-wrong-lot",
        "quarantine",
        "none",
        None,
        True,
    ),
    (
        "short-dated health product goes back to the vendor",
        facts("health", days=45),
        "health-short-dated",
        "return_to_vendor",
        "full",
        None,
        False,
    ),
    (
        "electronics with another serial is held",
        facts("electronics", serial_matches=False),
        "electronics-serial-mismatch",
        "quarantine",
        "none",
        None,
        True,
    ),
    (
        "dead defective electronics go back to the vendor",
        facts("electronics", reason="defective", powers_on=False),
        "electronics-dead-defective",
        "return_to_vendor",
        "full",
        None,
        False,
    ),
    (
        "dead electronics are refurbished with a fee",
        facts("electronics", powers_on=False),
        "electronics-dead",
        "refurbish",
        "partial",
        15,
        False,
    ),
    (
        "failed functional test is refurbished",
        facts("electronics", functional_test=False),
        "electronics-failed-test",
        "refurbish",
        "full",
        None,
        False,
    ),
    (
        "incomplete electronics are refurbished with a fee",
        facts("electronics", accessories_complete=False),
        "electronics-incomplete",
        "refurbish",
        "partial",
        10,
        False,
    ),
    (
        "like-new electronics are restocked",
        facts("electronics", grade="B"),
        "electronics-like-new",
        "restock",
        "full",
        None,
        False,
    ),
    (
        "worn apparel returned on a whim is disposed",
        facts("apparel", grade="C", worn=True),
        "apparel-worn-changed-mind",
        "dispose",
        "none",
        None,
        True,
    ),
    (
        "stained apparel is refurbished",
        facts("apparel", grade="C", stains=True, reason="defective"),
        "apparel-stained",
        "refurbish",
        "partial",
        20,
        False,
    ),
    (
        "apparel without tags is refurbished",
        facts("apparel", grade="B", tags_attached=False),
        "apparel-no-tags",
        "refurbish",
        "partial",
        10,
        False,
    ),
    (
        "footwear worn outside is refurbished",
        facts("footwear", grade="B", soles_clean=False),
        "footwear-worn-outside",
        "refurbish",
        "partial",
        20,
        False,
    ),
    (
        "a mismatched pair is held",
        facts("footwear", pairs_match=False),
        "footwear-mismatched-pair",
        "quarantine",
        "none",
        None,
        True,
    ),
    (
        "wrong size in good shape is exchanged",
        facts("apparel", grade="B", reason="wrong size"),
        "wrong-size-exchange",
        "restock",
        "exchange",
        None,
        False,
    ),
    (
        "grade A accessories are restocked",
        facts("accessories", grade="A"),
        "grade-a-b-restock",
        "restock",
        "full",
        None,
        False,
    ),
    (
        "grade C is refurbished with a fee",
        facts("accessories", grade="C"),
        "grade-c-refurbish",
        "refurbish",
        "partial",
        15,
        False,
    ),
    (
        "damaged defective goes back to the vendor",
        facts("accessories", grade="D", reason="defective"),
        "grade-d-defective-vendor",
        "return_to_vendor",
        "full",
        None,
        False,
    ),
    (
        "damaged is refurbished with a fee",
        facts("accessories", grade="D"),
        "grade-d-damaged",
        "refurbish",
        "partial",
        25,
        False,
    ),
    (
        "unsaleable is disposed",
        facts("accessories", grade="F"),
        "grade-f-unsaleable",
        "dispose",
        "none",
        None,
        True,
    ),
]


@pytest.mark.parametrize(
    "case, f, rule_id, disposition, refund, fee, approval", RULE_PATHS, ids=[c[0] for c in RULE_PATHS]
)
def test_each_rule_decides_what_it_says(case, f, rule_id, disposition, refund, fee, approval):
    decision = DEFAULT.decide(f)
    assert (
        decision.rule_id,
        decision.disposition,
        decision.refund,
        decision.restocking_fee_pct,
        decision.approval_required,
    ) == (rule_id, disposition, refund, fee, approval)
    assert decision.rules_version == DEFAULT.version


def test_every_rule_of_the_default_file_is_reached_by_a_test():
    reached = {case[2] for case in RULE_PATHS} | {"default-quarantine"}
    assert reached == {rule.id for rule in DEFAULT.rules}


def test_catch_all_holds_what_no_rule_knows_and_asks_a_supervisor():
    decision = parse_rules(CATCH_ALL_ONLY).decide(facts("apparel", grade="A"))
    assert decision.rule_id == "hold" and decision.approval_required


def test_value_over_the_threshold_needs_a_supervisor_whatever_the_rule():
    decision = DEFAULT.decide(facts("electronics", grade="A", value=640.0))
    assert decision.disposition == "restock"
    assert decision.approval_required and decision.approval_kind == "disposition"
    assert "unit value 640.00 over the 250.00 threshold" in decision.approval_reasons


def test_override_of_the_rules_result_needs_a_supervisor_and_keeps_what_the_rule_said():
    decision = DEFAULT.decide(facts("accessories", grade="A"), chosen="refurbish")
    assert decision.disposition == "refurbish" and decision.rule_disposition == "restock"
    assert decision.approval_kind == "override" and decision.rule_id == "grade-a-b-restock"


def test_choosing_the_rules_own_result_is_not_an_override():
    decision = DEFAULT.decide(facts("accessories", grade="A"), chosen="restock")
    assert not decision.approval_required


def test_a_write_off_needs_a_supervisor():
    decision = DEFAULT.decide(facts("accessories", grade="F"))
    assert decision.approval_kind == "write_off"


EXPIRED_RESTOCK = """
version = "x1"
[[rule]]
id = "sell-everything"
disposition = "restock"
refund = "full"
"""


@pytest.mark.parametrize("expired, recalled, guard", [(True, False, "expired"), (False, True, "recalled")])
def test_an_expired_or_recalled_lot_is_never_restocked_even_when_a_rule_says_so(expired, recalled, guard):
    decision = parse_rules(EXPIRED_RESTOCK).decide(
        facts("health", days=-1 if expired else 100, expired=expired, recalled=recalled)
    )
    assert decision.disposition == "quarantine"
    assert decision.rule_id == f"sell-everything+guard-{guard}-lot"
    assert decision.rule_disposition == "restock"


def test_an_inspector_cannot_choose_to_restock_an_expired_lot():
    with pytest.raises(ValueError, match="never restocked"):
        DEFAULT.decide(facts("health", days=-1, expired=True), chosen="restock")


CATCH_ALL_ONLY = """
version = "2026-01-01.1"
[[rule]]
id = "hold"
disposition = "quarantine"
refund = "none"
approval = true
"""

CATCH_ALL = '[[rule]]\nid = "b"\ndisposition = "dispose"\nrefund = "none"\n'
# (case, file text, line, words in the reason)
INVALID_FILES = [
    ("not TOML", 'version = "1"\n[[rule]\nid = "x"\n', 2, "not valid TOML"),
    ("no version", '[[rule]]\nid = "x"\ndisposition = "dispose"\nrefund = "none"\n', None, "needs a version"),
    (
        "unknown disposition",
        'version = "1"\n\n[[rule]]\nid = "a"\ndisposition = "sell"\nrefund = "none"\n',
        5,
        "disposition must be one of",
    ),
    (
        "unknown refund",
        'version = "1"\n[[rule]]\nid = "a"\ndisposition = "dispose"\nrefund = "half"\n',
        5,
        "refund must be one of",
    ),
    (
        "partial without a fee",
        'version = "1"\n[[rule]]\nid = "a"\ndisposition = "refurbish"\nrefund = "partial"\n',
        5,
        "restocking_fee_pct between 1 and 100",
    ),
    (
        "fee out of range",
        'version = "1"\n[[rule]]\nid = "a"\ndisposition = "refurbish"\nrefund = "partial"\n'
        "restocking_fee_pct = 150\n",
        6,
        "between 1 and 100",
    ),
    (
        "unknown condition",
        'version = "1"\n[[rule]]\nid = "a"\nwhen = { colour = "red" }\ndisposition = "dispose"\n'
        'refund = "none"\n[[rule]]\nid = "b"\ndisposition = "dispose"\nrefund = "none"\n',
        4,
        "unknown condition 'colour'",
    ),
    (
        "unknown family",
        'version = "1"\n[[rule]]\nid = "a"\nwhen = { family = "toys" }\ndisposition = "dispose"\n'
        'refund = "none"\n[[rule]]\nid = "b"\ndisposition = "dispose"\nrefund = "none"\n',
        4,
        "unknown family 'toys'",
    ),
    (
        "unknown grade",
        'version = "1"\n[[rule]]\nid = "a"\nwhen = { grade = "E" }\ndisposition = "dispose"\n'
        'refund = "none"\n[[rule]]\nid = "b"\ndisposition = "dispose"\nrefund = "none"\n',
        4,
        "unknown grade 'E'",
    ),
    (
        "unknown checklist item",
        'version = "1"\n[[rule]]\nid = "a"\nwhen = { check = { shiny = true } }\n'
        'disposition = "dispose"\nrefund = "none"\n' + CATCH_ALL,
        4,
        "unknown checklist item 'shiny'",
    ),
    (
        "bad checklist answer",
        'version = "1"\n[[rule]]\nid = "a"\nwhen = { check = { powers_on = "yes" } }\n'
        'disposition = "dispose"\nrefund = "none"\n' + CATCH_ALL,
        4,
        "answer yes or no",
    ),
    (
        "duplicate id",
        'version = "1"\n[[rule]]\nid = "a"\nwhen = { grade = "A" }\ndisposition = "dispose"\n'
        'refund = "none"\n[[rule]]\nid = "a"\ndisposition = "dispose"\nrefund = "none"\n',
        8,
        "used twice",
    ),
    (
        "no catch-all",
        'version = "1"\n[[rule]]\nid = "a"\nwhen = { grade = "A" }\ndisposition = "restock"\n'
        'refund = "full"\n',
        4,
        "must match everything",
    ),
    (
        "restock of an expired lot",
        'version = "1"\n[[rule]]\nid = "a"\nwhen = { lot_expired = true }\n'
        'disposition = "restock"\nrefund = "full"\n' + CATCH_ALL,
        5,
        "never restocked",
    ),
    (
        "typo in a rule key",
        'version = "1"\n[[rule]]\nid = "a"\ndisposition = "dispose"\nrefnd = "none"\n',
        5,
        "unknown key 'refnd'",
    ),
    ("no rules", 'version = "1"\n', None, "no [[rule]] tables"),
    (
        "bad threshold",
        'version = "1"\n[approval]\nvalue_over = "lots"\n' + CATCH_ALL_ONLY.split("\n", 2)[2],
        3,
        "value_over must be a number",
    ),
]


@pytest.mark.parametrize("case, text, line, words", INVALID_FILES, ids=[c[0] for c in INVALID_FILES])
def test_an_invalid_rules_file_is_refused_with_its_line_and_reason(case, text, line, words):
    with pytest.raises(RulesError) as caught:
        parse_rules(text, source="rules.toml")
    assert caught.value.line == line
    assert words in caught.value.reason
    if line:
        assert f"rules.toml, line {line}:" in str(caught.value)


def test_the_last_valid_rules_stay_in_force_after_a_bad_file(tmp_path: Path):
    book = RuleBook()
    good = tmp_path / "rules.toml"
    good.write_text(CATCH_ALL_ONLY)
    assert book.load(good) is None and book.current.version == "2026-01-01.1"
    good.write_text(CATCH_ALL_ONLY.replace('"quarantine"', '"sell"'))
    error = book.load(good)
    assert error is not None and error.line == 5
    assert book.current.version == "2026-01-01.1"
    assert book.decide(facts("apparel")).rule_id == "hold"


def test_a_missing_rules_file_is_refused_in_words_and_the_default_stays(tmp_path: Path):
    book = RuleBook()
    error = book.load(tmp_path / "absent.toml")
    assert error is not None and "cannot read it" in error.reason
    assert book.current.version == DEFAULT.version


def test_the_default_file_says_its_version_in_one_place():
    text = DEFAULT_RULES_PATH.read_text()
    assert re.findall(r'^version = "(.+)"$', text, re.M) == [DEFAULT.version]
