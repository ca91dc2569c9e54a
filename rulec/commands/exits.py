"""How a command ends: user errors become messages and the exit codes of `ExitCode`, never a traceback."""

from __future__ import annotations

import enum
import os
import sys

import typer

from rulec.commands import interrupts
from rulec.commands.flags import on_command_line
from rulec.data.errors import DataError, FlagError
from rulec.diagnostics import RuleError, render_all


class ExitCode(enum.IntEnum):
    """What an exit status means; docs/errors.md, "Exit codes", lists the same."""
    OK = 0
    INPUT = 1  # a problem in the user's input: a rule, data, genome or checkpoint file
    USAGE = 2  # a bad flag or command
    INTERNAL = 3  # a bug in rulec
    INTERRUPTED = interrupts.INTERRUPTED  # Ctrl-C, as a shell reports SIGINT


def report(error: RuleError) -> None:
    typer.echo(render_all(error.diagnostics), err=True)
    count = len(error.diagnostics)
    typer.echo(f"{count} error{'s' if count != 1 else ''}", err=True)


def run(app: typer.Typer) -> None:
    """Runs `app`, ending the process with the exit code of its outcome."""
    try:
        result = app(standalone_mode=False)  # returns the exit code of a `typer.Exit`
        sys.exit(result if isinstance(result, int) else ExitCode.OK)
    except RuleError as error:
        report(error)
        sys.exit(ExitCode.USAGE if on_command_line(error) else ExitCode.INPUT)
    except DataError as error:
        typer.echo(error.render(), err=True)
        code = ExitCode.USAGE if isinstance(error, FlagError) else ExitCode.INPUT
        if error.skips_teardown:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort as abort:
        # click turns both Ctrl-C and any EOFError into Abort; only the first is the user's doing.
        if not isinstance(abort.__context__, KeyboardInterrupt):
            internal_error(abort.__context__ or abort)
        typer.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except MemoryError:
        out_of_memory()
    except Exception as error:  # a bug in rulec: say so plainly rather than dumping a traceback
        # Usage errors (bad flags, unknown commands) are click exceptions; typer may vendor click, so they are
        # recognised by their interface rather than their class.
        if callable(getattr(error, "show", None)) and isinstance(getattr(error, "exit_code", None), int):
            error.show()
            sys.exit(error.exit_code)
        if any(marker in str(error) for marker in OUT_OF_MEMORY):  # XLA's failed allocation, a JaxRuntimeError
            out_of_memory()
        internal_error(error)


# How XLA says an allocation failed: on an accelerator, and on the CPU (as an INTERNAL error, under `ulimit -v`).
OUT_OF_MEMORY = ("RESOURCE_EXHAUSTED", "Out of memory allocating")


def out_of_memory() -> None:
    """A plan that passed the resource guard (or was forced past it) and still did not fit: the user's to shrink."""
    typer.echo("error: out of memory: the run needed more memory than this process may take (the machine's, "
               "`ulimit -v`, or a container's limit)\n  hint: use smaller --layers, --batch, --population, --unroll "
               "or dims (--set), or free memory", err=True)
    sys.exit(ExitCode.INPUT)


def internal_error(error: BaseException) -> None:
    typer.echo(f"rulec: internal error: {type(error).__name__}: {error}\n"
               "This is a bug in rulec; please report it with the command and the rule file.", err=True)
    sys.exit(ExitCode.INTERNAL)
