"""What every ``cgmm`` command shares: errors a user can fix as one line and exit code 2, warnings as one line each."""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from typing import Iterator, TextIO

import typer


def one_line(text: object) -> str:
    """``text`` with its whitespace (newlines included) collapsed: a message stays one line on a terminal."""
    return " ".join(str(text).split())


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: TextIO | None = None, line: str | None = None
) -> None:
    """``warnings.showwarning`` for a command-line user: ``warning: <message>`` on stderr, no source location."""
    typer.echo(f"warning: {one_line(message) or category.__name__}", err=True)


@contextmanager
def user_errors(*extra: type[BaseException]) -> Iterator[None]:
    """Run a command: its warnings become ``warning: ...`` lines on stderr, and errors a user can fix one ``error: ...`` line and exit code 2.

    The library reports a doubtful but valid request (``n_components`` beyond the classes,
    a collapsed fit) with a warning; Python's default display prints the file and line of
    library code, which tells a command-line user nothing, so only the message is shown.
    The warning filters are left as they are (what is shown once, what is an error in the
    test suite). ``extra`` adds exception types to treat as the user's (``ConfigError``).
    """
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            yield
        except BrokenPipeError:
            # The reader went away (`cgmm list | head`): stop quietly, as the Python docs advise.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except (ValueError, TypeError, OSError, *extra) as exc:
            # OSError covers FileNotFoundError, ConnectionError (a Dask scheduler) and unwritable folders.
            typer.echo(f"error: {one_line(exc) or type(exc).__name__}", err=True)
            raise typer.Exit(2) from None


__all__ = ["one_line", "user_errors"]
