"""The command line composes the library and writes what it says it writes."""

import csv

from typer.testing import CliRunner

from contrastive_gmm import __version__
from contrastive_gmm.cli import app

runner = CliRunner()


def test_reproduce_quick_writes_report_table_and_figure(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["reproduce", "--quick", "--n-pairs", "3000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Largest principal angle" in result.output
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert {r["method"] for r in rows} == {"InfoNCE", "pair CCA", "LDA (labels)", "PCA", "spectral on means"}
    angle = {(r["setting"], r["method"]): float(r["max_angle"]) for r in rows}
    for setting in {r["setting"] for r in rows}:
        assert angle[(setting, "PCA")] > 45
        assert angle[(setting, "InfoNCE")] < 25  # n = 3000 is small; the benchmark checks the 1.5x bound
    assert (out / "headline.png").stat().st_size > 10_000
    assert "headline.png" in (out / "report.md").read_text()


def test_version_and_bad_option():
    assert __version__ in runner.invoke(app, ["--version"]).output
    result = runner.invoke(app, ["reproduce", "--n-pairs", "5"])
    assert result.exit_code == 2
