"""Reconciliation of a return's box: each outcome, table-driven, and the property that no scanned
item is ever lost or invented."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workflows.receiving import ScannedItem, reconcile

PRODUCTS = {
    1: {"id": 1, "name": "Tee", "serial_tracked": False, "lot_tracked": False},
    2: {"id": 2, "name": "Vitamins", "serial_tracked": False, "lot_tracked": True},
    3: {"id": 3, "name": "Phone", "serial_tracked": True, "lot_tracked": False},
    4: {"id": 4, "name": "Belt", "serial_tracked": False, "lot_tracked": False},
}
LINES = [
    {"move_id": 10, "product_id": 1, "quantity": 2, "lot": None},
    {"move_id": 11, "product_id": 2, "quantity": 1, "lot": "L1"},
    {"move_id": 12, "product_id": 3, "quantity": 1, "lot": "SN1"},
]


def item(seq, product_id, lot=None, serial=None):
    return ScannedItem(seq, f"code-{seq}", product_id, lot, serial)


FULL_BOX = [item(1, 1), item(2, 1), item(3, 2, lot="L1"), item(4, 3, serial="SN1")]

# (case, scanned items, outcome of each scan by seq, line outcomes by move id, payload reasons of extras)
CASES = [
    (
        "everything matches",
        FULL_BOX,
        {1: "matched", 2: "matched", 3: "matched", 4: "matched"},
        {10: "matched", 11: "matched", 12: "matched"},
        [],
    ),
    ("an empty box is all missing", [], {}, {10: "missing", 11: "missing", 12: "missing"}, []),
    (
        "one of two units is missing",
        [item(1, 1), item(3, 2, lot="L1"), item(4, 3, serial="SN1")],
        {1: "matched", 3: "matched", 4: "matched"},
        {10: "partial", 11: "matched", 12: "matched"},
        [],
    ),
    (
        "a third tee is a quantity over",
        [*FULL_BOX, item(5, 1)],
        {5: "quantity_over"},
        {10: "matched"},
        ["extra item"],
    ),
    (
        "a belt nobody returned is a wrong item",
        [*FULL_BOX, item(5, 4)],
        {5: "wrong_item"},
        {},
        ["wrong item"],
    ),
    (
        "a barcode no product has is unknown",
        [*FULL_BOX, item(5, None)],
        {5: "unknown_barcode"},
        {},
        ["unknown barcode"],
    ),
    (
        "vitamins of another lot are a wrong lot",
        [item(1, 2, lot="L9")],
        {1: "wrong_lot"},
        {11: "missing"},
        ["wrong lot"],
    ),
    (
        "a phone with another serial is a wrong lot",
        [item(1, 3, serial="SN9")],
        {1: "wrong_lot"},
        {12: "missing"},
        ["wrong lot"],
    ),
    ("a plain scan of a lot-tracked item fits its line", [item(1, 2)], {1: "matched"}, {11: "matched"}, []),
    (
        "a second unit of the right lot is a quantity over",
        [item(1, 2, lot="L1"), item(2, 2, lot="L1")],
        {1: "matched", 2: "quantity_over"},
        {11: "matched"},
        ["extra item"],
    ),
    (
        "a wrong-lot unit after the right one is a quantity over",
        [item(1, 2, lot="L1"), item(2, 2, lot="L9")],
        {2: "quantity_over"},
        {11: "matched"},
        ["extra item"],
    ),
]


@pytest.mark.parametrize("case, items, outcomes, lines, reasons", CASES, ids=[c[0] for c in CASES])
def test_each_reconciliation_outcome(case, items, outcomes, lines, reasons):
    result = reconcile(LINES, items, PRODUCTS)
    for seq, outcome in outcomes.items():
        assert result.outcomes[seq] == outcome
    by_move = {line.move_id: line.outcome for line in result.lines}
    for move_id, outcome in lines.items():
        assert by_move[move_id] == outcome
    assert [extra["reason"] for extra in result.payload_extra()] == reasons


def test_a_lot_labelled_unit_takes_the_line_of_its_lot_before_a_plain_scan_does():
    lines = [
        {"move_id": 1, "product_id": 2, "quantity": 1, "lot": None},
        {"move_id": 2, "product_id": 2, "quantity": 1, "lot": "L1"},
    ]
    result = reconcile(lines, [item(1, 2), item(2, 2, lot="L1")], PRODUCTS)
    assert result.complete and not result.extras


def test_missing_quantities_are_what_the_lines_did_not_get():
    result = reconcile(LINES, [item(1, 1)], PRODUCTS)
    assert result.payload_missing() == [
        {"move_id": 10, "product_id": 1, "quantity": 1},
        {"move_id": 11, "product_id": 2, "quantity": 1},
        {"move_id": 12, "product_id": 3, "quantity": 1},
    ]


def test_received_lines_carry_their_lots_and_serials():
    lines = reconcile(LINES, FULL_BOX, PRODUCTS).payload_lines()
    assert lines[1]["lots"] == [{"lot": "L1", "quantity": 1}]
    assert lines[2]["serials"] == ["SN1"] and lines[2]["lots"] == [{"lot": "SN1", "quantity": 1}]


scans = st.lists(
    st.tuples(st.sampled_from([1, 2, 3, 4, None]), st.sampled_from([None, "L1", "L9", "SN1", "SN9"])),
    max_size=12,
)
expected_lines = st.lists(
    st.tuples(st.sampled_from([1, 2, 3]), st.integers(1, 3), st.sampled_from([None, "L1", "SN1"])),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(scans, expected_lines)
def test_reconciliation_never_loses_or_invents_a_scanned_item(scanned, expected):
    lines = [
        {"move_id": 100 + i, "product_id": p, "quantity": q, "lot": lot}
        for i, (p, q, lot) in enumerate(expected)
    ]
    items = [
        ScannedItem(seq, f"code-{seq}", pid, lot if pid != 3 else None, lot if pid == 3 else None)
        for seq, (pid, lot) in enumerate(scanned, start=1)
    ]
    result = reconcile(lines, items, PRODUCTS)
    placed = [i.seq for line in result.lines for i in line.items] + [e.item.seq for e in result.extras]
    assert Counter(placed) == Counter(i.seq for i in items)  # each scan exactly once
    assert set(result.outcomes) == {i.seq for i in items}
    payload_units = sum(line["received"] for line in result.payload_lines()) + sum(
        extra["quantity"] for extra in result.payload_extra()
    )
    assert payload_units == len(items)  # what goes to the ERP is what was scanned
    for line in result.lines:
        assert 0 <= line.received <= line.expected  # a line never takes more than it expects
        assert line.received + line.missing == line.expected
