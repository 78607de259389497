"""The CLI reference in docs/ is generated from --help and must be up to date."""

from pathlib import Path

import typer

from rnnkit.cli.app import app
from rnnkit.cli.docs import render_cli_docs

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def test_cli_reference_is_up_to_date():
    assert DOCS.read_text() == render_cli_docs(), (
        "docs/cli.md is stale: run `python -m rnnkit.cli.docs > docs/cli.md`"
    )


def test_cli_reference_documents_every_command_with_an_example():
    text = render_cli_docs()
    for command in sorted(typer.main.get_command(app).commands):  # every registered one
        section = text.split(f"## rnnkit {command}\n", 1)[1].split("\n## ", 1)[0]
        assert "Example:" in section
        assert f"    rnnkit {command} " in section
