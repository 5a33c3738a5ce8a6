"""The outbox state machine: the allowed moves as data, claims in dependency order, supervisor
actions audited; and a property test that no sequence of moves breaks its rules."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import outbox
from sync.operations import new_operation
from sync.outbox import IllegalTransition, OutboxError


def op(**kw):
    return new_operation(
        "upload_photo", kw.pop("payload", {"sha256": "c" * 64}), station="S1", user="U-1", **kw
    )


def test_illegal_transition_names_both_states(store):
    operation = op()
    store.enqueue(operation)
    with pytest.raises(IllegalTransition, match="'pending' cannot move to 'done'"):
        store.set_operation_state(operation.id, "done")
    assert store.operation(operation.id)["state"] == "pending"


def test_claim_respects_dependencies_and_queue_order(store):
    photo = op()
    inspect = new_operation("inspect_item", {"return_id": 1}, station="S1", user="U-1", depends_on=[photo.id])
    store.enqueue(inspect)  # queued before its dependency on purpose
    store.enqueue(photo)
    claimed = outbox.claim(store, 10)
    assert [o.id for o in claimed] == [photo.id]
    outbox.ack(store, photo.id)
    assert [o.id for o in outbox.claim(store, 10)] == [inspect.id]


def test_dependency_claimed_in_the_same_batch_comes_first(store):
    photo = op()
    inspect = new_operation("inspect_item", {"return_id": 1}, station="S1", user="U-1", depends_on=[photo.id])
    store.enqueue(photo)
    store.enqueue(inspect)
    assert [o.id for o in outbox.claim(store, 10)] == [photo.id, inspect.id]
    assert store.queue_counts()["sending"] == 2


def test_operation_waiting_on_a_failed_one_is_not_sent(store):
    photo = op()
    inspect = new_operation("inspect_item", {"return_id": 1}, station="S1", user="U-1", depends_on=[photo.id])
    store.enqueue(photo)
    store.enqueue(inspect)
    outbox.claim(store, 1)
    outbox.fail(store, photo.id, "photo refused")
    assert outbox.claim(store, 10) == []
    assert outbox.blocked_by(store, inspect.id) == [photo.id]


def test_transient_failure_waits_before_the_next_attempt(store):
    operation = op()
    store.enqueue(operation)
    outbox.claim(store)
    outbox.requeue(store, operation.id, "ERP unreachable", delay=60)
    row = store.operation(operation.id)
    assert row["state"] == "pending" and row["attempts"] == 1 and row["error"] == "ERP unreachable"
    assert outbox.claim(store) == []


def test_backoff_grows_and_is_capped():
    import random

    rng = random.Random(1)
    delays = [outbox.backoff_delay(n, base=2, cap=60, rng=rng) for n in range(1, 12)]
    assert delays[0] <= 2 and delays[3] >= 8 and max(delays) <= 60


def test_crash_while_sending_is_recovered_and_audited(store):
    operation = op()
    store.enqueue(operation)
    outbox.claim(store)
    assert outbox.recover(store, station="S1") == 1
    assert store.operation(operation.id)["state"] == "pending"
    assert store.audit_log(op_id=operation.id)[0]["what"] == "recovered after an interrupted send"


def test_supervisor_retry_of_a_failed_operation_is_audited(store):
    operation = op()
    store.enqueue(operation)
    outbox.claim(store)
    outbox.fail(store, operation.id, "unknown product (id 999) in the ERP")
    outbox.retry(store, operation.id, who="U-SUP-1", station="S1")
    assert store.operation(operation.id)["state"] == "pending"
    (entry,) = store.audit_log(op_id=operation.id)
    assert entry["who"] == "U-SUP-1" and entry["what"] == "retry"
    assert entry["detail"]["error"] == "unknown product (id 999) in the ERP"


def test_retry_of_a_pending_operation_is_refused(store):
    operation = op()
    store.enqueue(operation)
    with pytest.raises(IllegalTransition):
        outbox.retry(store, operation.id, who="U-SUP-1", station="S1")


def test_cancel_needs_a_reason_and_keeps_the_row(store):
    operation = op()
    store.enqueue(operation)
    outbox.claim(store)
    outbox.conflict(store, operation.id, "return CR00012 already received by another station")
    with pytest.raises(OutboxError, match="say why"):
        outbox.cancel(store, operation.id, who="U-SUP-1", station="S1", reason=" ")
    outbox.cancel(store, operation.id, who="U-SUP-1", station="S1", reason="duplicate of the other station's")
    row = store.operation(operation.id)
    assert row["state"] == "cancelled" and row["operation"]["id"] == operation.id
    assert store.audit_log(op_id=operation.id)[0]["detail"]["reason"] == "duplicate of the other station's"


def test_edit_replaces_the_payload_keeps_the_id_and_audits_both(store):
    operation = new_operation("receive_return", {"return_id": 12, "lines": []}, station="S1", user="U-1")
    store.enqueue(operation)
    outbox.claim(store)
    outbox.fail(store, operation.id, "unknown product (id 999) in the ERP")
    outbox.edit(store, operation.id, {"return_id": 12, "lines": [], "extra": []}, who="U-SUP-1", station="S1")
    row = store.operation(operation.id)
    assert row["state"] == "pending" and row["operation"]["payload"]["extra"] == []
    entry = store.audit_log(op_id=operation.id)[0]
    assert entry["detail"]["before"] == {"return_id": 12, "lines": []}
    assert entry["detail"]["after"]["extra"] == []


def test_unknown_operation_is_a_clear_error(store):
    with pytest.raises(OutboxError, match="no operation"):
        outbox.retry(store, "nope", who="U-SUP-1", station="S1")


def test_buttons_follow_the_state_table():
    assert outbox.allowed_actions("failed") == {"retry", "edit", "cancel"}
    assert outbox.allowed_actions("pending") == {"cancel"}
    assert outbox.allowed_actions("sending") == set()
    assert outbox.allowed_actions("done") == set()


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["claim", "ack", "fail", "conflict", "requeue", "retry", "cancel", "edit", "recover"]
        ),
        st.integers(0, 3),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(ACTIONS)
def test_no_sequence_of_moves_breaks_the_outbox_rules(tmp_path_factory, actions):
    from sync.store import Store

    store = Store.open(tmp_path_factory.mktemp("prop") / "s.sqlite")
    try:
        ops = [op() for _ in range(4)]
        for o in ops:
            store.enqueue(o)
        model = {o.id: "pending" for o in ops}  # what the table says each should be
        for action, index in actions:
            op_id = ops[index].id
            before = model[op_id]
            try:
                if action == "claim":
                    claimed = {o.id for o in outbox.claim(store, 2)}
                    for i in claimed:
                        assert model[i] == "pending"
                        model[i] = "sending"
                    continue
                if action == "ack":
                    outbox.ack(store, op_id)
                    model[op_id] = "done"
                elif action == "fail":
                    outbox.fail(store, op_id, "refused")
                    model[op_id] = "failed"
                elif action == "conflict":
                    outbox.conflict(store, op_id, "moved")
                    model[op_id] = "conflict"
                elif action == "requeue":
                    outbox.requeue(store, op_id, "down", delay=0)
                    model[op_id] = "pending"
                elif action == "retry":
                    outbox.retry(store, op_id, who="U-SUP", station="S1")
                    model[op_id] = "pending"
                elif action == "cancel":
                    outbox.cancel(store, op_id, who="U-SUP", station="S1", reason="r")
                    model[op_id] = "cancelled"
                elif action == "edit":
                    outbox.edit(store, op_id, {"sha256": "d" * 64}, who="U-SUP", station="S1")
                    model[op_id] = "pending"
                elif action == "recover":
                    outbox.recover(store, station="S1")
                    for i, state in model.items():
                        if state == "sending":
                            model[i] = "pending"
                    continue
                assert outbox.can_transition(before, model[op_id]), (before, action)
            except IllegalTransition as exc:
                assert exc.from_state == before
                if action in ("retry", "edit"):  # a person acts only on what waits for a person
                    assert before not in outbox.NEEDS_A_PERSON
                else:
                    assert not outbox.can_transition(before, exc.to_state)
            actual = {row["id"]: row["state"] for row in store.operations()}
            assert actual == model
            # Nothing is ever lost and final states stay final.
            assert len(actual) == 4
        counts = store.queue_counts()
        assert sum(counts.values()) == 4
        # Every supervisor action left an audit entry.
        audited = [e["what"] for e in store.audit_log(limit=1000)]
        supervisor = sum(1 for a, _ in actions if a in ("retry", "cancel", "edit"))
        assert len([w for w in audited if w in ("retry", "cancel", "edit")]) <= supervisor
    finally:
        store.close()
