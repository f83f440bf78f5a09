"""`fit` / `transform` on a local Typer app: round trips of users' CSV and NPZ files, and one-line errors."""

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import contrastive_gmm as cg
from contrastive_gmm.cli.data import register

runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture(scope="module")
def wine_files(tmp_path_factory):
    """Wine as a user would have it: a CSV with a label column and the same data as an NPZ."""
    folder = tmp_path_factory.mktemp("wine")
    X, y = cg.load_real_dataset("wine")
    names = [f"f{j}" for j in range(X.shape[1])]
    lines = [",".join(names + ["label"])] + [",".join([repr(float(v)) for v in row] + [f"cultivar{c}"]) for row, c in zip(X, y)]
    (folder / "wine.csv").write_text("\n".join(lines) + "\n")
    np.savez(folder / "wine.npz", X=X, y=y)
    return folder, X, y


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def assert_same_floats(got, want):
    """Equal up to rounding: the file holds the map's output, but recomputing it here may round differently.

    BLAS picks its kernels (and so the order of the sums) by memory layout, alignment and
    thread count: a non-contiguous array and its contiguous copy differ by ~1e-15 relative
    (7e-15 was measured). 1e-12 of the embedding's scale is 1000x that, and far below any
    real error (a wrong column or map changes values at order 1).
    """
    got, want = np.asarray(got), np.asarray(want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * max(np.abs(want).max(), 1.0))


@pytest.mark.parametrize("method", ["lda", "pca", "infonce"])
def test_csv_round_trip(app, wine_files, tmp_path, method):
    folder, X, y = wine_files
    model, out = tmp_path / "m.model", tmp_path / "z.csv"
    fit_out = _ok(runner.invoke(app, ["fit", "--data", str(folder / "wine.csv"), "--method", method, "-k", "2", "--out", str(model), "--standardize"]))
    assert "Fitted" in fit_out.stdout and "13 -> 2 features" in fit_out.stdout
    _ok(runner.invoke(app, ["transform", "--model", str(model), "--data", str(folder / "wine.csv"), "--out", str(out)]))
    embedded = cg.load_data_file(out)
    # The file holds what the saved map computes (to rounding), and the labels came along.
    assert_same_floats(embedded.X, cg.load_model(model).transform(X))
    assert embedded.y.tolist() == [f"cultivar{c}" for c in y]
    # ... and what the library fits directly with the same options.
    direct = cg.fit_embedding(method, X, y=y, n_components=2, standardize=True, random_state=0)
    np.testing.assert_allclose(embedded.X, direct.transform(X), rtol=1e-10, atol=1e-10)
    if method != "pca":  # the label-aware maps separate the cultivars
        assert cg.cluster_scores(embedded.X, y)["nmi"] > 0.8


def test_npz_round_trip_and_formats(app, wine_files, tmp_path):
    folder, X, y = wine_files
    model = tmp_path / "lda.npz"
    _ok(runner.invoke(app, ["fit", "--data", str(folder / "wine.npz"), "--method", "lda", "-k", "2", "--out", str(model), "--standardize"]))
    for suffix in (".npz", ".npy", ".csv"):
        out = tmp_path / f"z{suffix}"
        _ok(runner.invoke(app, ["transform", "--model", str(model), "--data", str(folder / "wine.npz"), "--out", str(out)]))
        assert_same_floats(cg.load_data_file(out).X, cg.load_model(model).transform(X))
    assert cg.load_model(model).info["data"] == str(folder / "wine.npz")


def test_clip_on_two_views_in_an_npz(app, tmp_path):
    X1, X2, y = cg.load_digits_views()
    keep = slice(0, 300)
    np.savez(tmp_path / "views.npz", X=X1[keep], X2=X2[keep], y=y[keep])
    model = tmp_path / "clip.model"
    _ok(runner.invoke(app, ["fit", "--data", str(tmp_path / "views.npz"), "--method", "clip", "-k", "4", "--out", str(model)]))
    _ok(runner.invoke(app, ["transform", "--model", str(model), "--data", str(tmp_path / "views.npz"), "--out", str(tmp_path / "z.npz")]))
    z = cg.load_data_file(tmp_path / "z.npz")
    fitted = cg.load_model(model)
    # X1[keep] is a non-contiguous view; the file was embedded from its contiguous copy: rounding differs.
    assert_same_floats(z.X, fitted.view(1).transform(X1[keep]))
    assert_same_floats(z.X2, fitted.view(2).transform(X2[keep]))
    # --view 2 embeds the main features with the second view's map.
    np.save(tmp_path / "right.npy", X2[keep])
    _ok(runner.invoke(app, ["transform", "--model", str(model), "--data", str(tmp_path / "right.npy"), "--out", str(tmp_path / "r.npy"), "--view", "2"]))
    assert_same_floats(np.load(tmp_path / "r.npy"), z.X2)


def _error_line(result):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # handled, not crashed
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "content, args, expected",
    [
        ("a,b,label\n1,2,x\n3,,y\n", ["--method", "lda", "-k", "1"], "missing value in column 'b' at line 3"),
        ("a,b,label\n1,2,x\n3,oops,y\n", ["--method", "pca", "-k", "1"], "column 'b' must be numeric; found 'oops' at line 3"),
        ("a,b\n1,2\n3,4,5\n", ["--method", "pca", "-k", "1"], "line 3 has 3 fields but the header has 2"),
        ("a,b\n1,2\n3,4\n", ["--method", "lda", "-k", "1"], "lda needs labels"),
        ("a,b\n1,2\n3,4\n", ["--method", "infonce", "-k", "1"], "infonce needs positives"),
        ("a,b\n1,2\n3,4\n", ["--method", "clip", "-k", "1"], "clip needs a second view"),
        ("a,b\n1,2\n3,4\n2,2\n", ["--method", "pca", "-k", "5"], "--n-components=5 is more than the 2 directions PCA can find"),
    ],
)
def test_malformed_input_gets_one_line_and_exit_code_2(app, tmp_path, content, args, expected):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    line = _error_line(runner.invoke(app, ["fit", "--data", str(data), "--out", str(tmp_path / "m.npz"), *args]))
    assert line.startswith("error: ") and expected in line


def test_wrong_files_get_one_line_and_exit_code_2(app, wine_files, tmp_path):
    folder, X, _ = wine_files
    model = tmp_path / "pca.npz"
    _ok(runner.invoke(app, ["fit", "--data", str(folder / "wine.npz"), "--method", "pca", "-k", "2", "--out", str(model)]))
    cases = [
        (["transform", "--model", str(folder / "wine.npz"), "--data", str(folder / "wine.npz"), "--out", str(tmp_path / "z.csv")], "no JSON 'header'"),
        (["transform", "--model", str(folder / "wine.csv"), "--data", str(folder / "wine.npz"), "--out", str(tmp_path / "z.csv")], "is not a model file"),
        (["transform", "--model", str(model), "--data", str(model), "--out", str(tmp_path / "z.csv")], "unexpected array 'header'"),
        (["transform", "--model", str(model), "--data", str(tmp_path / "none.csv"), "--out", str(tmp_path / "z.csv")], "no such file"),
        (["transform", "--model", str(model), "--data", str(folder / "wine.npz"), "--out", str(tmp_path / "z.xlsx")], "error: --out: unsupported output type '.xlsx'"),
        (["transform", "--model", str(model), "--data", str(folder / "wine.npz"), "--out", str(tmp_path / "z.csv"), "--view", "2"], "needs a two-view (clip) model"),
        (["fit", "--data", str(folder / "wine.npz"), "--method", "pca", "-k", "2", "--out", str(tmp_path / "no" / "dir" / "m.npz")], "No such file or directory"),
        (["fit", "--data", str(folder / "wine.txt"), "--method", "pca", "-k", "2", "--out", str(model)], "unsupported file type '.txt'"),
    ]
    np.save(tmp_path / "narrow.npy", X[:, :5])
    cases.append((["transform", "--model", str(model), "--data", str(tmp_path / "narrow.npy"), "--out", str(tmp_path / "z.csv")], "narrow.npy: has 5 feature column(s), but the model was fitted on 13"))
    for args, expected in cases:
        line = _error_line(runner.invoke(app, args))
        assert line.startswith("error: ") and expected in line, (args, line)


def test_usage_errors_are_typer_s_exit_code_2(app, wine_files, tmp_path):
    folder = wine_files[0]
    result = runner.invoke(app, ["fit", "--data", str(folder / "wine.npz"), "--method", "tsne", "-k", "2", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "tsne" in result.output
    result = runner.invoke(app, ["fit", "--data", str(folder / "wine.npz"), "--method", "pca", "-k", "2", "--out", str(tmp_path / "m"), "--delta", "2"])
    assert result.exit_code == 2
    assert "--n-components" in _ok(runner.invoke(app, ["fit", "--help"])).output


# ---------------------------------------------------------------------------- nothing comes back silently wrong (issue 12)
def _write_csv(path, X, names, labels=None, label_name="label"):
    header = list(names) + ([label_name] if labels is not None else [])
    rows = [[repr(float(v)) for v in row] + ([str(c)] if labels is not None else []) for row, c in zip(X, labels if labels is not None else X)]
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return path


@pytest.fixture(scope="module")
def sklearn_wine(tmp_path_factory):
    """scikit-learn's wine with its own column names, as a user would export it, and an LDA model fitted on it."""
    from sklearn.datasets import load_wine

    wine = load_wine()
    folder = tmp_path_factory.mktemp("sklearn_wine")
    names = list(wine.feature_names)
    path = _write_csv(folder / "wine.csv", wine.data, names, wine.target)
    model = folder / "lda.model"
    result = _ok(runner.invoke(register_app(), ["fit", "--data", str(path), "--method", "lda", "-k", "2", "--out", str(model)]))
    return folder, wine.data, wine.target, names, path, model, result


def register_app():
    app = typer.Typer()
    register(app)
    return app


def test_lda_on_raw_wine_works_with_the_default_preprocessing_and_says_what_it_kept(sklearn_wine):
    _, X, y, names, _, model, result = sklearn_wine
    # Raw units would keep one direction (proline holds 99.8% of the raw variance); auto standardises first.
    assert "Preprocessing: standardised the 13 features" in result.stdout
    assert "PCA kept 12 directions (99% of the variance)" in result.stdout
    fitted = cg.load_model(model)
    assert fitted.feature_names_in_.tolist() == names
    assert cg.cluster_scores(fitted.transform(X), y)["nmi"] > 0.8  # scikit-learn's LDA on the same file: ~0.9


@pytest.mark.parametrize(
    "change, expected",
    [
        ("reorder", "the columns are the model's but in another order: column 1 is 'malic_acid' where the model has 'alcohol'"),
        ("rename", "the columns differ from the 13 the model was fitted on: missing 'proline'; unexpected 'Proline'"),
        ("label column renamed", "the columns differ from the 13 the model was fitted on: unexpected 'cultivar'"),
        ("drop", "the columns differ from the 13 the model was fitted on: missing 'ash'"),
    ],
)
def test_transform_refuses_columns_that_differ_from_the_model_s(app, sklearn_wine, tmp_path, change, expected):
    _, X, y, names, _, model, _ = sklearn_wine
    cols, label_name = list(range(13)), "label"
    if change == "reorder":
        cols[0], cols[1] = 1, 0
    if change == "drop":
        cols.remove(names.index("ash"))
    shown = ["Proline" if (change == "rename" and names[j] == "proline") else names[j] for j in cols]
    if change == "label column renamed":  # without --label-column it would be read as a 14th feature
        label_name = "cultivar"
    data = _write_csv(tmp_path / "other.csv", X[:20][:, cols], shown, y[:20], label_name)
    out = tmp_path / "z.csv"
    line = _error_line(runner.invoke(app, ["transform", "--model", str(model), "--data", str(data), "--out", str(out)]))
    assert line == f"error: {data}: {expected}."
    assert not out.exists()


def test_model_files_without_feature_names_still_transform_with_a_warning(app, sklearn_wine, tmp_path):
    _, X, _, _, path, model, _ = sklearn_wine
    fitted = cg.load_model(model)
    old = cg.save_model(cg.LinearMap(fitted.mean_, fitted.components_, method="lda"), tmp_path / "old.model")  # as 0.1.0 wrote it
    result = _ok(runner.invoke(app, ["transform", "--model", str(old), "--data", str(path), "--out", str(tmp_path / "z.npz")]))
    assert result.stderr.strip() == f"warning: {path}: the model stores no column names (it was fitted on an array, or saved by an older version), so only the number of columns was checked, not their names or order."
    assert_same_floats(cg.load_data_file(tmp_path / "z.npz").X, fitted.transform(X))


@pytest.mark.parametrize(
    "command, option, value, expected",
    [
        ("fit", "--label-column", "cultivar", "has no column 'cultivar' (asked for as the label column); its columns are alcohol, malic_acid"),
        ("fit", "--group-column", "object", "has no column 'object' (asked for as the group column)"),
        ("fit", "--view2-prefix", "right_", "has no column starting with 'right_' (asked for as the second-view prefix)"),
        ("transform", "--label-column", "cultivar", "has no column 'cultivar' (asked for as the label column)"),
        ("transform", "--group-column", "object", "has no column 'object' (asked for as the group column)"),
    ],
)
def test_a_column_option_that_names_no_column_is_an_error_naming_it(app, sklearn_wine, tmp_path, command, option, value, expected):
    _, _, _, _, path, model, _ = sklearn_wine
    io = ["--method", "pca", "-k", "2", "--out", str(tmp_path / "m.npz")] if command == "fit" else ["--model", str(model), "--out", str(tmp_path / "z.csv")]
    line = _error_line(runner.invoke(app, [command, "--data", str(path), *io, option, value]))
    assert line.startswith(f"error: {path}: {expected}"), line


def test_a_column_option_on_an_array_file_is_an_error(app, wine_files, tmp_path):
    folder = wine_files[0]
    result = runner.invoke(app, ["fit", "--data", str(folder / "wine.npz"), "--method", "lda", "-k", "2", "--out", str(tmp_path / "m"), "--label-column", "cultivar"])
    assert _error_line(result) == (
        f"error: {folder / 'wine.npz'}: the label column 'cultivar' applies to tables (.csv, .parquet), but a .npz file has no columns "
        "(labels are its array 'y', groups 'groups', a second view 'X2')."
    )


def test_the_default_label_column_may_be_absent_and_a_named_one_is_used(app, sklearn_wine, tmp_path):
    _, X, y, names, _, _, _ = sklearn_wine
    data = _write_csv(tmp_path / "cultivar.csv", X, names, y, "cultivar")
    result = _ok(runner.invoke(app, ["fit", "--data", str(data), "--method", "lda", "-k", "2", "--out", str(tmp_path / "m"), "--label-column", "cultivar"]))
    assert "3 classes: 13 -> 2 features" in result.stdout
    _ok(runner.invoke(app, ["fit", "--data", str(data), "--method", "pca", "-k", "2", "--out", str(tmp_path / "p")]))  # 'cultivar' is then a feature
    assert len(cg.load_model(tmp_path / "p").feature_names_in_) == 14


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--method", "lda", "-k", "2", "--delta", "0.5"], "error: --delta applies to contrastive pairs; lda uses the labels themselves."),
        (["--method", "lda", "-k", "2", "--variance", "0"], "error: --variance must be > 0"),
        (["--method", "infonce", "-k", "13", "--pairs-per-sample", "1"], "error: --n-components=13 is more than the 12 directions kept by preprocessing (0.99 of the variance): lower --n-components, raise --variance, or set --standardize"),
        (["--method", "lda", "-k", "3"], "error: --n-components=3 is more than the 2 directions LDA (labels) can find here"),
    ],
)
def test_errors_name_the_options_the_user_typed(app, sklearn_wine, tmp_path, args, expected):
    path = sklearn_wine[4]
    line = _error_line(runner.invoke(app, ["fit", "--data", str(path), "--out", str(tmp_path / "m"), *args]))
    assert line.startswith(expected), line
    for internal in ("n_components", "n_pairs_per_sample", "random_state", "path:"):
        assert internal not in line


def test_output_errors_name_out_and_come_before_any_work(app, tmp_path):
    X1, X2, y = cg.load_digits_views()
    np.savez(tmp_path / "views.npz", X=X1[:200], X2=X2[:200], y=y[:200])
    model = tmp_path / "clip.model"
    fitted = cg.TwoViewMap(np.zeros(32), np.eye(32)[:2], np.zeros(32), np.eye(32)[:2], method="clip")  # any two-view map
    cg.save_model(fitted, model)
    for out, expected in [
        ("z.npy", "error: --out: a .npy file holds one array; write the two views' embeddings to .npz or .csv"),
        ("z.xlsx", "error: --out: unsupported output type '.xlsx'"),
        ("z", "error: --out: unsupported output type '(no suffix)'"),
    ]:
        line = _error_line(runner.invoke(app, ["transform", "--model", str(model), "--data", str(tmp_path / "views.npz"), "--out", str(tmp_path / out)]))
        assert line.startswith(expected), line


def test_fit_refuses_a_model_file_named_as_a_table(app, sklearn_wine, tmp_path):
    for name in ("model.csv", "model.xlsx"):
        result = runner.invoke(app, ["fit", "--data", str(sklearn_wine[4]), "--method", "lda", "-k", "2", "--out", str(tmp_path / name)])
        assert result.exit_code == 2
        assert _error_line(result).startswith(f"error: --out: a model file is an .npz archive; got '{tmp_path / name}'")
        assert not (tmp_path / name).exists()


def test_library_warnings_reach_the_user_as_one_line_each(app, tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    data = _write_csv(tmp_path / "three.csv", rng.normal(size=(60, 4)) + y[:, None], ["a", "b", "c", "d"], y)
    result = _ok(runner.invoke(app, ["fit", "--data", str(data), "--method", "infonce", "-k", "3", "--pairs-per-sample", "1", "--out", str(tmp_path / "m")]))
    assert result.stderr.strip() == (
        "warning: infonce: --n-components=3 is more than the number of classes - 1 = 2; only 2 direction(s) can separate 3 classes, "
        "the rest follow within-class noise."
    )


@pytest.mark.filterwarnings("default::contrastive_gmm.learners.training.CollapseWarning")  # the suite makes it an error elsewhere
def test_a_collapse_warning_is_shown_not_swallowed(app, wine_files, tmp_path, monkeypatch):
    import warnings

    from contrastive_gmm import embedding

    original = embedding.fit_embedding

    def collapsing_fit(*args, **kwargs):
        warnings.warn("InfoNCE collapsed:\n  the embedding has rank 1 of 2.", cg.CollapseWarning)
        return original("pca", kwargs.pop("X", args[1]), n_components=kwargs["n_components"])

    monkeypatch.setattr(embedding, "fit_embedding", collapsing_fit)  # cgmm fit imports it when it runs
    result = _ok(runner.invoke(app, ["fit", "--data", str(wine_files[0] / "wine.npz"), "--method", "infonce", "-k", "2", "--out", str(tmp_path / "m")]))
    assert result.stderr.strip() == "warning: InfoNCE collapsed: the embedding has rank 1 of 2."


def test_label_and_group_errors_name_the_column(app, tmp_path):
    data = tmp_path / "lonely.csv"
    data.write_text("a,b,kind\n1,2,x\n3,4,x\n5,1,y\n")
    line = _error_line(runner.invoke(app, ["fit", "--data", str(data), "--method", "infonce", "-k", "1", "--out", str(tmp_path / "m"), "--label-column", "kind"]))
    assert line.startswith("error: the label column 'kind': every class needs at least 2 rows"), line
    data.write_text("a,b,obj\n1,2,o1\n3,4,o2\n5,1,o3\n")
    line = _error_line(runner.invoke(app, ["fit", "--data", str(data), "--method", "infonce", "-k", "1", "--out", str(tmp_path / "m"), "--group-column", "obj"]))
    assert line.startswith("error: the group column 'obj': no group has two or more rows"), line
