"""``station replay``: the file format, malformed lines, refusals and exit status — on a station
whose store already holds reference data (no ERP needed). The example files run end to end against
the real ERP in tests/test_replay_erp.py."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest

from app.cli import main
from app.workflows.replay import parse_events
from sync.store import Store
from tests.workflows_world import seed_world


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    directory = tmp_path / "station"
    directory.mkdir()
    store = Store.open(directory / "station.sqlite", photos_dir=directory / "photos")
    try:
        seed_world(store, dt.date.today())
    finally:
        store.close()
    for name in ("STATION_DATA_DIR", "STATION_ERP_URL", "STATION_ID"):
        monkeypatch.delenv(name, raising=False)
    return directory


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def replay(path: Path, data_dir: Path, *extra: str) -> int:
    return main(["replay", str(path), "--data-dir", str(data_dir), "--station-id", "replay-1", *extra])


def outbox(data_dir: Path) -> list[dict]:
    store = Store.open(data_dir / "station.sqlite")
    try:
        return [row["operation"] for row in store.operations()]
    finally:
        store.close()


RECEIVE = [
    '{"signin": {"badge": "U-RECV-1", "pin": "1111"}}',
    '{"task": "receive"}',
    '{"scan": "RMA-000106"}',
    '{"scan": "5901242000252"}',
    '{"confirm": {}}',
    '{"signout": {}}',
]


def readme_section(readme: Path, heading: str) -> str:
    """The README's text from ``heading`` to the next heading of the same level."""
    text = readme.read_text()
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + len(heading) + 2)
    return text[start : end if end != -1 else len(text)]


def test_a_receipt_replayed_is_queued_and_printed(tmp_path, data_dir, capsys):
    assert replay(write(tmp_path, *RECEIVE), data_dir) == 0
    out = capsys.readouterr().out
    (op,) = outbox(data_dir)
    assert op["type"] == "receive_return" and op["station"] == "replay-1" and op["user"] == "U-RECV-1"
    assert f"line 5: queued receive_return {op['id']}" in out
    assert "6 event(s), 1 operation(s) queued, 0 unexpected refusal(s)" in out


def test_json_output_lists_operations_and_refusals_with_their_lines(tmp_path, data_dir, capsys):
    path = write(tmp_path, *RECEIVE[:3], '{"scan": "RMA-000101"}', *RECEIVE[3:])
    assert replay(path, data_dir, "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert [(r["line"], r["code"]) for r in report["refusals"]] == [(4, "other_return")]
    assert "this box is RMA-000106, scanned RMA-000101" in report["refusals"][0]["message"]
    assert [(o["line"], o["type"]) for o in report["operations"]] == [(6, "receive_return")]


def test_a_refusal_the_file_expects_does_not_fail_the_run(tmp_path, data_dir, capsys):
    path = write(tmp_path, *RECEIVE[:3], '{"scan": "RMA-000101", "expect": "other_return"}', *RECEIVE[3:])
    assert replay(path, data_dir) == 0
    assert "line 4: refused as expected (other_return)" in capsys.readouterr().out


def test_an_expected_refusal_that_does_not_happen_fails_the_run(tmp_path, data_dir, capsys):
    path = write(tmp_path, *RECEIVE[:4], '{"confirm": {}, "expect": "reason_needed"}')
    assert replay(path, data_dir) == 1
    assert "line 5: expected refusal reason_needed, but: RMA-000106 received" in capsys.readouterr().out


def test_a_malformed_line_is_reported_with_its_number_and_nothing_is_played(tmp_path, data_dir, capsys):
    path = write(
        tmp_path, RECEIVE[0], RECEIVE[1], '{"scan": "RMA-000106"', RECEIVE[3], '{"dance": {}}', RECEIVE[4]
    )
    assert replay(path, data_dir) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: not JSON" in err
    assert f"{path}:5: unknown event 'dance'" in err
    assert "2 malformed line(s); nothing was played" in err
    assert outbox(data_dir) == []


# (line, reason words)
SHAPES = [
    ('{"signin": {"badge": "U-RECV-1"}}', 'signin: needs {"badge": "...", "pin": "..."}'),
    ('{"scan": 5901242000252}', "scan: needs text"),
    ('{"grade": "B", "scan": "x"}', "one event per line (found grade, scan)"),
    ('["scan", "x"]', "each line must be one JSON object"),
    ('{"check": {}}', "check: needs checklist answers"),
    ('{"confirm": {"reason": 3}}', 'confirm: needs {} or {"reason": "..."}'),
    ('{"photo": 7}', "photo: needs a file path"),
    ('{"scan": "x", "expect": 1}', "expect must be a refusal code"),
    ('{"approve": {"request": 5}}', 'approve: needs {"request"'),
]


@pytest.mark.parametrize("line, words", SHAPES)
def test_each_malformed_shape_is_named(line, words):
    events, malformed = parse_events(["# a comment", "", line])
    assert events == [] and len(malformed) == 1
    assert malformed[0].line == 3 and words in malformed[0].reason


def test_photos_are_read_relative_to_the_replay_file(tmp_path, data_dir, capsys):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "scarf.jpg").write_bytes(b"\xff\xd8\xff\xe0 a scarf")
    path = write(
        tmp_path,
        '{"signin": {"badge": "U-LEAD-1", "pin": "5555"}}',
        *RECEIVE[1:5],
        '{"task": "inspect"}',
        '{"scan": "RMA-000106"}',
        '{"scan": "5901242000252"}',
        '{"photo": "pics/scarf.jpg"}',
        '{"photo": "pics/missing.jpg", "expect": "photo_unreadable"}',
        '{"grade": "A"}',
        '{"check": {"packaging_intact": true, "damaged": false}}',
        '{"confirm": {}}',
    )
    assert replay(path, data_dir) == 0, capsys.readouterr().out
    ops = outbox(data_dir)
    assert [op["type"] for op in ops] == ["receive_return", "upload_photo", "inspect_item"]
    assert (
        ops[2]["payload"]["disposition"] == "restock" and ops[2]["payload"]["rule_id"] == "grade-a-b-restock"
    )


def test_an_empty_station_without_an_erp_says_so(tmp_path, monkeypatch, capsys):
    for name in ("STATION_DATA_DIR", "STATION_ERP_URL", "STATION_ID"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = write(tmp_path, *RECEIVE)
    code = main(
        [
            "replay",
            str(path),
            "--data-dir",
            str(tmp_path / "new"),
            "--erp-url",
            f"http://admin:secret-pw@127.0.0.1:{port}/returns",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "the station has no reference data and the ERP at http://admin:***@127.0.0.1" in err
    assert "secret-pw" not in err


def test_rules_check_names_the_line_of_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "rules.toml"
    bad.write_text('version = "1"\n[[rule]]\nid = "a"\ndisposition = "sell"\nrefund = "none"\n')
    assert main(["rules", "check", str(bad)]) == 2
    assert f"{bad}, line 4: rule a: disposition must be one of" in capsys.readouterr().err


def test_a_rules_file_in_the_data_dir_is_not_read(tmp_path, data_dir, capsys):
    # The rules are held in the ERP and pulled: a local file decides nothing.
    (data_dir / "rules.toml").write_text("version = ")
    assert replay(write(tmp_path, *RECEIVE), data_dir) == 0
    assert "rules" not in capsys.readouterr().err


def test_pulled_rules_this_station_cannot_read_are_reported_and_the_last_valid_used(
    tmp_path, data_dir, capsys
):
    store = Store.open(data_dir / "station.sqlite")
    try:
        text = 'version = "2099-01-01.1"\n[[rule]]\nid = "a"\ndisposition = "sell"\nrefund = "none"\n'
        store.upsert_reference(
            "rules",
            [
                {
                    "version": "2099-01-01.1",
                    "text": text,
                    "sha256": "f" * 64,
                    "published_by": "lead",
                    "published_at": None,
                    "write_date": "2099-01-01 00:00:00.000000",
                }
            ],
        )
    finally:
        store.close()
    assert replay(write(tmp_path, *RECEIVE), data_dir) == 0
    err = capsys.readouterr().err
    assert "rules 2099-01-01.1 from the ERP, line 4: rule a: disposition must be one of" in err
    assert "using the rules version 2026-11-25.1" in err


def test_the_readme_shows_each_example_file_as_it_is():
    root = Path(__file__).resolve().parents[1]
    section = readme_section(root / "README.md", "## The replay format")
    for path in sorted((root / "examples" / "replay").glob("*.jsonl")):
        assert f"```jsonl\n{path.read_text().rstrip()}\n```" in section, path.name


def test_every_example_file_is_well_formed():
    root = Path(__file__).resolve().parents[1] / "examples" / "replay"
    files = sorted(root.glob("*.jsonl"))
    assert [f.stem for f in files] == ["inspector", "packer", "receiver", "supervisor"]
    for path in files:
        events, malformed = parse_events(path.read_text().splitlines())
        assert malformed == [] and events, path.name
        for event in events:
            if event.kind == "photo":
                assert (path.parent / event.value).is_file(), event.value


def test_a_refused_sign_in_is_reported_without_its_pin(tmp_path, data_dir, capsys):
    path = write(tmp_path, '{"signin": {"badge": "U-RECV-1", "pin": "8642"}}')
    assert replay(path, data_dir, "--json") == 1
    out = capsys.readouterr().out
    assert json.loads(out)["refusals"][0]["code"] == "sign_in_refused"
    assert "8642" not in out


def test_the_readme_lists_every_refusal_code_a_replay_file_may_expect():
    import ast

    root = Path(__file__).resolve().parents[1]
    codes = {
        node.args[0].value
        for path in (root / "app" / "workflows").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Refusal"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    section = readme_section(root / "README.md", "## The replay format")
    assert len(codes) > 40
    assert sorted(code for code in codes if f"`{code}`" not in section) == []


def test_a_failed_pull_replays_on_the_cached_data_and_says_so(tmp_path, data_dir, capsys):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = write(tmp_path, *RECEIVE)
    code = replay(path, data_dir, "--pull", "--erp-url", f"http://admin:pw@127.0.0.1:{port}/returns")
    captured = capsys.readouterr()
    assert code == 0
    assert "station: pull failed, replaying on the cached data" in captured.err
    assert [op["type"] for op in outbox(data_dir)] == ["receive_return"]
