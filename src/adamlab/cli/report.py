"""``adamlab report DIR``: rebuild report.md and report.html from existing records."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="build report.md and a self-contained report.html from records (no re-run)",
        description=(
            "Read the records of an `adamlab run` or `adamlab sweep` output folder and write "
            "its figures, runtime ECDFs, performance profile, animations, report.md and "
            "report.html (opens offline: figures embedded, animations beside it)."
        ),
    )
    parser.add_argument("directory", type=Path, help="an adamlab run or sweep output folder")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from adamlab.report.html import write_report

    if not args.directory.is_dir():
        raise ValueError(f"not a directory: {args.directory}")
    written = write_report(args.directory)
    print(f"wrote {len(written)} files; open {args.directory / 'report.html'}")
    return 0
