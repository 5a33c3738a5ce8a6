"""Evidence packs for claims and disputes: one PDF per return built from the ERP's records (the
photos, grade, checklist answers, disposition, rule and rules version, refund, people, stations
and times of every inspected unit, and the return's approvals), holding the SHA-256 of every photo
and of the pack's own content.

The content is a canonical JSON manifest (:func:`manifest`: everything the pack shows, each photo
by its SHA-256); its hash (:func:`content_sha256`) names the pack. :func:`build_pdf` is
deterministic (reportlab ``invariant=True``): the same records give the same bytes.
:func:`changes` compares a recorded manifest with one gathered now and names each part that changed.

Pure: no ERP, no Flet. ``gathered`` is the answer of the ERP's ``returns.station.evidence.gather``
(sync/erp/tryton/modules/returns_station/evidence.py).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any, Protocol

MANIFEST_VERSION = 1


def photos_of(gathered: dict[str, Any]) -> dict[str, bytes]:
    """Every photo's bytes by their SHA-256."""
    found = {}
    for unit in gathered.get("units", []):
        for photo in unit.get("photos", []):
            data = base64.b64decode(photo.get("data") or "")
            found[hashlib.sha256(data).hexdigest()] = data
    return found


def manifest(gathered: dict[str, Any]) -> dict[str, Any]:
    """Everything the pack shows, photos by SHA-256 (of their bytes now, beside the name the
    station gave them: the SHA-256 it sent)."""
    units = []
    for unit in gathered.get("units", []):
        entry = {k: v for k, v in unit.items() if k != "photos"}
        entry["photos"] = [
            {
                "name": photo.get("name"),
                "sha256": hashlib.sha256(base64.b64decode(photo.get("data") or "")).hexdigest(),
            }
            for photo in unit.get("photos", [])
        ]
        units.append(entry)
    return {
        "version": MANIFEST_VERSION,
        "return": gathered.get("return"),
        "received": gathered.get("received"),
        "units": units,
        "approvals": gathered.get("approvals", []),
    }


def canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


def unit_label(index: int, unit: dict[str, Any]) -> str:
    what = unit.get("product") or unit.get("reference") or f"inspection {unit.get('inspection_id')}"
    lot = f" {unit['lot']}" if unit.get("lot") else ""
    return f"unit {index} ({what}{lot})"


def changes(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the pack's manifest and the records now, one sentence per part."""
    found: list[str] = []
    for key in ("return", "received"):
        _compare(found, key, recorded.get(key), now.get(key))
    old_units, new_units = recorded.get("units", []), now.get("units", [])
    for index, old in enumerate(old_units, 1):
        label = unit_label(index, old)
        if index > len(new_units):
            found.append(f"{label} is no longer in the ERP")
            continue
        new = new_units[index - 1]
        for key in sorted(set(old) | set(new)):
            if key == "photos":
                continue
            _compare(found, f"{label} {key}", old.get(key), new.get(key))
        old_photos, new_photos = old.get("photos", []), new.get("photos", [])
        for number, photo in enumerate(old_photos, 1):
            if number > len(new_photos):
                found.append(f"photo {number} of {label} is gone: sha {photo['sha256']}")
            elif new_photos[number - 1]["sha256"] != photo["sha256"]:
                now_sha = new_photos[number - 1]["sha256"]
                found.append(f"photo {number} of {label} changed: sha {photo['sha256']} now {now_sha}")
        for number in range(len(old_photos) + 1, len(new_photos) + 1):
            found.append(f"photo {number} of {label} was added: sha {new_photos[number - 1]['sha256']}")
    for index in range(len(old_units) + 1, len(new_units) + 1):
        found.append(f"{unit_label(index, new_units[index - 1])} was added")
    _compare(found, "approvals", recorded.get("approvals"), now.get("approvals"))
    return found


def _compare(found: list[str], label: str, old: Any, new: Any) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _compare(found, f"{label} {key}", old.get(key), new.get(key))
    elif old != new:
        found.append(f"{label} changed: {_short(old)} now {_short(new)}")


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


def build_pdf(content: dict[str, Any], photos: dict[str, bytes]) -> bytes:
    """The pack as PDF bytes: the same content and photos give the same bytes."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    digest = content_sha256(content)
    ret = content.get("return") or {}
    title = f"Evidence pack {ret.get('rma') or ret.get('number')}"
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    mono = styles["Code"].clone("mono", fontSize=7, leading=9)

    def para(text: Any, style=small) -> Paragraph:
        return Paragraph(escape("" if text is None else str(text)), style)

    def table(rows: list[tuple[str, Any]]) -> Table:
        data = [[para(k), para(v if not isinstance(v, (dict, list)) else _pretty(v))] for k, v in rows]
        t = Table(data, colWidths=[40 * mm, 130 * mm])
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ]
            )
        )
        return t

    def who(marker: dict[str, Any] | None) -> str:
        if not marker:
            return "not recorded in the ERP"
        where = f"{marker.get('user')} at station {marker.get('station')}, {marker.get('at')}"
        return f"{where} (operation {marker.get('operation')})"

    story: list[Any] = [Paragraph(escape(title), styles["Title"])]
    story.append(para(f"Content SHA-256: {digest}", mono))
    story.append(Spacer(1, 4 * mm))
    story.append(
        table(
            [
                ("RMA", ret.get("rma")),
                ("Return", ret.get("number")),
                ("Order", ret.get("order")),
                ("Customer", ret.get("customer")),
                ("Reason", ret.get("reason")),
                ("State", ret.get("state")),
                ("Planned / done", f"{ret.get('planned_date')} / {ret.get('effective_date')}"),
                ("Received", who(content.get("received"))),
            ]
        )
    )
    for index, unit in enumerate(content.get("units", []), 1):
        story.append(Spacer(1, 5 * mm))
        story.append(Paragraph(escape(unit_label(index, unit).capitalize()), styles["Heading2"]))
        version = unit.get("rules_version") or "not recorded in the ERP"
        story.append(
            table(
                [
                    ("Grade", unit.get("grade")),
                    ("Checklist", unit.get("checklist")),
                    ("Disposition", unit.get("disposition")),
                    ("Location", unit.get("location")),
                    ("Rule", f"{unit.get('rule')} (rules version {version})"),
                    ("Refund", unit.get("refund")),
                    ("Note", unit.get("note")),
                    ("Inspection", f"{unit.get('reference')} ({unit.get('state')})"),
                    ("Inspected by", who(unit.get("inspected"))),
                ]
            )
        )
        for number, photo in enumerate(unit.get("photos", []), 1):
            story.append(Spacer(1, 2 * mm))
            story.append(para(f"Photo {number} SHA-256: {photo['sha256']}", mono))
            data = photos.get(photo["sha256"])
            try:
                image = Image(io.BytesIO(data or b""), width=60 * mm, height=45 * mm, kind="proportional")
                image.hAlign = "LEFT"
                image._restrictSize(60 * mm, 45 * mm)
                story.append(image)
            except Exception:  # an unreadable image is still listed by its hash
                story.append(para("(this photo cannot be drawn)"))
    approvals = content.get("approvals") or []
    story.append(Spacer(1, 5 * mm))
    story.append(Paragraph("Approvals", styles["Heading2"]))
    if not approvals:
        story.append(para("none"))
    for approval in approvals:
        story.append(
            table(
                [
                    (
                        "Request",
                        f"{approval.get('request')} ({approval.get('kind')}, {approval.get('state')})",
                    ),
                    ("Rule", approval.get("rule")),
                    ("Reason", approval.get("reason")),
                    (
                        "Requested",
                        f"{approval.get('requested_by')} at {approval.get('station')}, "
                        f"{approval.get('requested_at')}",
                    ),
                    ("Decided", f"{approval.get('decided_by')}, {approval.get('decided_at')}"),
                    ("Note", approval.get("note")),
                ]
            )
        )
        story.append(Spacer(1, 2 * mm))

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 10 * mm, f"{title} - content SHA-256 {digest} - page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        invariant=True,
        title=title,
        subject=f"content sha256 {digest}",
        author="Returns Station",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _pretty(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_pretty(v)}" for k, v in sorted(value.items())) or "-"
    if isinstance(value, list):
        return ", ".join(_pretty(v) for v in value) or "-"
    return str(value)


class EvidenceError(Exception):
    """A pack that cannot be built or verified, in the reader's words."""


class EvidenceSource(Protocol):
    """Where packs come from and go: sync's connector (``Connector.request``, raising ErpError)."""

    def request(self, method: str, *args: Any, timeout: float | None = None) -> Any: ...


GATHER = "returns.station.evidence.gather"
ATTACH = "returns.station.evidence.attach"


def make_pack(erp: EvidenceSource, rma: str) -> tuple[bytes, str, dict[str, Any]]:
    """Build the pack of ``rma`` from the ERP's records and attach it there (once per content):
    ``(pdf, content_sha256, the ERP's answer)``."""
    gathered = erp.request(GATHER, rma)
    if not gathered.get("units"):
        raise EvidenceError(f"return {rma} has no inspected unit in the ERP yet: nothing to put in a pack")
    content = manifest(gathered)
    for index, unit in enumerate(content["units"], 1):
        for number, photo in enumerate(unit["photos"], 1):
            if photo["name"] != photo["sha256"]:
                raise EvidenceError(
                    f"photo {number} of {unit_label(index, unit)} in the ERP does not match the hash the "
                    f"station sent: sha {photo['name']} now {photo['sha256']}"
                )
    pdf = build_pdf(content, photos_of(gathered))
    digest = content_sha256(content)
    answer = erp.request(ATTACH, rma, digest, base64.b64encode(pdf).decode("ascii"), canonical(content))
    return pdf, digest, answer


def verify_pack(erp: EvidenceSource, rma: str, pdf: bytes | None = None) -> tuple[str | None, list[str]]:
    """Recompute a pack's hashes against the ERP's records now: ``(content_sha256, problems)``;
    no problem means nothing changed. ``pdf``: the pack to check (else the latest attached)."""
    gathered = erp.request(GATHER, rma)
    packs = gathered.get("packs") or []
    if not packs:
        raise EvidenceError(
            f"return {rma} has no evidence pack in the ERP (build one: station evidence {rma})"
        )
    if pdf is not None:
        file_sha = hashlib.sha256(pdf).hexdigest()
        pack = next((p for p in packs if p.get("file_sha256") == file_sha), None)
        if pack is None:
            return None, [
                f"this file is not a pack attached to {rma}: its SHA-256 {file_sha} is none the ERP recorded "
                "(the file was altered, or it belongs to another return)"
            ]
    else:
        pack = packs[-1]
    problems = []
    recorded_text = pack["manifest"]
    now = hashlib.sha256(recorded_text.encode("utf-8")).hexdigest()
    if now != pack["content_sha256"]:
        return pack["content_sha256"], [
            f"the pack's manifest in the ERP was altered: sha {pack['content_sha256']} now {now}"
        ]
    if pack.get("file_sha256_now") != pack.get("file_sha256"):
        problems.append(
            f"the pack's PDF in the ERP changed: sha {pack.get('file_sha256')} "
            f"now {pack.get('file_sha256_now')}"
        )
    problems += changes(json.loads(recorded_text), manifest(gathered))
    return pack["content_sha256"], problems
