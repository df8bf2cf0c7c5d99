"""`clearway site check`: validate a site file before serving it.

Exit 0: the file can be served (warnings, if any, on stderr); exit 2: it cannot, and every problem is listed
on stderr with its path (the SiteConfigError reaches `clearway`'s main, which prints it); `--strict` makes a
warning exit 1, for a CI job that wants a clean file.
"""

from __future__ import annotations

import argparse
import sys

from service.config.settings import Settings
from service.config.site import load_site
from service.config.site_warnings import site_warnings


def cmd_site_check(args: argparse.Namespace, settings: Settings) -> int:
    site = load_site(args.site or settings.site_file)
    warnings = site_warnings(site)
    zones = sum(len(c.zones) for c in site.cameras)
    counts = f"{len(site.agencies)} agencies, {len(site.compounds)} compounds, {len(site.cameras)} cameras"
    noted = f" ({len(warnings)} warning{'' if len(warnings) == 1 else 's'})" if warnings else ""
    print(f"ok{noted}: {counts}, {zones} zones")
    for camera in site.cameras:
        if camera.calibration is not None:
            print(f"  {camera.id}: ground calibration, {camera.calibration.report()}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 1 if warnings and args.strict else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    site = sub.add_parser("site", help="site file").add_subparsers(dest="site_command", required=True)
    check = site.add_parser("check", help="validate a site file: every problem at once, then warnings")
    check.add_argument("site", nargs="?")
    check.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    check.set_defaults(func=cmd_site_check)
