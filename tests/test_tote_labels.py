"""Tote labels: ``station erp labels`` prints them (Code 128, one per disposition trip), they decode
back to their text, and the station's scan reading knows each one's disposition."""

from __future__ import annotations

import re
import subprocess

from app.commands.erp import station_labels
from app.workflows.scanning import read_scan
from sync.common.totes import TOTE_WORDS
from sync.erp.tryton.labels import label_pages
from sync.erp.tryton.server import STATION
from tests.test_erp_labels import ROOT, decoded, rasterise


def test_the_label_sheet_prints_totes_that_read_back_as_totes_of_their_disposition():
    ((title, totes, _),) = [s for s in station_labels(totes=2) if s[0].startswith("Totes")]
    assert len(totes) == 2 * len(TOTE_WORDS)
    pages = label_pages(extra=[(title, totes, 3)])
    read = {}
    for page in pages[-2:]:  # the station's sections come last
        read.update(decoded(rasterise(page)))
    assert sorted(t.content for t in totes if t.content not in read) == []
    dispositions = {read_scan(t.content).tote.disposition for t in totes}
    assert dispositions == set(TOTE_WORDS)
    assert read_scan("TOTE-REFURB-0002").tote.disposition == "refurbish"
    assert read_scan("]C0TOTE-SCRAP-0001").tote.disposition == "dispose"  # with its AIM identifier
    assert read_scan("5901732000014").tote is None and read_scan("TOTE-PALLET-1").tote is None


def test_labels_command_takes_the_number_of_totes(tmp_path):
    def pages(totes: str) -> int:
        out = tmp_path / f"labels-{totes}.pdf"
        result = subprocess.run([*STATION, "erp", "labels", "--out", str(out), "--totes", totes],
                                capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return int(re.search(r"Wrote (\d+) pages", result.stdout)[1])

    assert pages("12") > pages("0")  # 60 more labels: more pages
