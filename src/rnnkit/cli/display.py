"""What the commands show: rich progress bars with a time estimate, the scores table, verdicts.

Imported by the command bodies only (rich and the workflow load after the
arguments were parsed; see `rnnkit.cli.common`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TaskID
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.table import Table

from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.progress import TimeEstimate
from rnnkit.workflow.progress import WorkPlan
from rnnkit.workflow.progress import format_duration
from rnnkit.workflow.report_facts import cap_sentence
from rnnkit.workflow.report_facts import stopped_at_cap
from rnnkit.workflow.report_facts import units_phrase

__all__ = ["RichProgress", "coverage_lines", "print_comparison"]

_OVERALL = "overall"


class RichProgress(ProgressListener):
    """A `ProgressListener` drawing rich progress bars on stderr, with the time left.

    Bars appear only when stderr is a terminal; `quiet` also silences the
    one-line messages (one per trained network). With a `plan`, a first bar
    counts the epochs of the whole command and shows the elapsed time and
    the time left (`TimeEstimate`: from the epoch times measured so far); the
    line printed when a network finishes carries the same estimate, so logs
    show it too.

    Args:
        quiet: No bars and no messages. Defaults to `False`.
        console: Where to draw. Defaults to `None` (stderr).
        plan: What the command will train. Defaults to `None` (no estimate).
        clock: Seconds for the estimate. Defaults to `None` (`time.monotonic`).
    """

    def __init__(
        self,
        *,
        quiet: bool = False,
        console: Console | None = None,
        plan: WorkPlan | None = None,
        clock: Any = None,
    ):
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            disable=quiet or not self.console.is_terminal,  # bars only on a terminal
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}
        self.estimate = None
        if plan is not None:
            self.estimate = TimeEstimate(plan, **({"clock": clock} if clock else {}))
            self.tasks[_OVERALL] = self.progress.add_task(
                "all: time left: measuring", total=plan.trainings * plan.epochs
            )
        self._finished_model = False

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def begin(self, task: str, total: int | None = None, description: str = "") -> None:
        """Start (or restart) a bar."""
        if self.estimate is not None:
            self.estimate.begin(task, total, description)
        if task in self.tasks:
            self.progress.reset(self.tasks[task], total=total, description=description or task)
        else:
            self.tasks[task] = self.progress.add_task(description or task, total=total)

    def advance(self, task: str, steps: int = 1, description: str | None = None) -> None:
        """Move a bar on (and the whole command's bar, for an epoch)."""
        if task not in self.tasks:
            self.begin(task)
        kwargs: dict[str, Any] = {"description": description} if description else {}
        self.progress.update(self.tasks[task], advance=steps, **kwargs)
        if self.estimate is not None:
            self.estimate.advance(task, steps, description)
            self._finished_model = task == "models"
            self._update_overall(advance=steps if task == "epochs" else 0)

    def end(self, task: str) -> None:
        """Mark a bar complete (early stopping may end it before its total)."""
        if self.estimate is not None:
            self.estimate.end(task)
            self._update_overall()
        if task in self.tasks:
            done = self.progress.tasks[self.tasks[task]].completed
            self.progress.update(self.tasks[task], total=max(done, 1), completed=max(done, 1))

    def message(self, text: str) -> None:
        """Print a line above the bars (not with `quiet`); after a network, the time left."""
        if self.quiet:
            return
        if self.estimate is not None and self._finished_model:
            self._finished_model = False
            if self.estimate.remaining() is not None and self.estimate.remaining():
                text = f"{text}. {self.estimate.describe().capitalize()}."
        self.progress.console.print(text, highlight=False, soft_wrap=True)

    def _update_overall(self, advance: int = 0) -> None:
        assert self.estimate is not None
        left = self.estimate.remaining()
        shown = "time left: measuring" if left is None else f"~{format_duration(left)} left"
        self.progress.update(self.tasks[_OVERALL], advance=advance, description=f"all: {shown}")


#: Columns of the printed table, with their headers (the report has them all).
_COLUMNS = {
    "MAE": "MAE",
    "MASE": "MASE",
    "MASE_seasonal": "MASE seas.",
    "params": "params",
    "seconds_per_epoch": "s/epoch",
    "best_epoch": "best ep.",
}


def print_comparison(
    result: Any,
    report: Path,
    models: dict[str, Path],
    *,
    quiet: bool,
    units: dict[str, str] | None = None,
) -> None:
    """Print the metrics table, the verdicts and where the files are (stdout).

    A network that stopped at the epoch cap while still improving shows
    `(cap)` beside its best epoch, and a line after the verdicts says so.
    """
    console = Console(highlight=False)
    if not console.is_terminal:  # files and pipes: wide enough for the table
        console = Console(highlight=False, width=132)
    if not quiet:
        table = Table(title=f"Test scores ({units_phrase(units or {}, 'MAE')})")
        table.add_column("model", no_wrap=True)
        metrics = result.metrics
        columns = [c for c in _COLUMNS if c in metrics]
        for column in columns:
            table.add_column(_COLUMNS[column], justify="right", no_wrap=True)
        capped = {n for n, fit in result.fits.items() if stopped_at_cap(fit, result.config)}
        for name, row in metrics.iterrows():
            cells = [_cell(row[c]) for c in columns]
            if name in capped and "best_epoch" in columns:
                cells[columns.index("best_epoch")] += " (cap)"
            table.add_row(str(name), *cells)
        console.print(table)
    capped_line = cap_sentence(result)
    for line in [*result.headline, *([capped_line] if capped_line else [])]:
        console.print(line)
    for line in coverage_lines(result):
        console.print(line)
    console.print(f"Report: {report}")
    for name, folder in models.items():
        console.print(f"Model {name}: {folder}")


def print_refits(result: Any) -> None:
    """Print each tuned network's refit sentence: both test scores (stdout)."""
    console = Console(highlight=False)
    if not console.is_terminal:  # files and pipes: one line per sentence
        console = Console(highlight=False, width=1000)
    for tuning in result.tunings.values():
        if getattr(tuning, "refit", None) is not None:
            for line in tuning.refit.lines():
                console.print(line)


def coverage_lines(result: Any) -> list[str]:
    """One line per network: its prediction intervals' coverage on the test windows."""
    table = getattr(result, "coverage", None)
    if table is None or table.empty:
        return []
    lines = []
    for name in result.fits:
        rows = table[table["model"] == name]
        if len(rows):
            shown = ", ".join(
                f"{level:.0%} interval covers {coverage:.0%}"
                for level, coverage in zip(rows["level"], rows["coverage"], strict=True)
            )
            lines.append(f"{name} prediction intervals on the test period: {shown}.")
    return lines


def _cell(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:  # NaN
        return "-"
    return f"{number:,.0f}" if number.is_integer() and abs(number) >= 10 else f"{number:.3g}"
