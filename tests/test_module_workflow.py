"""The approval workflow of the Tryton module: its transitions are data, and a move they do not
hold is refused naming both states (Tryton's own Workflow.transition skips such a record silently)."""

import pytest

from sync.erp.tryton.modules.returns_station.approval import TRANSITIONS, transition
from sync.erp.tryton.modules.returns_station.exceptions import IllegalTransition


class Requests:
    """The parts of ``returns.station.approval`` the transition decorator uses, without a database."""

    _transition_state = "state"
    _transitions = TRANSITIONS
    written: list = []

    @classmethod
    def write(cls, records, values):
        cls.written.append(([r.rec_name for r in records], values))

    @classmethod
    def log(cls, records, event, target):
        pass

    @classmethod
    @transition("approved")
    def approve(cls, records):
        pass

    @classmethod
    @transition("refused")
    def refuse(cls, records):
        pass


class Record:
    rec_name = "REQ-7"

    def __init__(self, state):
        self.state = state


def request(state):
    return Record(state)


def test_a_decided_request_cannot_be_decided_again_and_the_refusal_names_both_states():
    with pytest.raises(IllegalTransition, match="REQ-7 cannot go from approved to refused"):
        Requests.refuse([request("approved")])
    with pytest.raises(IllegalTransition, match="REQ-7 cannot go from refused to approved"):
        Requests.approve([request("refused")])


def test_a_pending_request_moves_to_the_decision():
    Requests.written.clear()
    Requests.approve([request("pending")])
    assert Requests.written == [(["REQ-7"], {"state": "approved"})]


def test_the_transitions_are_the_two_decisions_of_a_pending_request():
    assert TRANSITIONS == {("pending", "approved"), ("pending", "refused")}
