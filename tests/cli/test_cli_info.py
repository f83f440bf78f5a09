"""`cgmm info` says what a model file is; `cgmm fit`'s estimator options reach the learner or are refused by name."""

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import contrastive_gmm as cg
from contrastive_gmm.cli import data as cli_data
from contrastive_gmm.cli.data import register
from contrastive_gmm.methods import all_methods

runner = CliRunner()
MODELS = Path(__file__).parents[1] / "data" / "models"
NAMES = [f"col_{j}" for j in range(10)]


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A small labelled table (240 rows, 10 named columns, 3 classes): fits of a few epochs take well under a second."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 80)
    X = rng.normal(size=(240, 10)) + 2.0 * np.eye(3, 10)[y]
    path = tmp_path_factory.mktemp("table") / "train.csv"
    lines = [",".join([*NAMES, "label"])] + [",".join([*(repr(float(v)) for v in row), f"c{c}"]) for row, c in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def _fit(app, table, out, *options, method="infonce"):
    return _ok(runner.invoke(app, ["fit", "--data", str(table), "--method", method, "-k", "2", "--out", str(out), "--quiet", *options]))


@pytest.fixture(scope="module")
def fitted(app, table, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m.npz"
    _fit(app, table, out, "--temperature", "3", "--epochs", "2", "--batch-size", "64", "--device", "cpu", "--seed", "4")
    return out


def _error_line(result):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and (result.exception is None or isinstance(result.exception, SystemExit))
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------------------- cgmm fit: the options reach the learner
def test_each_estimator_option_reaches_the_learner_and_the_file_records_it(fitted):
    info = cg.load_model(fitted).info
    params, diagnostics = info["learner"]["params"], info["learner"]["diagnostics"]
    assert info["learner"]["estimator"] == "InfoNCE"
    assert (params["temperature"], params["max_epochs"], params["batch_size"], params["device"], params["random_state"]) == (3.0, 2, 64, "cpu", 4)
    assert diagnostics["n_iter_"] == 2  # --epochs 2 stops after two passes
    assert info["random_state"] == 4


def test_the_defaults_are_the_learner_s_own(app, table, tmp_path):
    _fit(app, table, tmp_path / "d.npz", "--epochs", "1")
    params = cg.load_model(tmp_path / "d.npz").info["learner"]["params"]
    default = cg.InfoNCE()
    assert (params["temperature"], params["batch_size"], params["device"]) == (default.temperature, default.batch_size, default.device)


def test_seed_makes_fits_identical_and_another_seed_differs(app, table, tmp_path):
    maps = []
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        _fit(app, table, tmp_path / f"{name}.npz", "--epochs", "2", "--seed", seed)
        maps.append(cg.load_model(tmp_path / f"{name}.npz").components_)
    # Same seed, one thread (batches <= 2048 train single-threaded): bit-identical.
    np.testing.assert_array_equal(maps[0], maps[1])
    assert np.abs(maps[0] - maps[2]).max() > 1e-6


@pytest.mark.parametrize(
    "method, option, value, parameter",
    [
        ("pair_cca", "--epochs", "2", "max_epochs"),
        ("lda", "--temperature", "3", "temperature"),
        ("simsiam", "--temperature", "3", "temperature"),
        ("pca", "--batch-size", "64", "batch_size"),
        ("cca", "--device", "cpu", "device"),
    ],
)
def test_an_option_the_method_does_not_take_is_an_error_naming_both(app, tmp_path, method, option, value, parameter):
    out = tmp_path / "m.npz"
    # The data file does not exist: the option is refused before any work.
    line = _error_line(runner.invoke(app, ["fit", "--data", str(tmp_path / "none.csv"), "--method", method, "-k", "2", "--out", str(out), option, value]))
    assert line.startswith(f"error: {option}: {method}'s estimator (") and f"has no {parameter} parameter" in line, line
    takers = [m.name for m in all_methods() if parameter in m.parameters()]
    assert line.endswith(f"{option} applies to {', '.join(takers)} only.")
    assert not out.exists()


@pytest.mark.parametrize("method", ["lda", "pca"])
def test_seed_on_a_method_that_draws_nothing_is_an_error(app, table, tmp_path, method):
    line = _error_line(runner.invoke(app, ["fit", "--data", str(table), "--method", method, "-k", "2", "--out", str(tmp_path / "m"), "--seed", "1"]))
    assert line.startswith(f"error: --seed: {method} draws nothing at random"), line
    # Without --seed the same fit works, and its file records no seed.
    _fit(app, table, tmp_path / "m.npz", method=method)
    assert cg.load_model(tmp_path / "m.npz").info["random_state"] is None


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_a_temperature_that_is_not_positive_is_an_error(app, table, tmp_path, value):
    line = _error_line(runner.invoke(app, ["fit", "--data", str(table), "--method", "infonce", "-k", "2", "--out", str(tmp_path / "m"), "--temperature", value]))
    assert line.startswith("error: --temperature must be a finite number > 0"), line


def test_the_help_lists_the_methods_each_option_applies_to_as_the_registry_says():
    # The help is written without importing the learners; the check itself asks each estimator.
    for option, (parameter, methods) in cli_data._ESTIMATOR_OPTIONS.items():
        assert list(methods) == [m.name for m in all_methods() if parameter in m.parameters()], option
    seeded = [m.name for m in all_methods() if m.name not in cli_data._UNSEEDED]
    assert all(m.inputs == "pairs" or "random_state" in m.parameters() for m in all_methods() if m.name in seeded)
    assert all(m.inputs != "pairs" for m in all_methods() if m.name in cli_data._UNSEEDED)


def test_progress_goes_to_stderr_only_when_asked_and_stdout_stays_clean(app, table, tmp_path, monkeypatch):
    monkeypatch.setattr("contrastive_gmm.learners.training._PROGRESS_DELAY", 0.0)  # the fits are short: show the bar at once
    common = ["fit", "--data", str(table), "--method", "infonce", "-k", "2", "--epochs", "2"]
    loud = _ok(runner.invoke(app, [*common, "--out", str(tmp_path / "v.npz"), "--verbose"]))
    assert "InfoNCE" in loud.stderr and "epoch" in loud.stderr  # tqdm's bar, per epoch
    assert [line.split(":")[0] for line in loud.stdout.splitlines()] == ["Preprocessing", "Fitted infonce on 240 rows x 10 features, 3 classes"]
    plain = _ok(runner.invoke(app, [*common, "--out", str(tmp_path / "p.npz")]))  # not a terminal: no bar
    assert "epoch" not in plain.stderr and plain.stdout.count("\n") == 2
    quiet = _ok(runner.invoke(app, [*common, "--out", str(tmp_path / "q.npz"), "--quiet"]))
    assert quiet.stdout == "" and "epoch" not in quiet.stderr
    # The bar changes nothing in what is learned.
    np.testing.assert_array_equal(cg.load_model(tmp_path / "v.npz").components_, cg.load_model(tmp_path / "q.npz").components_)


def test_fit_help_documents_the_new_options(app):
    text = _ok(runner.invoke(app, ["fit", "--help"], terminal_width=200)).output
    for option in ("--temperature", "--epochs", "--batch-size", "--device", "--seed", "--verbose", "--quiet"):
        assert option in text


# ---------------------------------------------------------------------------- cgmm info
def _fields(output):
    """``Label: text`` lines (continuation lines joined) as a dict."""
    fields, last = {}, None
    for line in output.splitlines():
        head, sep, rest = line.partition(": ")
        if sep and not line.startswith(" "):
            last = head.strip()
            fields[last] = rest.strip()
        elif last is not None:
            fields[last] += " " + line.strip()
    return fields


def test_info_says_what_a_fitted_model_is(app, table, fitted):
    result = _ok(runner.invoke(app, ["info", str(fitted)], terminal_width=200))
    fields = _fields(result.stdout)
    info = cg.load_model(fitted).info
    assert fields["Method"] == "infonce (InfoNCE), one view"
    assert (fields["Input width"], fields["Output width"]) == ("10 features", "2 components")
    # Ten names are more than are listed in full: the first four and the last two.
    assert fields["Features"] == "col_0, col_1, col_2, col_3, ..., col_8, col_9 (10 columns)"
    assert fields["Training data"] == f"{table}: 240 rows x 10 features, 3 classes"
    assert info["data_shape"] == [240, 10]
    assert 0 < info["fit_seconds"] < 60 and fields["Fit time"].startswith(f"{info['fit_seconds']:.2f} s (fitted ")
    assert fields["Preprocessing"].startswith("used the 10 features as given")
    assert fields["Seed"] == "4"
    assert fields["Estimator"].startswith("InfoNCE(n_components=2, temperature=3,") and "max_epochs=2" in fields["Estimator"]
    assert fields["Diagnostics"].split(" = ")[0] in info["learner"]["diagnostics"]
    for name in ("n_iter_", "effective_rank_", "pair_correlations_", "closed_form_share_", "shrinkage_"):
        assert f"{name} = " in result.stdout, name
    assert result.stderr == ""


def test_info_json_is_the_model_summary(app, fitted):
    result = _ok(runner.invoke(app, ["info", "--json", str(fitted)]))
    summary = json.loads(result.stdout)
    assert summary == json.loads(json.dumps(cg.model_io.model_summary(fitted)))
    assert summary["feature_names"] == NAMES and summary["info"]["learner"]["diagnostics"]["n_iter_"] == 2


def test_info_on_a_two_view_model_gives_both_widths(app, tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6))
    np.savez(tmp_path / "views.npz", X=X, X2=np.hstack([X[:, :3], rng.normal(size=(200, 1))]) + 0.1 * rng.normal(size=(200, 4)))
    _ok(runner.invoke(app, ["fit", "--data", str(tmp_path / "views.npz"), "--method", "cca", "-k", "2", "--out", str(tmp_path / "c.npz")]))
    fields = _fields(_ok(runner.invoke(app, ["info", str(tmp_path / "c.npz")], terminal_width=200)).stdout)
    assert fields["Input widths"] == "view 1: 6 features; view 2: 4 features"
    assert fields["Features (view 2)"] == "4 unnamed columns (fitted on an array file)"
    assert fields["Training data"] == f"{tmp_path / 'views.npz'}: 200 rows x 6 features, second view 4 features"
    assert fields["Estimator"].startswith("CCA(n_components=2")


@pytest.mark.parametrize("name", ["infonce_wine_v1.npz", "clip_digits_views_v1.npz"])
def test_info_reads_the_files_of_release_0_1_0_and_says_what_they_lack(app, name):
    fields = _fields(_ok(runner.invoke(app, ["info", str(MODELS / name)], terminal_width=200)).stdout)
    assert fields["Model file"].startswith(f"{MODELS / name} (model format 1")
    assert fields["Fit time"] == "not recorded" and fields["Training data"].startswith("not recorded")
    assert fields["Estimator"].startswith("parameters and diagnostics not recorded")


def test_info_on_a_missing_or_corrupt_file_is_one_line(app, table, tmp_path):
    corrupt = tmp_path / "bad.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    np.savez(tmp_path / "data.npz", X=np.ones((3, 2)))
    for path, expected in [
        (tmp_path / "none.npz", "no such model file"),
        (corrupt, "is not a model file: cannot be read as an .npz archive"),
        (table, "is not a model file"),
        (tmp_path / "data.npz", "is not a model file: it has no JSON 'header' entry"),
    ]:
        for args in (["info", str(path)], ["info", "--json", str(path)]):
            result = runner.invoke(app, args)
            assert _error_line(result).startswith(f"error: {path}: {expected}")
            assert result.stdout == ""
