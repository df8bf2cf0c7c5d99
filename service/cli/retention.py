"""`clearway hazards hold|release` (legal hold: retention never deletes what the hazard keeps) and
`clearway retention run` (one clean-up round now, e.g. while the disk is low). docs/retention.md."""

from __future__ import annotations

import argparse
import json

from service.cli.common import database_with_site, fail
from service.config.settings import Settings


def cmd_hazard_hold(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.audit import audit
    from service.store.evidence import EvidenceStore
    from service.store.hazard_writer import HazardWriter
    from service.store.retention import set_legal_hold

    held = args.hazards_command == "hold"
    actor = f"cli:{args.by}"
    db = database_with_site(settings)
    try:
        with db.session() as session:
            writer = HazardWriter(EvidenceStore(settings.evidence_dir))  # no outbox: a hold is not delivered
            changed = set_legal_hold(session, writer, args.hazard_id, held, actor, args.reason)
            if changed:
                action = "hazard.legal_hold" if held else "hazard.legal_hold_released"
                audit(session, None, action, "hazard", args.hazard_id, args.reason, actor=actor)
    except LookupError as exc:
        return fail(str(exc))
    finally:
        db.dispose()
    state = "under legal hold" if held else "no longer under legal hold"
    print(f"hazard {args.hazard_id} {state}" + ("" if changed else " (unchanged)"))
    return 0


def cmd_retention_run(args: argparse.Namespace, settings: Settings) -> int:
    from service.config.site import load_site
    from service.runtime import retention_policy, scheduled
    from service.store.evidence import EvidenceStore
    from service.store.hazard_writer import HazardWriter
    from service.store.retention import RetentionJob

    db = database_with_site(settings)
    site = load_site(settings.site_file)
    try:
        job = RetentionJob(
            db,
            HazardWriter(EvidenceStore(settings.evidence_dir)),
            retention_policy(settings),
            scheduled_reports=lambda: scheduled(site),
        )
        run = job.run_once()
    finally:
        db.dispose()
    print(json.dumps({"rows": run.rows, "files": run.files, "bytes_freed": run.bytes_freed, "complete": run.complete}))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    hazards = sub.add_parser("hazards", help="hazards: legal hold").add_subparsers(
        dest="hazards_command", required=True
    )
    for name, text in (("hold", "put a hazard under legal hold"), ("release", "lift a hazard's legal hold")):
        command = hazards.add_parser(name, help=text)
        command.add_argument("hazard_id", type=int)
        command.add_argument("--reason", required=True, help="why (kept in the hazard's history)")
        command.add_argument("--by", required=True, help="who asked (a person or an office)")
        command.set_defaults(func=cmd_hazard_hold)
    retention = sub.add_parser("retention", help="the clean-up").add_subparsers(dest="retention_command", required=True)
    retention.add_parser("run", help="one clean-up round now (docs/retention.md)").set_defaults(func=cmd_retention_run)
