"""The ``cgmm`` command line: composes config -> engine -> report; computes nothing of its own."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from contrastive_gmm import __version__
from contrastive_gmm.cli._common import one_line, user_errors
from contrastive_gmm.cli.data import register as register_data_commands

if TYPE_CHECKING:
    from contrastive_gmm.experiments.spec import StudySpec

# The experiments (pydantic, the engine, the learners, torch) are imported inside the commands:
# building the app, and so `cgmm --help`, needs typer alone.

app = typer.Typer(
    help="Contrastive learning as dimensionality reduction of Gaussian mixtures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Backend(str, Enum):
    """Where runs execute."""

    loky = "loky"
    dask = "dask"


def _user_errors():
    """Errors a user can fix (a bad spec included) as one line and exit code 2; warnings as one line each."""
    from contrastive_gmm.experiments.spec import ConfigError

    return user_errors(ConfigError)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"contrastive-gmm {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version."),
) -> None:
    """Contrastive learning as dimensionality reduction of Gaussian mixtures."""


def _default_out() -> Path:
    stamp = f"cgmm-results-{datetime.now():%Y%m%d-%H%M%S}"
    out, i = Path(stamp), 1
    while out.exists():
        out, i = Path(f"{stamp}-{i}"), i + 1
    return out


def _execute(
    specs: List["StudySpec"], out: Optional[Path], quick: bool, backend: Backend, scheduler: Optional[str], jobs: Optional[int], command: str
) -> None:
    """Run the studies into ``out`` and write the report; shared by ``reproduce`` and ``run``."""
    from contrastive_gmm.experiments.engine import RunFailed, run_studies
    from contrastive_gmm.experiments.report import run_manifest, write_outputs

    if scheduler and backend is Backend.loky:
        backend = Backend.dask  # an address only makes sense for Dask
    out = out or _default_out()
    typer.echo(f"Writing to {out}/ (finished runs are saved as they end; rerun with --out {out} to resume).", err=True)
    start = time.perf_counter()
    try:
        rows, execution = run_studies(specs, out, backend=backend.value, n_jobs=jobs, scheduler=scheduler)
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: the finished runs are in {out}/runs; `{command} --out {out}` resumes.", err=True)
        raise typer.Exit(130) from None
    except RunFailed as exc:
        # Not the user's input (exit 2) but a failure of the work itself: one line, and how to resume.
        typer.echo(f"error: {one_line(exc)} Fix the cause; `{command} --out {out}` resumes.", err=True)
        raise typer.Exit(1) from None
    manifest = run_manifest(command, quick, backend.value, execution, time.perf_counter() - start)
    report, claims = write_outputs(out, specs, rows, manifest)
    for spec in specs:
        for claim in claims[spec.name]:
            typer.echo(f"[{'supported' if claim.holds else 'CONTRADICTED'}] {spec.name}: {claim.sentence}")
    typer.echo(
        f"\n{execution.computed} runs computed, {execution.reused} reused, in {manifest['wall_seconds']:.0f} s. "
        f"Wrote {report}, {out / 'results.csv'} and {len(specs)} figure(s)."
    )


_QUICK = typer.Option(False, "--quick", help="Fewer seeds, values and pairs: every claim in a few minutes on 2 cores.")
_OUT = typer.Option(None, "--out", help="Output folder; an existing one is resumed (default: a new cgmm-results-<time>/ here).")
_BACKEND = typer.Option(Backend.loky, "--backend", help="loky: local processes (joblib); dask: a local Dask cluster.")
_SCHEDULER = typer.Option(None, "--scheduler", metavar="ADDRESS", help="Address of a running Dask scheduler (implies --backend dask).")
_JOBS = typer.Option(None, "--jobs", "-j", min=1, help="Local worker processes (default: all usable CPUs).")


@app.command("list")
def list_studies() -> None:
    """List the studies shipped with the package (validating each, full and quick)."""
    from contrastive_gmm.experiments.spec import builtin_study_files, load_study

    with _user_errors():
        files = builtin_study_files()
        specs = {name: (load_study(path), load_study(path, quick=True)) for name, path in files.items()}
        w_name = max([len("study"), *map(len, specs)]) + 2
        w_kind = max([len("kind"), *(len(full.kind) for full, _ in specs.values())]) + 2
        typer.echo(f"{'study':<{w_name}}{'kind':<{w_kind}}{'runs':>6}{'quick':>7}  title")
        for name, (full, quick) in specs.items():
            n_full = len(full.expand()) * full.seeds
            n_quick = len(quick.expand()) * quick.seeds
            typer.echo(f"{name:<{w_name}}{full.kind:<{w_kind}}{n_full:>6}{n_quick:>7}  {full.title}")


@app.command()
def reproduce(
    quick: bool = _QUICK,
    out: Optional[Path] = _OUT,
    backend: Backend = _BACKEND,
    scheduler: Optional[str] = _SCHEDULER,
    only: Optional[List[str]] = typer.Option(None, "--only", metavar="STUDY", help="Run only this study (repeat, or comma-separate)."),
    jobs: Optional[int] = _JOBS,
) -> None:
    """Run every study (or --only some) and write results.csv, a figure per study and report.md."""
    from contrastive_gmm.experiments.spec import load_builtin

    with _user_errors():
        names = [n.strip() for item in only or [] for n in item.split(",") if n.strip()]
        specs = load_builtin(names or None, quick=quick)
        command = "cgmm reproduce" + (" --quick" if quick else "") + "".join(f" --only {n}" for n in names)
        _execute(specs, out, quick, backend, scheduler, jobs, command)


@app.command("run")
def run_config(
    config: Path = typer.Argument(..., help="A study spec (TOML), e.g. a copy of one from `cgmm list`'s folder."),
    quick: bool = _QUICK,
    out: Optional[Path] = _OUT,
    backend: Backend = _BACKEND,
    scheduler: Optional[str] = _SCHEDULER,
    jobs: Optional[int] = _JOBS,
) -> None:
    """Run your own study spec and write its results, figure and report."""
    from contrastive_gmm.experiments.spec import load_study

    with _user_errors():
        spec = load_study(config, quick=quick)
        _execute([spec], out, quick, backend, scheduler, jobs, f"cgmm run {config}" + (" --quick" if quick else ""))


@app.command()
def report(directory: Path = typer.Argument(..., help="A folder written by `cgmm reproduce` or `cgmm run`.")) -> None:
    """Re-draw the figures and rewrite report.md from a folder's saved results."""
    from contrastive_gmm.experiments.report import render_report

    with _user_errors():
        path = render_report(directory)
        typer.echo(f"Wrote {path}")


register_data_commands(app)  # cgmm fit / cgmm transform / cgmm info


def run() -> None:  # pragma: no cover - console entry point wrapper
    """Entry point: library errors a user can fix become one line and exit code 2."""
    try:
        app()
    except (ValueError, TypeError) as exc:
        typer.echo(f"error: {one_line(exc)}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    run()


__all__ = ["app", "run"]
