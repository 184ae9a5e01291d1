"""CPU cost of the pack's charts: each notebook's code run as its kernel runs it (IPython, the
inline backend, the house style's SVG output), with each chart's layout and rendering timed.

Each notebook runs in a process of its own, as in its own kernel (the analysis modules keep
caches). Per notebook: the CPU seconds of every cell after the imports cell (the notebook's own
work, what the pack costs above its floor) and of the cells that draw charts. Per chart: the
layout (``analysis.charts.fit_margins``, which works out the tick labels and fixes each axis to the
ticks it shows; the draw then makes those ticks, so part of their cost counts as rendering),
the rendering to SVG (the notebook's display formatter) and the SVG's size. Figures go to
``benchmarks/results/charts.json``; the Markdown table is printed for ``docs/performance.md``.

Run: ``python benchmarks/bench_charts.py [--month 2025-03] [notebooks/01_....ipynb ...]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# as the pack's kernels run: single-threaded BLAS, charts through the inline backend
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"

import nbformat  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from timing import write_figures  # noqa: E402

from analysis import charts  # noqa: E402
from analysis.paths import notebooks_dir  # noqa: E402


class ChartClock:
    """Times every chart's layout and SVG rendering in the running shell."""

    def __init__(self, shell: InteractiveShell) -> None:
        self.charts: list[dict[str, object]] = []
        self._shell = shell
        self._fit_margins = charts.fit_margins
        charts.fit_margins = self._timed_layout

    def _timed_layout(self, figure: Figure, source_line) -> None:
        start = time.process_time()
        self._fit_margins(figure, source_line)
        figure._bench_layout_seconds = time.process_time() - start

    def watch_svg(self) -> None:
        """Wrap the SVG formatter that ``use_house_style`` registered for figures."""
        svg = self._shell.display_formatter.formatters["image/svg+xml"]
        if Figure not in svg.type_printers or hasattr(svg.type_printers[Figure], "bench"):
            return
        render = svg.type_printers[Figure]

        def timed(figure: Figure) -> str:
            start = time.process_time()
            out = render(figure)
            title = figure.axes[0].get_title(loc="left") if figure.axes else ""
            self.charts.append(
                {
                    "title": " ".join(title.split()),
                    "layout_ms": round(getattr(figure, "_bench_layout_seconds", 0.0) * 1e3, 1),
                    "render_ms": round((time.process_time() - start) * 1e3, 1),
                    "svg_kb": round(len(out) / 1024, 1),
                }
            )
            return out

        timed.bench = True
        svg.for_type(Figure, timed)

    def close(self) -> None:
        charts.fit_margins = self._fit_margins


def run_notebook(path: Path, month: str, output_dir: str) -> dict[str, object]:
    """Run a notebook's code cells in this process; return its CPU figures and its charts."""
    notebook = nbformat.read(path, as_version=4)
    shell = InteractiveShell.instance()
    clock = ChartClock(shell)
    body = chart_cells = 0.0
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    cwd = Path.cwd()
    os.chdir(path.parent)
    try:
        for index, cell in enumerate(code_cells):
            source = cell.source
            if "parameters" in cell.metadata.get("tags", []):
                source += f"\nreporting_month = {month!r}\noutput_dir = {output_dir!r}"
            drawn = len(clock.charts)
            start = time.process_time()
            with contextlib.redirect_stdout(io.StringIO()):
                result = shell.run_cell(source, store_history=False)
            seconds = time.process_time() - start
            if not result.success:
                raise RuntimeError(f"{path.name}: cell {index} failed: {result.error_in_exec}")
            clock.watch_svg()
            if index > 1:  # after the parameters and imports cells
                body += seconds
                if len(clock.charts) > drawn:
                    chart_cells += seconds
    finally:
        os.chdir(cwd)
        clock.close()
        InteractiveShell.clear_instance()
    return {
        "notebook": path.name,
        "body_cpu_s": round(body, 2),
        "chart_cells_cpu_s": round(chart_cells, 2),
        "charts": clock.charts,
    }


def markdown(results: list[dict[str, object]]) -> str:
    lines = [
        "| Notebook | Body CPU (s) | Chart cells CPU (s) | Charts | Layout (ms/chart) "
        "| SVG render (ms/chart) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        drawn = result["charts"]
        count = max(len(drawn), 1)
        lines.append(
            f"| {result['notebook']} | {result['body_cpu_s']:.2f} "
            f"| {result['chart_cells_cpu_s']:.2f} | {len(drawn)} "
            f"| {sum(c['layout_ms'] for c in drawn) / count:.0f} "
            f"| {sum(c['render_ms'] for c in drawn) / count:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2025-03")
    parser.add_argument("--one", action="store_true", help="run one notebook, print its JSON")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.notebooks or sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    if args.one:
        with tempfile.TemporaryDirectory() as output_dir:
            print(json.dumps(run_notebook(paths[0].resolve(), args.month, output_dir)))
        return
    results = []
    for path in paths:
        command = [sys.executable, __file__, "--one", "--month", args.month, str(path)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.splitlines()[-1]))
    write_figures("charts.json", {"month": args.month, "notebooks": results})
    for result in results:
        for chart in result["charts"]:
            print(
                f"{result['notebook'][:2]}  layout {chart['layout_ms']:5.1f} ms  render "
                f"{chart['render_ms']:5.1f} ms  {chart['svg_kb']:6.1f} KB  {chart['title'][:60]}",
                file=sys.stderr,
            )
    print(markdown(results))


if __name__ == "__main__":
    main()
