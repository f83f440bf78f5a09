"""The command line composes the library, writes what it says it writes, and fails in one line."""

import csv

import pytest
from typer.testing import CliRunner

from contrastive_gmm import __version__
from contrastive_gmm.experiments import spec as spec_module
from contrastive_gmm.cli.main import app
from contrastive_gmm.experiments.spec import builtin_study_files, parse_study

runner = CliRunner()

TINY = """
kind = "fisher"
name = "tiny"
title = "A tiny study"
seed = 3
seeds = 2
base = { n_components = 3, dim = 6, n_pairs = 400, n_test = 60 }
methods = [{ learner = "infonce", batch_size = 128 }, { learner = "pair_cca" }, { learner = "lda" }, { learner = "pca" }]

[[sweeps]]
axis = "noise_variance"
values = [0.5, 20]

[[claims]]
text = "Pair CCA is within {c.worst_ratio:.2f}x of LDA, PCA at least {p.min:.0f} degrees off once noise dominates."
checks = [
    { check = "close", as = "c", method = "pair CCA", reference = "LDA (labels)", factor = 3, slack = 5 },
    { check = "above", as = "p", method = "PCA", threshold = 45, x_min = 20 },
]

[quick]
seeds = 1
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def test_run_writes_results_figure_and_report_then_reuses_and_rerenders(tiny, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(tiny), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "[supported] tiny: Pair CCA is within" in result.output
    assert "4 runs computed, 0 reused" in result.output
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert list(rows[0]) == ["study", "kind", "panel", "x", "setting", "method", "seed", "metric", "value", "fit_seconds", "run_seconds", "task"]
    assert {r["method"] for r in rows} == {"InfoNCE", "pair CCA", "LDA (labels)", "PCA"}
    assert {r["seed"] for r in rows} == {"0", "1"}
    assert (out / "tiny.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    for text in ("![tiny](tiny.png)", "Pair CCA is within", "**supported**", "| setting | InfoNCE |", "numpy", "SeedSequence"):
        assert text in report

    again = runner.invoke(app, ["run", str(tiny), "--out", str(out), "--jobs", "1"])
    assert "0 runs computed, 4 reused" in again.output
    report = (out / "report.md").read_text()

    (out / "report.md").unlink()
    (out / "tiny.png").unlink()
    rerendered = runner.invoke(app, ["report", str(out)])
    assert rerendered.exit_code == 0, rerendered.output
    assert (out / "report.md").read_text().split("## Software")[0] == report.split("## Software")[0]
    assert (out / "tiny.png").exists()


def test_quick_applies_the_overlay(tiny, tmp_path):
    result = runner.invoke(app, ["run", str(tiny), "--quick", "--out", str(tmp_path / "q"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "2 runs computed" in result.output


def test_reproduce_runs_the_selected_builtin_studies(monkeypatch, tmp_path):
    # The shipped studies take minutes; the command's wiring is what is under test here.
    seen = {}

    def fake_load_builtin(only, quick):
        seen.update(only=only, quick=quick)
        return [parse_study(__import__("tomllib").loads(TINY), source="tiny", quick=quick)]

    monkeypatch.setattr(spec_module, "load_builtin", fake_load_builtin)  # the command imports it when it runs
    out = tmp_path / "r"
    result = runner.invoke(app, ["reproduce", "--quick", "--only", "headline,noise", "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert seen == {"only": ["headline", "noise"], "quick": True}
    assert "cgmm reproduce --quick --only headline --only noise" in (out / "report.md").read_text()


def test_list_shows_every_shipped_study():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    for name in builtin_study_files():
        assert name in result.output


@pytest.mark.parametrize(
    "change, message",
    [
        ("seeds = 0", "tiny.toml: seeds: Input should be greater than or equal to 1 (got 0)"),
        ("colour = 'red'", "tiny.toml: colour: Extra inputs are not permitted"),
        ("kind = 'nope'", "tiny.toml: kind: unknown study kind 'nope'"),
        ("base = { n_components = 3, dim = 6, delta = 1.5 }", "tiny.toml: base.delta: Input should be less than or equal to 1 (got 1.5)"),
        ("base = { n_components = 6, dim = 6 }", "tiny.toml: sweeps.0.values.0: dim=6 is too small for n_components=6"),
        ("methods = [{ learner = 'infonce', similarity = 'angle' }]", "tiny.toml: methods.0: infonce.similarity: Input should be 'cosine' or 'dot' (got 'angle')"),
        ("methods = [{ learner = 'pca' }]", "claims.0.checks.0.method: unknown method 'pair CCA'"),
        ("seed = = 3", "tiny.toml: invalid TOML"),
    ],
)
def test_a_bad_spec_fails_before_any_work_in_one_line(tmp_path, change, message):
    key = change.split("=")[0].strip()
    lines = [ln for ln in TINY.splitlines() if not ln.startswith(key + " ")]
    # Replace the field in place (top-level keys must come before the first table).
    head = lines.index("[[sweeps]]")
    path = tmp_path / "tiny.toml"
    path.write_text("\n".join(lines[:head] + [change] + lines[head:]))
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "never")])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "never").exists()


def test_unknown_study_missing_folder_version_and_bad_option(tmp_path):
    result = runner.invoke(app, ["reproduce", "--only", "nope"])
    assert result.exit_code == 2 and "unknown study 'nope'" in result.stderr
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "studies.json" in result.stderr
    assert __version__ in runner.invoke(app, ["--version"]).output
    assert runner.invoke(app, ["reproduce", "--backend", "spark"]).exit_code == 2
