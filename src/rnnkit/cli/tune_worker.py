"""`rnnkit tune-worker`: run trials of a `rnnkit tune` search stored in a shared database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli import common as c

__all__ = ["register", "tune_worker_command"]

StorageUrl = Annotated[
    str,
    typer.Option(
        help="Study database URL the search was started with (postgresql://... or "
        "sqlite:////abs/path/study.db).",
        show_default=False,
    ),
]
Study = Annotated[
    str | None,
    typer.Option(help="Which search, when the storage holds several. [default: the only one]"),
]
DataPath = Annotated[
    Path | None,
    typer.Option(
        "--data", help="This machine's copy of the data file. [default: the path tune recorded]"
    ),
]
WorkerCount = Annotated[
    int, typer.Option("--workers", min=1, help="Parallel trial processes on this machine.")
]
WorkerOut = Annotated[
    Path,
    typer.Option("--out", "-o", help="Folder for this worker's trial checkpoints (OUT/tuning)."),
]


def tune_worker_command(
    storage: StorageUrl,
    study: Study = None,
    data: DataPath = None,
    workers: WorkerCount = 1,
    out: WorkerOut = Path("rnnkit_report"),
    threads: c.Threads = None,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Join a running `rnnkit tune` search: run its trials here until its budget is spent.

    `rnnkit tune DATA --storage URL` records its settings, network and data path
    in the study; this command reads them back, prepares the same data (--data
    when the file lives elsewhere on this machine), and runs trials of the same
    search beside the other machines until its --max-trials trials are done. It
    prints one line (trials run here, the search's progress, its best score).
    The first machine's `rnnkit tune` trains the best values and writes the report.

    Example:

    \b
        rnnkit tune-worker --storage postgresql://tuner:PASSWORD@db:5432/studies --workers 2
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    with c.handle_errors(debug):
        from rnnkit.cli.display import RichProgress
        from rnnkit.workflow.join import join_search

        with RichProgress(quiet=quiet) as progress:
            result = join_search(
                storage,
                study=study,
                data=data,
                workers=workers,
                out=out,
                threads=threads if threads is not None else 1,
                progress=progress,
            )
        typer.echo(result.summary())


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("tune-worker")(tune_worker_command)
