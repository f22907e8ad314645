"""The ``slopes`` command: derivatives, optimizers and training from the shell.

Subcommands: ``diff``, ``grad``, ``taylor`` (:mod:`~slopes.cli.calculus`), ``minimize``,
``race`` (:mod:`~slopes.cli.optimize`), ``train``, ``lr-find`` (:mod:`~slopes.cli.training`),
``report`` (:mod:`~slopes.cli.report`) and ``lab`` (:mod:`~slopes.cli.lab`, a local web
server). Each prints text, or ONE JSON object with ``--json``; it exits with 0 on success, 1 on a failure and 2 on a usage error, with a
one-line message on stderr (``--debug`` shows the Python traceback instead).

Examples
--------
>>> from click.testing import CliRunner
>>> from slopes.cli import cli
>>> result = CliRunner().invoke(cli, ["diff", "x^3 + 2*x - 5", "--at", "2"])
>>> result.exit_code, result.output.splitlines()[1]
(0, 'd/dx f = 3*x**2 + 2')
"""

from __future__ import annotations

import click

from ._common import SlopesGroup, debug_option
from .calculus import diff, grad_command, taylor
from .lab import lab
from .optimize import minimize, race
from .report import report
from .training import lr_find, train

__all__ = ["cli", "main"]


@click.group(
    cls=SlopesGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""\b
Examples:
  slopes diff "x^2*y + sin(x)" --wrt x --at 1,2
  slopes grad "x^2 - y^2" --at 0,0 --hessian
  slopes race "(1-x)^2 + 100*(y-x^2)^2" --x0 -1.2,1 --plot race.png
  slopes train mlp --dataset digits --epochs 5 --save runs/digits
  slopes lab
Run 'slopes COMMAND --help' for the options and examples of each command.""",
)
@click.version_option(package_name="slopes")
@debug_option
def cli():
    """slopes: exact derivatives, optimizers and training on NumPy, from the command line."""


for _command in (diff, grad_command, taylor, minimize, race, train, lr_find, report, lab):
    cli.add_command(_command)


def main(argv=None):
    """Entry point of the ``slopes`` console script (``argv`` defaults to ``sys.argv[1:]``).

    Examples
    --------
    >>> main(["grad", "x^2 + y^2", "--at", "1,2", "--json"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    cli.main(args=argv, prog_name="slopes")
