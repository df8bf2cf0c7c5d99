"""The `clearway` command: serve, one-shot detect, database, keys, users, model and site management, reports."""

from __future__ import annotations

import argparse
import sys

from service.cli import accounts, detect, people, reports, retention, service_commands, site_commands
from service.cli.common import fail
from service.config.settings import get_settings
from service.config.site import SiteConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clearway", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    service_commands.add_commands(sub)
    detect.add_commands(sub)
    accounts.add_commands(sub)
    site_commands.add_commands(sub)
    people.add_commands(sub)
    reports.add_commands(sub)
    retention.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, get_settings())
    except SiteConfigError as exc:
        return fail(str(exc))
    except FileNotFoundError as exc:
        return fail(str(exc))
    except Exception as exc:
        from service.modelbuild.install import ModelInstallError
        from service.vision.decoding import ImageRejectedError
        from service.vision.detector import ModelNotFoundError

        if isinstance(exc, ModelNotFoundError | ImageRejectedError | ModelInstallError):
            return fail(str(exc))
        raise


if __name__ == "__main__":
    sys.exit(main())
