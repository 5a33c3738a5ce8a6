"""The evidence pack's content: a deterministic PDF and each changed part named."""

from __future__ import annotations

import base64
import copy

from app import evidence

PHOTO = (b"\xff\xd8fake-jpeg-1", b"\xff\xd8fake-jpeg-2")


def gathered() -> dict:
    return {
        "return": {"rma": "RMA-1", "number": "RET-1", "customer": "Ann", "reason": "changed_mind"},
        "received": {
            "operation": "op-1",
            "station": "s1",
            "user": "U-RECV-1",
            "at": "2026-12-01T10:00:00.000Z",
        },
        "units": [
            {
                "inspection_id": 7,
                "product": "Tee M black",
                "grade": "A",
                "checklist": {"worn": False},
                "disposition": "restock",
                "rule": "apparel-a",
                "rules_version": None,
                "refund": {"amount": "19.00"},
                "inspected": {
                    "operation": "op-2",
                    "station": "s2",
                    "user": "U-INSP-1",
                    "at": "2026-12-01T11:00:00.000Z",
                },
                "photos": [{"name": "x", "data": base64.b64encode(p).decode()} for p in PHOTO],
            }
        ],
        "approvals": [],
    }


def test_the_same_records_give_the_same_pdf_bytes():
    content = evidence.manifest(gathered())
    first = evidence.build_pdf(content, evidence.photos_of(gathered()))
    assert first.startswith(b"%PDF")
    assert evidence.build_pdf(content, evidence.photos_of(gathered())) == first


def test_changes_name_the_photo_and_the_field_that_changed():
    before = evidence.manifest(gathered())
    after_records = copy.deepcopy(gathered())
    after_records["units"][0]["grade"] = "C"
    after_records["units"][0]["photos"][1]["data"] = base64.b64encode(b"\xff\xd8fake-jpeg-3").decode()
    after = evidence.manifest(after_records)
    assert evidence.content_sha256(after) != evidence.content_sha256(before)
    found = evidence.changes(before, after)
    assert found[0] == 'unit 1 (Tee M black) grade changed: "A" now "C"'
    assert found[1].startswith("photo 2 of unit 1 (Tee M black) changed: sha ")
    assert len(found) == 2
    assert evidence.changes(before, evidence.manifest(gathered())) == []
