"""Evidence packs against the real ERP: the example replays put inspected units with photos in the
ERP, ``station evidence`` builds and attaches the pack, ``--verify`` checks it, and one byte of a
photo changed in the ERP makes verification fail naming that photo."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from app.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "replay"
RETURN = "stock.shipment.out.return"


@pytest.fixture
def inspected(erp, tmp_path, monkeypatch, capsys):
    """RMA-000101 received and its tee (two photos) and wallet (one) inspected, in the ERP."""
    monkeypatch.setenv("STATION_ERP_URL", erp.station_address("evidence-e2e").url())  # its own ERP user
    monkeypatch.setenv("STATION_DATA_DIR", str(tmp_path / "station"))
    monkeypatch.setenv("STATION_ID", "evidence-e2e")
    for role in ("receiver", "inspector"):
        assert main(["replay", str(EXAMPLES / f"{role}.jsonl"), "--json"]) == 0
        assert main(["sync", "--once"]) == 0, capsys.readouterr()
    capsys.readouterr()
    return erp


def photos_of_first_unit(erp) -> list[dict]:
    (ret,) = erp.call(
        f"model.{RETURN}.search_read", [("reference", "=", "RMA-000101")], 0, None, None, ["id"], {}
    )
    inspections = erp.call(
        "model.quality.inspection.search_read",
        [("origin", "=", f"{RETURN},{ret['id']}")],
        0,
        None,
        [("id", "ASC")],
        ["id"],
        {},
    )
    return erp.call(
        "model.ir.attachment.search_read",
        [("resource", "=", f"quality.inspection,{inspections[0]['id']}")],
        0,
        None,
        [("id", "ASC")],
        ["name", "data"],
        {},
    )


@pytest.mark.erp
@pytest.mark.slow
def test_an_evidence_pack_verifies_and_fails_after_one_byte_of_a_photo_changes(inspected, tmp_path, capsys):
    erp = inspected
    out = tmp_path / "pack.pdf"
    assert main(["evidence", "RMA-000101", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    digest = said.split("evidence pack ")[1].split()[0]
    attached = erp.call(
        "model.ir.attachment.search_read",
        [("name", "=", f"evidence-{digest}.pdf")],
        0,
        None,
        None,
        ["resource", "description"],
        {},
    )
    assert len(attached) == 1 and attached[0]["resource"].startswith(f"{RETURN},")
    assert f"file sha256: {hashlib.sha256(pdf).hexdigest()}" in attached[0]["description"]

    # Built again from the same records: the same bytes, attached once.
    again = tmp_path / "again.pdf"
    assert main(["evidence", "RMA-000101", "--out", str(again)]) == 0
    assert "already attached" in capsys.readouterr().out
    assert again.read_bytes() == pdf

    assert main(["evidence", "--verify", "RMA-000101", str(out)]) == 0
    assert "verified: nothing changed" in capsys.readouterr().out

    # One byte of the tee's second photo changed in the ERP.
    photos = photos_of_first_unit(erp)
    assert len(photos) == 2
    victim = photos[1]
    data = bytearray(victim["data"])  # the fixture decodes Tryton's bytes
    data[len(data) // 2] ^= 0x01
    erp.call(
        "model.ir.attachment.write",
        [victim["id"]],
        {"data": {"__class__": "bytes", "base64": base64.b64encode(bytes(data)).decode()}},
        {},
    )
    assert main(["evidence", "--verify", "RMA-000101", str(out)]) == 1
    said = capsys.readouterr().out
    new_sha = hashlib.sha256(bytes(data)).hexdigest()
    assert "photo 2 of unit 1 (" in said
    assert f"changed: sha {victim['name']} now {new_sha}" in said
    assert "photo 1 of" not in said  # only the changed photo is named

    # A pack file altered by one byte is not a pack the ERP recorded.
    altered = bytearray(pdf)
    altered[-20] ^= 0x01
    out.write_bytes(bytes(altered))
    assert main(["evidence", "--verify", "RMA-000101", str(out)]) == 1
    assert "is none the ERP recorded" in capsys.readouterr().out


@pytest.mark.erp
def test_an_evidence_pack_of_a_return_not_inspected_yet_is_refused_in_words(
    erp, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("STATION_ERP_URL", erp.url)
    monkeypatch.setenv("STATION_DATA_DIR", str(tmp_path / "station"))
    assert main(["evidence", "RMA-000101", "--out", str(tmp_path / "p.pdf")]) == 2
    assert "no inspected unit in the ERP yet" in capsys.readouterr().err
    assert main(["evidence", "RMA-999999"]) == 2
    assert "no return RMA-999999" in capsys.readouterr().err
    assert not (tmp_path / "p.pdf").exists()
