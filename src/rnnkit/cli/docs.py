"""Generate the CLI reference (`docs/cli.md`) from the commands' `--help` text.

Run `python -m rnnkit.cli.docs > docs/cli.md`; a test checks that the file is
up to date, so the reference never drifts from the code.
"""

from __future__ import annotations

import typer

from rnnkit.cli.app import app

__all__ = ["render_cli_docs"]

_WIDTH = 100
_HEADER = """# Command-line reference

Generated from `rnnkit --help` by `python -m rnnkit.cli.docs > docs/cli.md`; do not edit.
The workflow behind the commands is described in [forecasting.md](forecasting.md).

Every setting can also come from a TOML file passed with `--config run.toml`, using the
option names with underscores (`max_trials = 5`); flags on the command line win. Errors
are one line on stderr with exit code 1 (2 for a bad flag or setting); add `--debug` for
the traceback.
"""


def _help(command: object, name: str, parent: object = None) -> str:
    settings = {
        **getattr(command, "context_settings", {}),
        "terminal_width": _WIDTH,
        "max_content_width": _WIDTH,
    }
    context = command.context_class(  # type: ignore[attr-defined]
        command, info_name=name, parent=parent, **settings
    )
    return command.get_help(context).rstrip()  # type: ignore[attr-defined]


def render_cli_docs() -> str:
    """Return the Markdown reference of every command.

    Example:
        >>> render_cli_docs().splitlines()[0]
        '# Command-line reference'
    """
    group = typer.main.get_command(app)
    root = group.context_class(group, info_name="rnnkit", **group.context_settings)
    parts = [_HEADER, "## rnnkit", "", "```text", _help(group, "rnnkit"), "```", ""]
    for name in group.list_commands(root):  # type: ignore[attr-defined]
        command = group.get_command(root, name)  # type: ignore[attr-defined]
        parts += [f"## rnnkit {name}", "", "```text", _help(command, name, root), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_cli_docs(), end="")
