"""``station evidence RMA [--out FILE.pdf]`` builds a return's evidence pack from the ERP's records
and attaches it there; ``station evidence --verify RMA [FILE.pdf]`` checks a pack against the ERP."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import CommandError, add_station_options, station_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    evidence = subparsers.add_parser(
        "evidence",
        help="build a return's evidence pack (PDF: photos, grades, checklists, dispositions, rules, "
        "refunds, people, stations, times, SHA-256 of each photo and of the pack) and attach it in "
        "the ERP; --verify: check a pack against the ERP's records",
        description="Without --verify: build the pack of RMA from the ERP's records, attach it to the "
        "return in the ERP (once per content) and write it to --out (default evidence-RMA.pdf). With "
        "--verify: recompute every hash against the ERP now and name each part that changed; exit "
        "status 0 when nothing changed, 1 when something did.",
    )
    evidence.add_argument("rma", metavar="RMA", help="the return's RMA or return number, e.g. RMA-000101")
    evidence.add_argument(
        "file",
        nargs="?",
        metavar="FILE.pdf",
        help="with --verify: the pack to check (default: the latest attached)",
    )
    evidence.add_argument(
        "--out", metavar="FILE.pdf", help="where to write the pack (default evidence-RMA.pdf)"
    )
    evidence.add_argument("--verify", action="store_true", help="check a pack against the ERP's records")
    add_station_options(evidence)
    evidence.set_defaults(handler=_evidence)


def _evidence(args: argparse.Namespace) -> int:
    from app.evidence import EvidenceError, make_pack, verify_pack
    from sync.engine import connector_for
    from sync.erp.protocol import ErpError

    settings = station_settings(args)
    if args.file and not args.verify:
        raise CommandError("a FILE is read only with --verify; to choose where the pack goes, use --out")
    pdf = None
    if args.verify and args.file:
        try:
            pdf = Path(args.file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    connector = connector_for(settings.erp)
    try:
        if args.verify:
            digest, problems = verify_pack(connector, args.rma, pdf)
            if not problems:
                print(f"{args.rma}: evidence pack {digest} verified: nothing changed in the ERP")
                return 0
            print(f"{args.rma}: evidence pack {digest or '?'} does NOT verify:")
            for problem in problems:
                print(f"  {problem}")
            return 1
        pdf_bytes, digest, answer = make_pack(connector, args.rma)
    except EvidenceError as exc:
        raise CommandError(str(exc)) from None
    except ErpError as exc:
        raise CommandError(str(exc)) from None
    finally:
        connector.close()
    out = Path(args.out or f"evidence-{args.rma}.pdf")
    try:
        out.write_bytes(pdf_bytes)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror}") from None
    already = " (already attached)" if answer.get("status") == "already" else ""
    print(f"{args.rma}: evidence pack {digest} written to {out}, attached in the ERP{already}")
    print(f"  file sha256 {answer.get('file_sha256')}", file=sys.stderr)
    return 0
