"""``slopes report``: build the HTML lab report."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from ._common import SlopesCommand, debug_option, echo_json, json_option

__all__ = ["report"]


@click.command(
    "report",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes report
  slopes report --out build/lab --quick
  slopes report --quick --json""",
)
@click.option(
    "--out", "out_dir", default="slopes-report", show_default=True, metavar="DIR", help="Output folder."
)
@click.option("--quick", is_flag=True, help="Smaller experiments: a fast draft of the report.")
@json_option
@debug_option
def report(out_dir, quick, as_json):
    """Build the HTML lab report (slopes.report.build) and print where the page is."""
    try:
        module = importlib.import_module("slopes.report")
    except ImportError as e:
        raise click.ClickException(f"the lab report is not available in this installation ({e})") from None
    build = getattr(module, "build", None)
    if build is None:
        raise click.ClickException(
            "the lab report is not available in this installation (no slopes.report.build)"
        )
    page = Path(build(out_dir, quick=quick)).resolve()  # absolute: where to point the browser
    if as_json:
        echo_json({"page": str(page), "out": str(out_dir), "quick": quick})
        return
    click.echo(f"report written to {page}\nopen it in a browser: {page.as_uri()}")
