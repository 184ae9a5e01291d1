"""The ``csc-finance`` command line (also ``python -m analysis``).

Commands:

* ``validate``: check every raw file against its recorded hash and its schema (seed tables,
  published statistics, a council's own monthly extracts when present) and the scenario, and
  write the validated seed tables to ``data/processed/validated/``;
* ``reconcile``: check whether the published tables add up, print and write the findings;
* ``pack``: run every notebook for a reporting month (or a batch of months) and publish the
  monthly pack, all or nothing (exit status 1 when a month failed);
* ``verify``: re-check a published pack against the SHA-256 of its inputs (exit status 1 when
  something changed since).

A user mistake prints one paragraph per problem and exits with status 2, without a Python
traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from analysis import __version__
from analysis.errors import InputError, Problem
from analysis.external import load_external
from analysis.external import source_paths as external_source_paths
from analysis.loaders import SEED_TABLES, load_seed_tables
from analysis.localdata import load_local_extracts
from analysis.pack import (
    DEFAULT_CELL_TIMEOUT_S,
    PackError,
    PackOptions,
    format_verification,
    month_range,
    resolve_month,
    run_batch,
    run_pack,
    summarise_batch,
    verify_pack,
)
from analysis.paths import display_path, notebooks_dir, processed_dir, reports_dir, seed_dir
from analysis.provenance import verify_raw_manifest
from analysis.reconcile import format_findings, reconcile_seed_tables
from analysis.scenario import load_scenario
from analysis.store import write_table

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT_ERROR = 2
EXIT_PACK_FAILED = 1
EXIT_CHANGED = 1


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


def _interrupt_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _pack_months(args: argparse.Namespace) -> list:
    if args.month is not None and (args.first is not None or args.last is not None):
        raise InputError(
            [
                Problem(
                    file="the pack command",
                    expected="either --month, or --from with --to, not both",
                    has_value=False,
                )
            ]
        )
    if args.month is not None:
        return [resolve_month(args.month, source="--month")]
    if args.first is None or args.last is None:
        raise InputError(
            [
                Problem(
                    file="the pack command",
                    expected="--month YYYY-MM (or '2024-25 P3', or latest), or both --from and "
                    "--to for a batch of months",
                    has_value=False,
                )
            ]
        )
    return month_range(
        resolve_month(args.first, source="--from"), resolve_month(args.last, source="--to")
    )


def cmd_pack(args: argparse.Namespace) -> int:
    """Run the monthly pack for one month or a batch of months."""
    # A stopped run (SIGTERM from a scheduler) cleans up like Ctrl-C: nothing half-published.
    previous_handler = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        return _run_pack_command(args)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _run_pack_command(args: argparse.Namespace) -> int:
    months = _pack_months(args)
    if args.la is not None and args.la.strip().lower() == "all":
        return _run_all_councils_command(args, months)
    options = PackOptions(
        reports_root=args.out,
        notebooks_folder=args.notebooks,
        scenario_path=args.scenario,
        la_code=args.la,
        cell_timeout_s=args.timeout,
    )
    if args.month is not None:
        try:
            result = run_pack(months[0], options)
        except PackError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_PACK_FAILED
        print(f"Open {display_path(result.folder / 'index.html')} in a browser.")
        return EXIT_OK
    outcomes = run_batch(months, options, jobs=args.jobs)
    print(summarise_batch(outcomes))
    return EXIT_OK if all(o.published for o in outcomes) else EXIT_PACK_FAILED


def _run_all_councils_command(args: argparse.Namespace, months: list) -> int:
    """``--la all``: every council's pack for each month, and an index across councils."""
    from analysis.batch import run_all_councils, summarise_councils

    options = PackOptions(
        reports_root=args.out,
        notebooks_folder=args.notebooks,
        scenario_path=args.scenario,
        cell_timeout_s=args.timeout,
    )
    failed = False
    for month in months:
        outcomes = run_all_councils(month, options, jobs=args.jobs, scheduler=args.scheduler)
        print(summarise_councils(outcomes))
        failed = failed or not all(o.published for o in outcomes)
    return EXIT_PACK_FAILED if failed else EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Re-check a published pack against its recorded inputs."""
    result = verify_pack(args.pack)
    print(format_verification(result))
    return EXIT_CHANGED if result.changes else EXIT_OK


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

    pack = commands.add_parser(
        "pack",
        help="run every notebook for a month and publish the pack (all or nothing)",
        description="Run every notebook in notebooks/ (01_..., 02_..., in order) for a reporting "
        "month and publish offline HTML reports, an index page, the executed notebooks and an "
        "Excel workbook in reports/<YYYY-MM>/. Nothing is published unless every notebook "
        "succeeds; a failure names the notebook and cell and exits 1.",
    )
    pack.add_argument(
        "--month",
        help="the reporting month: YYYY-MM, a financial period such as '2024-25 P3' "
        "(P1 = April), or 'latest' (the latest month the bundled data support)",
    )
    pack.add_argument("--from", dest="first", help="first month of a batch (with --to)")
    pack.add_argument("--to", dest="last", help="last month of a batch (with --from)")
    pack.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="months to run at once in a batch (default: the number of cores)",
    )
    pack.add_argument("--scenario", default="", help="scenario file (default scenarios/base.yaml)")
    pack.add_argument(
        "--la",
        default=None,
        help="ONS code of the local authority, for notebooks about one council "
        "(default: each notebook's own, E09000002 Barking and Dagenham); 'all' runs every "
        "English council in the bundled data into <out>/councils/ with an index across them",
    )
    pack.add_argument(
        "--scheduler",
        default=None,
        help="with --la all: the address of a Dask distributed scheduler (tcp://host:8786) to "
        "run the councils on a cluster instead of this machine's cores",
    )
    pack.add_argument(
        "--out", type=Path, default=reports_dir(), help="folder of packs (default reports/)"
    )
    pack.add_argument(
        "--notebooks",
        type=Path,
        default=notebooks_dir(),
        help="folder of notebooks to run (default notebooks/)",
    )
    pack.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_CELL_TIMEOUT_S,
        help=f"seconds one notebook cell may run (default {DEFAULT_CELL_TIMEOUT_S})",
    )
    pack.set_defaults(handler=cmd_pack)

    verify = commands.add_parser(
        "verify",
        help="re-check a published pack against its inputs",
        description="Recompute the SHA-256 of every input, scenario file and pack file recorded "
        "in reports/<YYYY-MM>/pack.json and say which changed since the pack was made. Exits 1 "
        "when anything changed.",
    )
    verify.add_argument("pack", type=Path, help="the pack's folder, e.g. reports/2025-03")
    verify.set_defaults(handler=cmd_verify)
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
