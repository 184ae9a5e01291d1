"""Time the all-LA demand backtest and forecast; regenerate docs/forecast_accuracy.md.

Backtests every method on every English LA's series of each published measure
(:func:`analysis.demand.backtest_all`), chooses each measure's method from it, then forecasts
every LA and measure with the chosen method (and, as a worst case, with damped Holt for every
measure). Each run is timed on the wall clock and in CPU seconds (this process plus its worker
processes), for each number of worker processes asked for.

Writes ``benchmarks/results/forecast.json`` and prints the Markdown section for
``docs/performance.md``. With ``--write-docs`` it also writes ``docs/forecast_accuracy.md``
(from the first run's backtest). The notebooks do not read anything this script writes: they
compute the all-LA backtest of their reporting month's figures themselves
(:func:`analysis.demand_caseload.all_la_accuracy`).

Run: ``python benchmarks/bench_forecast.py [--workers 1 2] [--methods ...] [--write-docs]``
"""

from __future__ import annotations

import os

# Before numpy loads: OpenBLAS reads its thread count once. The forecasts fit in this process,
# and with OpenBLAS's default threads a statsmodels fit took ten times longer on 2 busy cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import platform
from datetime import UTC, datetime

import pandas as pd
from timing import timed, write_figures

from analysis import demand, external
from analysis.paths import project_root
from analysis.store import atomic_write_text


def _run(
    tidy: pd.DataFrame,
    measures: list[str],
    methods: list[str],
    workers: int,
    horizon: int,
    max_origins: int,
) -> dict:
    load_before = os.getloadavg()[0]
    accuracy, backtest_s, backtest_cpu = timed(
        lambda: demand.backtest_all(
            tidy, measures, horizon, methods=methods, max_origins=max_origins, workers=workers
        )
    )
    chosen = demand.choose_methods(accuracy)
    # forecast_all's default, one process: one fit per series does not repay starting workers
    forecasts, forecast_s, forecast_cpu = timed(lambda: demand.forecast_all(tidy, chosen, horizon))
    damped = dict.fromkeys(measures, "damped_holt")
    _, damped_s, damped_cpu = timed(lambda: demand.forecast_all(tidy, damped, horizon))
    # what two idle cores would take: the backtest's CPU seconds shared by its workers, then
    # the forecast in one process (CPU seconds on a busy machine run a little high, so this
    # errs on the slow side)
    idle_estimate = backtest_cpu / min(workers, os.cpu_count() or 1) + forecast_cpu
    return {
        "workers": workers,
        "load_average_1min_before": load_before,
        "load_average_1min_after": os.getloadavg()[0],
        "estimate_idle_cores_s": idle_estimate,
        "backtest_s": backtest_s,
        "backtest_cpu_s": backtest_cpu,
        "forecast_chosen_s": forecast_s,
        "forecast_chosen_cpu_s": forecast_cpu,
        "forecast_damped_holt_s": damped_s,
        "forecast_damped_holt_cpu_s": damped_cpu,
        "backtest_and_forecast_s": backtest_s + forecast_s,
        "series_backtested": int(accuracy.groupby(["measure", "la_code"]).ngroups),
        "method_scores": len(accuracy),
        "forecast_rows": len(forecasts),
        "chosen": chosen,
        "_accuracy": accuracy,
    }


def _sources(tidy: pd.DataFrame) -> str:
    rows = tidy[tidy["measure"].isin(demand.PUBLISHED_MEASURES)]
    rows = rows[rows["geographic_level"] == external.LOCAL_AUTHORITY]
    files = rows["source_file"].astype(str).unique()
    folders = sorted({"/".join(f.split("/")[:2]) for f in files})
    return (
        f"the DfE's published LA-level statistics in `data/raw/` (reporting years "
        f"{rows['year'].min()} to {rows['year'].max()}; {len(files)} files under "
        f"{' and '.join(f'`{f}/`' for f in folders)}), read by "
        "`analysis.external.load_external`."
    )


def _write_docs(
    tidy: pd.DataFrame, accuracy: pd.DataFrame, horizon: int, max_origins: int, workers: int | None
) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    if workers is None:
        how = f"--docs-only` on {today}"
    else:
        processes = "one process" if workers == 1 else f"{workers} worker processes"
        how = f"--write-docs` on {today} (backtest in {processes})"
    page = demand.accuracy_markdown(
        accuracy,
        demand.choose_methods(accuracy),
        horizon=horizon,
        max_origins=max_origins,
        sources=_sources(tidy),
        generated_by=f"`python benchmarks/bench_forecast.py {how}",
    )
    atomic_write_text(project_root() / "docs" / "forecast_accuracy.md", page)


def _section(figures: dict) -> str:
    runs = figures["runs"]
    first = runs[0]
    lines = [
        "## Demand forecasting (`benchmarks/bench_forecast.py`)",
        "",
        f"Rolling-origin backtest of every method ({', '.join(figures['methods'])}) on every "
        f"English LA's series of {len(figures['measures'])} published measures "
        f"({first['series_backtested']} series; horizon {figures['horizon']} years, the latest "
        f"{figures['max_origins']} origins per series), the choice of method per measure, and "
        "a forecast for every LA and measure (in one process). Load average "
        f"{figures['load_average_1min']:.1f} on {figures['cpus']} cores while measuring (other "
        "jobs shared the machine, so the wall times are pessimistic; CPU seconds include the "
        "worker processes).",
        "",
        "| step | backtest workers | wall s | CPU s |",
        "|---|---:|---:|---:|",
    ]
    for run in runs:
        lines += [
            f"| backtest, every LA, measure and method | {run['workers']} "
            f"| {run['backtest_s']:.1f} | {run['backtest_cpu_s']:.1f} |",
            f"| forecast, every LA and measure, chosen methods | {run['workers']} "
            f"| {run['forecast_chosen_s']:.1f} | {run['forecast_chosen_cpu_s']:.1f} |",
            f"| forecast, every LA and measure, damped Holt (worst case) | {run['workers']} "
            f"| {run['forecast_damped_holt_s']:.1f} | {run['forecast_damped_holt_cpu_s']:.1f} |",
        ]
    for run in runs:
        total = run["backtest_and_forecast_s"]
        estimate = run["estimate_idle_cores_s"]
        processes = "in one process" if run["workers"] == 1 else f"with {run['workers']} workers"
        lines += [
            "",
            f"Backtest plus forecast {processes}: {total:.1f} s on the wall clock of the busy "
            f"machine; from the CPU seconds, about {estimate:.0f} s on "
            f"{min(run['workers'], figures['cpus'])} idle core(s), "
            f"{'within' if estimate < 60 else 'over'} the 60 s target.",
        ]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="backtest worker processes to time, in turn (the first run writes the docs)",
    )
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--max-origins", type=int, default=5)
    parser.add_argument("--measures", nargs="+", default=list(demand.PUBLISHED_MEASURES))
    parser.add_argument(
        "--methods",
        nargs="+",
        default=[m for m in demand.METHODS if m != "seasonal_naive"],
        help="methods to backtest (the default is every method for annual series)",
    )
    parser.add_argument("--output", default="forecast.json", help="file in benchmarks/results")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--docs-only",
        action="store_true",
        help="rewrite docs/forecast_accuracy.md from a fresh all-LA backtest, without timing",
    )
    args = parser.parse_args(argv)
    tidy = external.load_external()
    if args.docs_only:
        accuracy = demand.backtest_all(
            tidy, args.measures, args.horizon, methods=args.methods, max_origins=args.max_origins
        )
        _write_docs(tidy, accuracy, args.horizon, args.max_origins, workers=None)
        return 0
    runs = [
        _run(tidy, args.measures, args.methods, workers, args.horizon, args.max_origins)
        for workers in args.workers
    ]
    accuracy = runs[0].pop("_accuracy")
    for run in runs[1:]:
        run.pop("_accuracy")
    figures = {
        "measures": args.measures,
        "methods": args.methods,
        "horizon": args.horizon,
        "max_origins": args.max_origins,
        "runs": runs,
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    write_figures(args.output, figures)
    if args.write_docs:
        _write_docs(tidy, accuracy, args.horizon, args.max_origins, runs[0]["workers"])
    print(_section(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
