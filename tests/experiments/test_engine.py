"""The engine: task keys and seeds, atomic resumable run files, and backends that agree."""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Literal

import pytest

from contrastive_gmm.experiments import engine
from contrastive_gmm.experiments.engine import (
    TIME_COLUMNS,
    RunFailed,
    RunFileWarning,
    StudySetting,
    Task,
    collect_rows,
    execute,
    plan,
    read_run,
    register_kind,
    run_studies,
    run_task,
)
from contrastive_gmm.experiments.spec import StudySpec, load_builtin, parse_study


def tiny_spec(**changes):
    """Four cheap runs: 2 settings x 2 seeds, InfoNCE and two closed forms on a 6-d mixture."""
    raw = {
        "kind": "fisher",
        "name": "tiny",
        "title": "Tiny",
        "seed": 5,
        "seeds": 2,
        "base": {"n_components": 3, "dim": 6, "n_pairs": 400, "n_test": 60},
        "methods": [{"learner": "infonce", "batch_size": 128}, {"learner": "pair_cca"}, {"learner": "pca"}],
        "sweeps": [{"axis": "noise_variance", "values": [0.5, 20]}],
    }
    raw.update(changes)
    return parse_study(raw, source="tiny")


def without_time(rows):
    return [{k: v for k, v in r.items() if k not in TIME_COLUMNS} for r in rows]


def test_task_key_depends_on_what_changes_numbers_only():
    spec = tiny_spec()
    renamed = tiny_spec(name="other", title="Another title", seeds=3)
    keys = [t.key for t in plan([spec])]
    assert len(set(keys)) == 4
    assert set(keys) < {t.key for t in plan([renamed])}  # name, title and replicate count don't change a run
    reseeded = tiny_spec(seed=6)
    assert not set(t.key for t in plan([reseeded])) & set(keys)


def test_task_key_changes_with_every_method_option_and_method_list():
    # A key that ignored a method's options would reuse stale runs silently after a spec edit.
    keys = {t.key for t in plan([tiny_spec()])}
    hotter = tiny_spec(methods=[{"learner": "infonce", "batch_size": 128, "temperature": 2.0}, {"learner": "pair_cca"}, {"learner": "pca"}])
    fewer = tiny_spec(methods=[{"learner": "infonce", "batch_size": 128}, {"learner": "pair_cca"}])
    renamed = tiny_spec(methods=[{"learner": "infonce", "batch_size": 128, "name": "mine"}, {"learner": "pair_cca"}, {"learner": "pca"}])
    for other in (hotter, fewer, renamed):
        assert not {t.key for t in plan([other])} & keys


@pytest.mark.parametrize("study", ["loss_zoo", "multimodal", "real_data"])
def test_every_kind_keys_its_runs_by_its_methods(study):
    spec = load_builtin([study], quick=True)[0]
    field = "learners" if study == "loss_zoo" else "methods"
    keys = {t.key for t in plan([spec])}
    dropped = spec.model_copy(update={field: list(getattr(spec, field))[:-1]})
    assert not {t.key for t in plan([dropped])} & keys


def test_seed_sequence_comes_from_seed_and_replicate():
    spec = tiny_spec()
    a, b = spec.expand()
    assert Task(spec, a, 1).seed_sequence().spawn_key == (1,)
    assert Task(spec, a, 1).seed_sequence().entropy == 5
    # Common random numbers: replicate r shares its streams across the settings of an axis ...
    assert Task(spec, a, 1).seed_sequence().generate_state(2).tolist() == Task(spec, b, 1).seed_sequence().generate_state(2).tolist()
    # ... unless the spec turns them off.
    independent = tiny_spec(common_random_numbers=False)
    a, b = independent.expand()
    assert Task(independent, a, 1).seed_sequence().spawn_key != Task(independent, b, 1).seed_sequence().spawn_key
    # The derivation itself is pinned: a run file is reused by its key, which does not hash the derivation, so
    # changing it would silently mix runs drawn two ways in one folder. These values are this release's.
    assert Task(independent, a, 1).seed_sequence().spawn_key == (1, 811705322353803732)
    assert Task(independent, b, 0).seed_sequence().spawn_key == (0, 365761557116029546)


def test_runs_are_saved_reused_and_corrupt_files_recomputed(tmp_path):
    spec = tiny_spec()
    tasks = plan([spec])
    first = execute(tasks, tmp_path, n_jobs=1, progress=False)
    assert first.computed == 4 and first.reused == 0
    files = sorted((tmp_path / "runs").glob("*.json"))
    assert len(files) == 4 and not list((tmp_path / "runs").glob(".*"))
    rows = collect_rows(tasks, first.records)
    assert {r["metric"] for r in rows} >= {"max_angle", "nmi", "effective_rank"}

    again = execute(tasks, tmp_path, n_jobs=1, progress=False)
    assert again.computed == 0 and again.reused == 4
    assert collect_rows(tasks, again.records) == rows  # time columns too: nothing was recomputed

    files[0].write_text(files[0].read_text()[:50])  # truncated, as by a crash mid-write
    record = json.loads(files[1].read_text())
    record["rows"][0]["value"] += 1.0  # edited: the checksum no longer matches
    files[1].write_text(json.dumps(record))
    with pytest.warns(RunFileWarning, match="corrupt or incomplete"):
        repaired = execute(tasks, tmp_path, n_jobs=1, progress=False)
    assert repaired.computed == 2 and repaired.reused == 2
    assert without_time(collect_rows(tasks, repaired.records)) == without_time(rows)


def test_read_run_rejects_a_file_of_another_task(tmp_path):
    spec = tiny_spec()
    t0, t1 = plan([spec])[:2]
    record = run_task(t0)
    from contrastive_gmm.experiments.engine import write_run

    path = write_run(record, tmp_path)
    assert read_run(path, t0.key)["rows"] == record["rows"]
    with pytest.warns(RunFileWarning):
        assert read_run(path, t1.key) is None


def test_loky_and_dask_give_the_numbers_of_a_single_process(tmp_path):
    spec = tiny_spec()
    local, _ = run_studies([spec], tmp_path / "one", n_jobs=1, progress=False)
    loky, _ = run_studies([spec], tmp_path / "loky", backend="loky", n_jobs=2, progress=False)
    assert without_time(loky) == without_time(local)

    distributed = pytest.importorskip("dask.distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dask's own start-up chatter is not under test
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
            dask_rows, execution = run_studies(
                [spec], tmp_path / "dask", backend="dask", scheduler=cluster.scheduler_address, progress=False
            )
    assert execution.computed == 4
    assert without_time(dask_rows) == without_time(local)


def test_dask_on_local_worker_processes_gives_the_numbers_of_a_single_process(tmp_path):
    # The backend cgmm uses with --backend dask and no scheduler: a LocalCluster of processes, which
    # pickles every task and imports the package afresh in each worker.
    spec = tiny_spec()
    local, _ = run_studies([spec], tmp_path / "one", n_jobs=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dask's own start-up chatter is not under test
        rows, execution = run_studies([spec], tmp_path / "dask", backend="dask", n_jobs=2, progress=False)
    assert execution.computed == 4
    assert without_time(rows) == without_time(local)


def test_an_unreachable_dask_scheduler_is_one_clear_error_after_the_connect_deadline(tmp_path, monkeypatch):
    from dask.utils import parse_timedelta

    assert parse_timedelta(engine.DASK_CONNECT_TIMEOUT) == 20  # the deadline cgmm --scheduler waits by default
    # A 2 s deadline: the error must come from it, not from Dask's own 30 s default.
    monkeypatch.setattr(engine, "DASK_CONNECT_TIMEOUT", "2s")
    start = time.perf_counter()
    with pytest.raises(ConnectionError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        execute(plan([tiny_spec()]), tmp_path, backend="dask", scheduler="tcp://127.0.0.1:9", progress=False)
    assert time.perf_counter() - start < 15
    assert not list((tmp_path / "runs").glob("*.json"))


def test_the_local_dask_cluster_is_single_threaded_worker_processes_with_only_thread_limits(monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_")
    for name in names:  # the workers must get the limits from the cluster, not inherit them from this process
        monkeypatch.delenv(name, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dask's own start-up chatter is not under test
        cluster = engine._local_cluster(1)
        try:
            with distributed.Client(cluster) as client:
                info = client.scheduler_info()
                env = client.run(lambda: {n: os.environ.get(n) for n in names})
                pids = client.run(os.getpid)
        finally:
            cluster.close()
    # One worker (as asked: not one per core), one thread, in its own process, BLAS limited to one thread and
    # none of Dask's malloc settings (which double these runs' time).
    assert [w["nthreads"] for w in info["workers"].values()] == [1]
    assert list(pids.values()) != [os.getpid()]
    assert list(env.values()) == [dict.fromkeys(names[:3], "1") | {"MALLOC_TRIM_THRESHOLD_": None}]


def test_bad_backend_arguments():
    with pytest.raises(ValueError, match="backend"):
        execute([], "unused", backend="spark")
    with pytest.raises(ValueError, match="--backend dask"):
        execute([], "unused", backend="loky", scheduler="tcp://localhost:1")


TINY_TOML = """
kind = "fisher"
name = "tiny"
title = "Tiny"
seed = 11
seeds = 2
base = { n_components = 3, dim = 6, n_pairs = 400, n_test = 60 }
methods = [{ learner = "infonce", batch_size = 128 }, { learner = "pair_cca" }, { learner = "pca" }]
[[sweeps]]
axis = "noise_variance"
values = [0.5, 2, 8, 20]
"""


def _table(path):
    with open(path, newline="") as fh:
        return [{k: v for k, v in r.items() if k not in TIME_COLUMNS} for r in csv.DictReader(fh)]


def test_sigkill_midway_then_rerun_equals_an_uninterrupted_run(tmp_path):
    from typer.testing import CliRunner

    from contrastive_gmm.cli.main import app

    spec_path = tmp_path / "tiny.toml"
    spec_path.write_text(TINY_TOML)
    runner = CliRunner()
    clean = runner.invoke(app, ["run", str(spec_path), "--out", str(tmp_path / "clean"), "--jobs", "1"])
    assert clean.exit_code == 0, clean.output

    killed = tmp_path / "killed"
    # A separate process (its own session, so the kill reaches anything it started), killed after its first run.
    proc = subprocess.Popen(
        [sys.executable, "-c", "from contrastive_gmm.cli.main import run; run()", "run", str(spec_path), "--out", str(killed), "--jobs", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list((killed / "runs").glob("*.json")):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((killed / "runs").glob("*.json")))
    assert 1 <= done < 8, "the kill should land midway"
    assert not (killed / "results.csv").exists()

    resumed = runner.invoke(app, ["run", str(spec_path), "--out", str(killed), "--jobs", "1"])
    assert resumed.exit_code == 0, resumed.output
    assert f"{8 - done} runs computed, {done} reused" in resumed.output
    assert _table(killed / "results.csv") == _table(tmp_path / "clean" / "results.csv")


_FLAKY = {"fail_at": None}


class _FlakySpec(StudySpec):
    """Three settings; the run of the one named in ``_FLAKY`` raises."""

    kind: Literal["flaky"] = "flaky"

    def expand(self) -> list[StudySetting]:
        return [StudySetting(f"x={x}", "x", float(x), {"x": x}) for x in (1, 2, 3)]

    def method_names(self) -> list[str]:
        return ["m"]

    def metric_names(self) -> list[str]:
        return ["v"]


def _flaky_run(spec, setting, seeds):
    if setting.label == _FLAKY["fail_at"]:
        raise FloatingPointError("the fit diverged")
    return [{"method": "m", "metric": "v", "value": setting.params["x"] * 1.0}]


register_kind("flaky", _FlakySpec, _flaky_run, lambda spec, rows, path: None)


def _flaky_spec():
    return parse_study({"kind": "flaky", "name": "flaky", "title": "Flaky", "seed": 0, "seeds": 1}, source="flaky")


def test_a_run_that_raises_names_itself_keeps_what_finished_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setitem(_FLAKY, "fail_at", "x=2")
    tasks = plan([_flaky_spec()])
    with pytest.raises(RunFailed, match=r"FloatingPointError: the fit diverged \(in the run of study 'flaky', setting 'x=2', replicate 0\)\. 1 of 3 runs"):
        execute(tasks, tmp_path, n_jobs=1, progress=False)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 1  # x=1 finished before x=2 raised
    monkeypatch.setitem(_FLAKY, "fail_at", None)
    again = execute(tasks, tmp_path, n_jobs=1, progress=False)
    assert (again.computed, again.reused) == (2, 1)
    assert sorted(r["value"] for r in collect_rows(tasks, again.records)) == [1.0, 2.0, 3.0]


def test_cgmm_run_reports_a_failed_run_in_one_line_with_exit_code_1(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from contrastive_gmm.cli import app

    monkeypatch.setitem(_FLAKY, "fail_at", "x=3")
    spec = tmp_path / "flaky.toml"
    spec.write_text('kind = "flaky"\nname = "flaky"\ntitle = "Flaky"\nseed = 0\nseeds = 1\n')
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: FloatingPointError: the fit diverged (in the run of study 'flaky', setting 'x=3', replicate 0).")
    assert line.endswith(f"`cgmm run {spec} --out {tmp_path / 'out'}` resumes.")


def test_temporary_files_of_killed_writers_are_removed_once_old(tmp_path):
    # A run killed mid-write leaves runs/.<key>.<random>.tmp; the next execute removes those older
    # than a minute (a write takes milliseconds) and leaves a fresh one, which a live writer may own.
    runs = tmp_path / "runs"
    runs.mkdir()
    old, fresh = runs / ".abc.old.tmp", runs / ".abc.fresh.tmp"
    old.write_text("{")
    fresh.write_text("{")
    os.utime(old, (time.time() - 120, time.time() - 120))
    execute(plan([_flaky_spec()]), tmp_path, n_jobs=1, progress=False)
    assert not old.exists() and fresh.exists()
    assert len(list(runs.glob("*.json"))) == 3


def test_registering_a_kind_again_is_harmless_and_a_clash_names_the_first_owner():
    # Written against surviving mutants (tools/mutation.py): what register_kind stores and when it refuses.
    def plot(spec, rows, path):
        return None

    kind = register_kind("flaky", _FlakySpec, _flaky_run, plot)  # the same spec class again: accepted
    assert (kind.name, kind.spec, kind.run, kind.plot) == ("flaky", _FlakySpec, _flaky_run, plot)
    assert engine.get_kind("flaky") is kind

    class Other(_FlakySpec):
        pass

    with pytest.raises(ValueError, match=rf"^a study kind named 'flaky' is already registered by {__name__}$"):
        register_kind("flaky", Other, _flaky_run, plot)
    assert engine.get_kind("flaky") is kind  # the refused one replaced nothing


# A kind whose runs report the process they ran in: which backend path ran a task is then observable. Workers
# import this module when they unpickle the spec, which registers the kind there too.
class _ProbeSpec(StudySpec):
    """Two runs; run x waits ``waits[x]`` seconds, then reports its pid and whether x=1's file existed."""

    kind: Literal["probe"] = "probe"
    runs_dir: str = ""
    waits: list[float] = [0.0, 0.0]

    def expand(self) -> list[StudySetting]:
        return [StudySetting(f"x={x}", "x", float(x), {"x": x}) for x in (1, 2)]


def _probe_run(spec, setting, seeds):
    start = time.time()
    first = sorted(Path(spec.runs_dir).glob("*.json")) if spec.runs_dir else []
    while spec.runs_dir and setting.params["x"] == 2 and not first and time.time() - start < spec.waits[1]:
        time.sleep(0.05)  # the second run watches for the first run's file, which must appear while it runs
        first = sorted(Path(spec.runs_dir).glob("*.json"))
    time.sleep(spec.waits[0] if setting.params["x"] == 1 else 0.0)
    rows = [{"method": "m", "metric": "pid", "value": float(os.getpid()), "fit_seconds": 0.25}]
    return rows + [{"method": "m", "metric": "saw_first", "value": float(bool(first))}]


register_kind("probe", _ProbeSpec, _probe_run, lambda spec, rows, path: None)


def _probe(**fields):
    return parse_study({"kind": "probe", "name": "probe", "title": "Probe", "seed": 0, "seeds": 1, **fields}, source="probe")


def _values(rows, metric):
    return [r["value"] for r in rows if r["metric"] == metric]


def test_one_job_or_one_run_executes_in_this_process(tmp_path):
    rows, _ = run_studies([_probe()], tmp_path, n_jobs=1, progress=False)
    assert _values(rows, "pid") == [os.getpid()] * 2
    tasks = plan([_probe()])
    assert [r["rows"][0]["value"] for r in engine._dispatch_loky(tasks[:1], 2)] == [os.getpid()]


def test_two_jobs_run_in_two_worker_processes_and_each_run_is_saved_as_it_ends(tmp_path):
    # Run x=1 ends after 0.5 s; run x=2 waits (up to 20 s) for x=1's file to appear while it is still running,
    # which it does only if results come back one at a time as they end, not all together at the end.
    spec = _probe(runs_dir=str(tmp_path / "runs"), waits=[0.5, 20.0])
    rows, execution = run_studies([spec], tmp_path, backend="loky", n_jobs=2, progress=False)
    pids = _values(rows, "pid")
    assert execution.computed == 2
    assert len(set(pids)) == 2 and os.getpid() not in pids  # one run per worker: batches of one
    assert _values(rows, "saw_first") == [0.0, 1.0]


def test_run_records_keep_fit_and_run_seconds_and_reject_a_row_without_a_value(tmp_path, monkeypatch):
    spec = _probe(waits=[0.2, 0.0])
    tasks = plan([spec])
    record = run_task(tasks[0])
    assert record["rows"][0]["fit_seconds"] == 0.25 and math.isnan(record["rows"][1]["fit_seconds"])
    assert 0.2 <= record["run_seconds"] < 30
    rows = collect_rows(tasks[:1], {tasks[0].key: record})
    assert [r["fit_seconds"] for r in rows][0] == 0.25 and math.isnan(rows[1]["fit_seconds"])
    assert rows[0]["run_seconds"] == record["run_seconds"]
    kind = SimpleNamespace(run=lambda *a: [{"method": "m", "metric": "v"}])
    monkeypatch.setattr(engine, "get_kind", lambda name: kind)
    with pytest.raises(ValueError, match=r"^the 'probe' run function returned a row without \['value'\]: "):
        run_task(tasks[0])


def test_run_files_are_written_through_a_hidden_temporary_file_beside_them(tmp_path, monkeypatch):
    # The clean-up of killed writers removes runs/.*.tmp: the temporary file must be named and placed so.
    tasks = plan([_probe()])
    record = run_task(tasks[0])
    runs = tmp_path / "runs"
    runs.mkdir()
    moves = []
    real_replace = os.replace
    monkeypatch.setattr(engine.os, "replace", lambda src, dst: (moves.append((src, dst)), real_replace(src, dst)))
    path = engine.write_run(record, runs)
    (src, dst), = moves
    assert Path(src).parent == runs and Path(src).name.startswith(f".{record['key']}.") and src.endswith(".tmp")
    assert Path(dst) == path == runs / f"{record['key']}.json"
    saved = read_run(path, record["key"])
    assert saved["key"] == record["key"] and saved["rows"][0] == record["rows"][0]

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(engine.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        engine.write_run(dict(record, key="other"), runs)
    assert sorted(p.name for p in runs.iterdir()) == [path.name]  # the temporary file went with the failure


def test_a_failure_outside_any_run_says_so_and_bad_n_jobs_is_named(tmp_path, monkeypatch):

    def full_disk(record, runs_dir):
        raise OSError("disk full")

    monkeypatch.setattr(engine, "write_run", full_disk)
    with pytest.raises(RunFailed, match=r"^OSError: disk full \(in a run\)\. 0 of 2 runs are finished"):
        execute(plan([_probe()]), tmp_path, n_jobs=1, progress=False)
    with pytest.raises(ValueError, match=r"^n_jobs must be at least 1; got 0$"):
        execute(plan([_probe()]), tmp_path, n_jobs=0, progress=False)


def test_run_studies_passes_the_scheduler_on(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(ConnectionError, match="tcp://127.0.0.1:9"):
        run_studies([_probe()], tmp_path, backend="dask", scheduler="tcp://127.0.0.1:9", progress=False)


def test_the_progress_bar_counts_runs(tmp_path, capsys):
    execute(plan([_probe()]), tmp_path, n_jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "runs: 100%" in err and "2/2" in err and ("run/s" in err or "s/run" in err)


def test_timed_fit_passes_keyword_arguments_times_the_call_and_silences_only_collapse():
    from contrastive_gmm.experiments.engine import timed_fit
    from contrastive_gmm.learners.training import CollapseWarning

    def fit(x, *, scale):
        time.sleep(0.05)
        warnings.warn("collapsed", CollapseWarning)
        return x * scale

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that escapes fails the call
        out, seconds = timed_fit(fit, 3, scale=2)
    assert out == 6 and 0.05 <= seconds < 5

    def noisy():
        warnings.warn("something else", RuntimeWarning)

    with pytest.warns(RuntimeWarning, match="something else"):
        timed_fit(noisy)


def test_run_studies_shows_progress_by_default_and_not_when_told(tmp_path, capsys):
    run_studies([_probe()], tmp_path / "quiet", n_jobs=1, progress=False)
    assert "runs:" not in capsys.readouterr().err
    run_studies([_probe()], tmp_path / "shown", n_jobs=1)
    assert "runs: 100%" in capsys.readouterr().err
