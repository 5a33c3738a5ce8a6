import pytest

from sync.operations import OPERATION_TYPES, Operation, UnknownOperationType, new_operation


def test_operation_survives_a_json_round_trip():
    op = new_operation(
        "receive_return", {"return_id": 3, "lines": []}, station="dock-1", user="U-RECV-1", depends_on=["a"]
    )
    again = Operation.from_json(op.to_json())
    assert again == op
    assert again.depends_on == ("a",)
    assert op.created_at.endswith("Z")


def test_each_new_operation_gets_its_own_idempotency_key():
    ids = {new_operation("upload_photo", {}, station="s", user="u").id for _ in range(100)}
    assert len(ids) == 100


def test_an_operation_of_an_older_version_still_loads():
    data = new_operation("inspect_item", {}, station="s", user="u").to_dict()
    data.pop("version")  # written before versions were recorded
    assert Operation.from_dict(data).version == 1


def test_unknown_type_or_newer_version_is_refused_by_name():
    with pytest.raises(UnknownOperationType, match="unknown operation type 'teleport'"):
        new_operation("teleport", {}, station="s", user="u")
    data = new_operation("confirm_pack", {}, station="s", user="u").to_dict()
    data["version"] = OPERATION_TYPES["confirm_pack"] + 1
    with pytest.raises(UnknownOperationType, match="newer than this station knows"):
        Operation.from_dict(data)
