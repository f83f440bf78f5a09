"""Study kinds, tasks, and their parallel, resumable execution (joblib/loky or Dask).

A *study kind* is three small things registered under a name (:func:`register_kind`): a spec
model (a :class:`~contrastive_gmm.experiments.spec.StudySpec` subclass that validates the TOML and
expands into settings), a run function ``run(spec, setting, seed_sequence) -> rows`` whose
rows are dicts with ``method``, ``metric``, ``value`` (and optionally ``fit_seconds``), and a
plot function ``plot(spec, rows, path)`` that writes one PNG from the long-format rows.

A *task* is one setting of one study at one replicate. Its key hashes what determines its
numbers (kind, the spec's run identity, the setting's parameters, the root seed and the
replicate; not the study's name, the setting's position, the backend or the worker), and its
seeds come from ``numpy.random.SeedSequence(entropy=seed, spawn_key=(replicate,))`` (plus a
hash of the setting when the spec turns off common random numbers). Every finished task is
written at once, atomically, to ``DIR/runs/<key>.json``; running again reuses those files and
computes only what is missing, so a killed run resumes with identical results.

Adding a study kind (the multimodal and real-data studies, say):

1. In a module of this package, subclass :class:`~contrastive_gmm.experiments.spec.StudySpec` with
   ``kind: Literal["name"]``, the fields the spec needs, and ``expand()`` returning
   :class:`StudySetting` objects (JSON-able ``params``); override ``run_identity``,
   ``method_names`` and ``metric_names`` so the claims' names are checked.
2. Write ``run(spec, setting, seeds) -> [{"method", "metric", "value", "fit_seconds"}, ...]``
   drawing every random number from ``seeds.spawn(...)``, seeding learners with
   :func:`learner_seed` and timing fits with :func:`timed_fit` (as every built-in kind does);
   write ``plot(spec, rows, path)`` (``figures.plot_panels`` draws the usual panel figure).
3. Call ``register_kind("name", Spec, run, plot)`` at import, add the module to
   ``_BUILTIN_KIND_MODULES`` below, and ship a spec as ``experiments/studies/NN_name.toml`` with its
   ``[[claims]]`` and ``[quick]`` table: ``cgmm list`` and ``cgmm reproduce`` pick it up.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import math
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np


#: Bump when the run-file layout or the meaning of a task key changes.
RUN_FORMAT = 2  # 2: one learner-seed rule for every kind (loss_zoo and real_data seeds changed)
BACKENDS = ("loky", "dask")
#: Columns of results.csv; the time columns differ between otherwise identical runs.
RESULT_COLUMNS = ("study", "kind", "panel", "x", "setting", "method", "seed", "metric", "value", "fit_seconds", "run_seconds", "task")
TIME_COLUMNS = ("fit_seconds", "run_seconds")
# Modules whose import registers the built-in kinds; a new kind's module goes here.
_BUILTIN_KIND_MODULES = (
    "contrastive_gmm.experiments.fisher",
    "contrastive_gmm.experiments.multimodal",
    "contrastive_gmm.experiments.loss_zoo",
    "contrastive_gmm.experiments.real_data",
    "contrastive_gmm.experiments.heteroscedastic",
    "contrastive_gmm.experiments.population",
)


class RunFileWarning(UserWarning):
    """A saved run file was unreadable or did not match its task; that run is computed again."""


@dataclass(frozen=True)
class StudySetting:
    """One point of a study: where it is plotted (``panel``, ``x``) and what the run needs (``params``).

    ``params`` must be JSON-able: it is hashed into the task key and sent to the workers.
    """

    label: str
    panel: str
    x: float | str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudyKind:
    """A registered study kind: its spec model, its run function and its plot function."""

    name: str
    spec: type
    run: Callable[[Any, StudySetting, np.random.SeedSequence], list[dict]]
    plot: Callable[[Any, list[dict], Path], None]


_KINDS: dict[str, StudyKind] = {}


class RunFailed(RuntimeError):
    """A study's run raised: which run, why, and what was kept (every run finished before it is saved)."""


def register_kind(name: str, spec: type, run: Callable, plot: Callable) -> StudyKind:
    """Register a study kind under ``name`` (the value of ``kind`` in a spec file); returns it."""
    old = _KINDS.get(name)
    # Re-registering the same class (a module imported twice) is harmless; a different one is a clash.
    if old is not None and (old.spec.__module__, old.spec.__qualname__) != (spec.__module__, spec.__qualname__):
        raise ValueError(f"a study kind named {name!r} is already registered by {old.spec.__module__}")
    _KINDS[name] = StudyKind(name, spec, run, plot)
    return _KINDS[name]


def learner_seed(seeds: np.random.SeedSequence) -> int:
    """The integer seed a run gives its learners (and whatever else takes an int seed): ``seeds``' first state word.

    One rule for every study kind. The word is an unsigned 32-bit integer, a valid seed for
    numpy, scikit-learn and torch alike.

    >>> learner_seed(np.random.SeedSequence(0)) == learner_seed(np.random.SeedSequence(0))
    True
    """
    return int(seeds.generate_state(1)[0])


_T = Any


def timed_fit(fit: Callable[..., _T], *args: Any, **kwargs: Any) -> tuple[_T, float]:
    """Call ``fit(*args, **kwargs)``; returns its result and the wall seconds it took.

    Every study kind times its fits through here, with the same one warning silenced: a learner's
    collapse is a result the rows record (``effective_rank``) and the report flags, not an error.
    Every other warning still reaches the user.

    >>> out, seconds = timed_fit(sum, [1, 2, 3])
    >>> out, seconds >= 0
    (6, True)
    """
    from contrastive_gmm.learners.training import CollapseWarning  # torch: only where a run executes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollapseWarning)
        start = time.perf_counter()
        out = fit(*args, **kwargs)
        return out, time.perf_counter() - start


def _load_builtin_kinds() -> None:
    for module in _BUILTIN_KIND_MODULES:
        importlib.import_module(module)


def get_kind(name: str) -> StudyKind:
    """The registered kind ``name``; raises KeyError if there is none."""
    if name not in _KINDS:
        _load_builtin_kinds()
    return _KINDS[name]


def known_kinds() -> list[str]:
    """Names of the registered kinds."""
    _load_builtin_kinds()
    return sorted(_KINDS)


# ---------------------------------------------------------------------------- tasks


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces): the input of every hash here."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _digest(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


@dataclass(frozen=True)
class Task:
    """One run: a study's setting at one replicate."""

    spec: Any
    setting: StudySetting
    replicate: int

    @functools.cached_property
    def identity(self) -> dict[str, Any]:
        """Everything that determines this run's numbers (hashed into :attr:`key`)."""
        from contrastive_gmm import __version__

        return {
            "format": RUN_FORMAT,
            "package": __version__,
            "kind": self.spec.kind,
            "spec": self.spec.run_identity(),
            "setting": self.setting.params,
            "seed": self.spec.seed,
            "replicate": self.replicate,
        }

    @functools.cached_property
    def key(self) -> str:
        """Content hash of :attr:`identity`: the run file's name."""
        return _digest(self.identity)[:24]

    def seed_sequence(self) -> np.random.SeedSequence:
        """The run's SeedSequence: from the study's seed and the replicate (and the setting, without CRN).

        >>> from contrastive_gmm.experiments.spec import parse_study
        >>> spec = parse_study({"kind": "fisher", "name": "s", "title": "S", "seed": 7,
        ...                     "methods": [{"learner": "pca"}], "settings": [{"name": "a"}]})
        >>> Task(spec, spec.expand()[0], 2).seed_sequence().spawn_key
        (2,)
        """
        key: tuple[int, ...] = (self.replicate,)
        if not self.spec.common_random_numbers:
            key += (int(_digest(self.setting.params)[:15], 16),)
        return np.random.SeedSequence(entropy=self.spec.seed, spawn_key=key)


def plan(specs: Iterable[Any]) -> list[Task]:
    """Every task of every study: settings in display order, then replicates."""
    return [Task(spec, s, r) for spec in specs for s in spec.expand() for r in range(spec.seeds)]


def run_task(task: Task) -> dict[str, Any]:
    """Execute one task (in whatever process gets it); returns its run record."""
    from contrastive_gmm.learners.training import single_threaded  # torch: only where a run executes

    kind = get_kind(task.spec.kind)
    with single_threaded():
        start = time.perf_counter()
        try:
            rows = kind.run(task.spec, task.setting, task.seed_sequence())
        except Exception as exc:
            # The note travels with the exception out of a worker process, so the error names the run.
            exc.add_note(f"in the run of study {task.spec.name!r}, setting {task.setting.label!r}, replicate {task.replicate}")
            raise
        seconds = time.perf_counter() - start
    clean = []
    for row in rows:
        missing = {"method", "metric", "value"} - set(row)
        if missing:
            raise ValueError(f"the {task.spec.kind!r} run function returned a row without {sorted(missing)}: {row}")
        clean.append(
            {
                "method": str(row["method"]),
                "metric": str(row["metric"]),
                "value": float(row["value"]),
                "fit_seconds": float(row.get("fit_seconds", math.nan)),
            }
        )
    return {"format": RUN_FORMAT, "key": task.key, "identity": task.identity, "rows": clean, "run_seconds": seconds}


# ---------------------------------------------------------------------------- run files


def _checksum(record: dict[str, Any]) -> str:
    return _digest({k: record[k] for k in ("format", "key", "identity", "rows", "run_seconds")})


def write_run(record: dict[str, Any], runs_dir: Path) -> Path:
    """Write a run record to ``runs_dir/<key>.json`` atomically (temporary file, fsync, rename)."""
    runs_dir = Path(runs_dir)
    path = runs_dir / f"{record['key']}.json"
    payload = dict(record, checksum=_checksum(record))
    fd, tmp = tempfile.mkstemp(dir=runs_dir, prefix=f".{record['key']}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_run(path: Path, key: str) -> dict[str, Any] | None:
    """The record saved at ``path`` if it is complete and belongs to task ``key``; None if there is none.

    A truncated, corrupt or mismatched file gives a :class:`RunFileWarning` and None (recompute).
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        ok = (
            isinstance(record, dict)
            and record.get("format") == RUN_FORMAT
            and record.get("key") == key
            and _digest(record["identity"])[:24] == key
            and record.get("checksum") == _checksum(record)
            and all({"method", "metric", "value"} <= set(r) for r in record["rows"])
        )
    except (ValueError, KeyError, TypeError, OSError):
        ok = False
    if not ok:
        warnings.warn(f"run file {path} is corrupt or incomplete; computing that run again", RunFileWarning, stacklevel=2)
        return None
    return record


# ---------------------------------------------------------------------------- execution


@dataclass
class Execution:
    """What :func:`execute` did: the records by task key, and how many were computed or reused."""

    records: dict[str, dict[str, Any]]
    computed: int
    reused: int
    seconds: float


_watchdog_started = False


def _exit_with_parent(parent: int) -> None:
    """In a worker process, end the process soon after ``parent`` is gone (killed with SIGKILL, say).

    Why: loky's workers outlive a killed parent and would keep computing runs nobody saves.
    """
    global _watchdog_started
    if _watchdog_started or os.getpid() == parent:
        return
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="cgmm-parent-watchdog", daemon=True).start()
    _watchdog_started = True


def run_task_in_worker(task: Task, parent: int) -> dict[str, Any]:
    """:func:`run_task` in a local worker process that exits if its parent process ``parent`` dies."""
    _exit_with_parent(parent)
    return run_task(task)


def _dispatch_loky(tasks: Sequence[Task], n_jobs: int) -> Iterator[dict[str, Any]]:
    if n_jobs == 1 or len(tasks) == 1:
        for task in tasks:  # in-process: no worker start-up for a single run
            yield run_task(task)
        return
    from joblib import Parallel, delayed

    # batch_size=1 and unordered results: every run comes back (and is saved) as soon as it ends.
    parallel = Parallel(n_jobs=n_jobs, backend="loky", batch_size=1, return_as="generator_unordered")
    yield from parallel(delayed(run_task_in_worker)(t, os.getpid()) for t in tasks)


#: How long a client waits for a scheduler it cannot reach before the run fails with a ConnectionError.
DASK_CONNECT_TIMEOUT = "20s"


def _local_cluster(n_jobs: int) -> Any:
    """``n_jobs`` single-threaded Dask worker processes, no dashboard, only errors logged."""
    import logging

    import dask
    from dask.distributed import LocalCluster

    # Dask's default worker environment sets MALLOC_TRIM_THRESHOLD_, which makes glibc unmap every large
    # numpy buffer on free: these runs then take twice as long. Local workers keep only the thread limits.
    single = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": single}):
        return LocalCluster(
            n_workers=n_jobs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )


def _dispatch_dask(tasks: Sequence[Task], n_jobs: int, scheduler: str | None) -> Iterator[dict[str, Any]]:
    from dask.distributed import Client, as_completed

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
        else:
            cluster = _local_cluster(n_jobs)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        # The task key names the future: a scheduler that still holds a finished run returns it.
        futures = [client.submit(run_task, t, key=f"cgmm-run-{t.key}") for t in tasks]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def execute(
    tasks: Sequence[Task],
    out_dir: str | Path,
    *,
    backend: str = "loky",
    n_jobs: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> Execution:
    """Run the tasks not yet saved under ``out_dir/runs``, saving each the moment it finishes.

    Parameters
    ----------
    tasks : the tasks (duplicates, e.g. one setting in two panels, run once).
    out_dir : folder whose ``runs/`` subfolder holds one JSON file per finished run.
    backend : ``"loky"`` (joblib's local processes) or ``"dask"`` (a local Dask cluster, or the
        one at ``scheduler``).
    n_jobs : local worker processes (default: the usable CPUs); ignored with ``scheduler``.
    scheduler : address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    progress : show a progress bar over runs.
    """
    from joblib import cpu_count
    from tqdm.auto import tqdm

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}")
    if scheduler and backend != "dask":
        raise ValueError("--scheduler needs the dask backend (--backend dask)")
    if n_jobs is not None and n_jobs < 1:
        raise ValueError(f"n_jobs must be at least 1; got {n_jobs}")
    runs_dir = Path(out_dir) / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    for stale in runs_dir.glob(".*.tmp"):  # left by a run killed while writing (a write takes milliseconds)
        try:
            if time.time() - stale.stat().st_mtime > 60:
                stale.unlink()
        except FileNotFoundError:
            pass
    unique = {t.key: t for t in tasks}
    records: dict[str, dict[str, Any]] = {}
    for key in unique:
        record = read_run(runs_dir / f"{key}.json", key)
        if record is not None:
            records[key] = record
    pending = [t for key, t in unique.items() if key not in records]
    reused = len(records)
    jobs = max(1, min(n_jobs or cpu_count(), len(pending) or 1))
    start = time.perf_counter()
    with tqdm(total=len(unique), initial=reused, desc="runs", unit="run", disable=not progress, dynamic_ncols=True) as bar:
        if pending:
            stream = _dispatch_dask(pending, jobs, scheduler) if backend == "dask" else _dispatch_loky(pending, jobs)
            try:
                for record in stream:
                    write_run(record, runs_dir)
                    records[record["key"]] = record
                    bar.update(1)
            except (ConnectionError, KeyboardInterrupt):
                raise  # an unreachable scheduler and an interrupt are reported as such by the caller
            except Exception as exc:
                where = "; ".join(getattr(exc, "__notes__", [])) or "in a run"
                raise RunFailed(
                    f"{type(exc).__name__}: {exc} ({where}). {len(records)} of {len(unique)} runs are finished and kept "
                    f"in {runs_dir}: run again into the same folder to compute only the rest."
                ) from exc
    return Execution(records=records, computed=len(pending), reused=reused, seconds=time.perf_counter() - start)


def collect_rows(tasks: Sequence[Task], records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Long-format rows (:data:`RESULT_COLUMNS`) in task order, one per method and metric of each run."""
    rows = []
    for task in tasks:
        record = records[task.key]
        for row in record["rows"]:
            rows.append(
                {
                    "study": task.spec.name,
                    "kind": task.spec.kind,
                    "panel": task.setting.panel,
                    "x": task.setting.x,
                    "setting": task.setting.label,
                    "method": row["method"],
                    "seed": task.replicate,
                    "metric": row["metric"],
                    "value": row["value"],
                    "fit_seconds": row.get("fit_seconds", math.nan),
                    "run_seconds": record["run_seconds"],
                    "task": task.key,
                }
            )
    return rows


def run_studies(
    specs: Sequence[Any],
    out_dir: str | Path,
    *,
    backend: str = "loky",
    n_jobs: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> tuple[list[dict[str, Any]], Execution]:
    """Plan and execute every run of ``specs`` under ``out_dir``; returns (long-format rows, execution)."""
    tasks = plan(specs)
    execution = execute(tasks, out_dir, backend=backend, n_jobs=n_jobs, scheduler=scheduler, progress=progress)
    return collect_rows(tasks, execution.records), execution


__all__ = [
    "BACKENDS",
    "RESULT_COLUMNS",
    "TIME_COLUMNS",
    "RunFileWarning",
    "RunFailed",
    "StudySetting",
    "StudyKind",
    "register_kind",
    "get_kind",
    "learner_seed",
    "timed_fit",
    "known_kinds",
    "canonical_json",
    "Task",
    "plan",
    "run_task",
    "write_run",
    "read_run",
    "Execution",
    "run_task_in_worker",
    "execute",
    "collect_rows",
    "run_studies",
]
