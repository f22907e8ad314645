"""``slopes lab``: serve the interactive lab on 127.0.0.1 and open it in a browser."""

from __future__ import annotations

import importlib.util

import click

from ._common import SlopesCommand, debug_option

__all__ = ["lab"]

_MISSING = 'the lab needs the "lab" extra (starlette, uvicorn): pip install "slopes[lab]"'


@click.command(
    "lab",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes lab
  slopes lab --port 8765 --no-browser""",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option("--no-browser", is_flag=True, help="Print the URL without opening a browser.")
@debug_option
def lab(port, no_browser):
    """Start the interactive lab (derivatives, landscapes, optimizer races, training, sampling).

    The server listens on 127.0.0.1 only, prints its URL and opens it in the default
    browser; Ctrl-C stops it. It reads and writes no files: exports are downloads made
    by the browser.
    """
    if not all(importlib.util.find_spec(m) for m in ("starlette", "uvicorn")):
        raise click.ClickException(_MISSING)
    from ..lab.server import serve

    try:
        serve(port, open_browser=not no_browser, echo=click.echo)
    except OSError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        click.echo("slopes lab stopped")
