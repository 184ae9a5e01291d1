"""The ``csc-finance`` command line (also ``python -m analysis``).

Commands:

* ``validate``: check every raw file against its recorded hash and its schema (seed tables,
  published statistics, a council's own monthly extracts when present) and the scenario, and
  write the validated seed tables to ``data/processed/validated/``;
* ``reconcile``: check whether the published tables add up, print and write the findings.

A user mistake prints one paragraph per problem and exits with status 2, without a Python
traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from analysis import __version__
from analysis.errors import InputError
from analysis.external import load_external
from analysis.external import source_paths as external_source_paths
from analysis.loaders import SEED_TABLES, load_seed_tables
from analysis.localdata import load_local_extracts
from analysis.paths import display_path, processed_dir, seed_dir
from analysis.provenance import verify_raw_manifest
from analysis.reconcile import format_findings, reconcile_seed_tables
from analysis.scenario import load_scenario
from analysis.store import write_table

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT_ERROR = 2


def _seed_inputs() -> list:
    return [seed_dir() / file_name for file_name, _loader in SEED_TABLES.values()]


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every input, reporting the problems of all of them together."""
    problems = verify_raw_manifest()
    tables: dict = {}
    checks = (
        ("seed tables", lambda: tables.update(load_seed_tables())),
        ("published statistics", load_external),
        ("local extracts", load_local_extracts),
        ("scenario", lambda: load_scenario(args.scenario)),
    )
    for _name, check in checks:
        try:
            check()
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    folder = processed_dir() / "validated"
    for name, frame in tables.items():
        write_table(frame.reset_index(), folder / f"{name}.csv", _seed_inputs())
    scenario = load_scenario(args.scenario)
    print("All raw files match data/raw/manifest.csv.")
    for name, frame in tables.items():
        print(f"  {name}: {len(frame)} rows valid -> {display_path(folder / f'{name}.csv')}")
    print(f"  published statistics: {len(external_source_paths())} files valid")
    print(f"  {load_local_extracts().describe()}")
    print(f"  scenario '{scenario.name}' ({display_path(scenario.path)}) is valid")
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Reconcile every published table and report each difference."""
    findings = reconcile_seed_tables(load_seed_tables())
    path = write_table(findings, processed_dir() / "reconciliation_findings.csv", _seed_inputs())
    print(format_findings(findings))
    print(f"\nFindings written to {display_path(path)}.")
    differs = int((findings["status"] == "differs").sum())
    return EXIT_FINDINGS if args.strict and differs else EXIT_OK


Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="csc-finance",
        description="Children's social care finance: validate and reconcile published tables, "
        "model demand and Target Operating Model costs, and publish monthly committee packs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check every raw file against its schema and recorded SHA-256",
        description="Check every raw file against data/raw/manifest.csv and each seed table "
        "against its declared schema; write the validated tables to data/processed/validated/. "
        "Exits 2 and names file, row, column, value and expectation for each problem.",
    )
    validate.add_argument(
        "--scenario", default=None, help="scenario file to check (default scenarios/base.yaml)"
    )
    validate.set_defaults(handler=cmd_validate)

    reconcile = commands.add_parser(
        "reconcile",
        help="check whether the published tables add up",
        description="Check totals against their rows, funding against true cost, and the budget "
        "trajectory's openings, movements, closings and variances, within the printed rounding. "
        "Prints the findings and writes data/processed/reconciliation_findings.csv.",
    )
    reconcile.add_argument(
        "--strict", action="store_true", help="exit with status 1 when any published figure differs"
    )
    reconcile.set_defaults(handler=cmd_reconcile)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except InputError as exc:
        if args.debug:
            raise
        print(exc.report(), file=sys.stderr)
        return EXIT_INPUT_ERROR
    except BrokenPipeError:
        # The reader (for example `head`) closed the pipe: not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return EXIT_OK
    except KeyboardInterrupt:
        print("Interrupted; nothing half-written was published.", file=sys.stderr)
        return 130
