"""`fit` / `transform` on a local Typer app: round trips of users' CSV and NPZ files, and one-line errors."""

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import contrastive_gmm as cg
from contrastive_gmm.cli_data import register

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


@pytest.mark.parametrize("method", ["lda", "pca", "infonce"])
def test_csv_round_trip(app, wine_files, tmp_path, method):
    folder, X, y = wine_files
    model, out = tmp_path / "m.model", tmp_path / "z.csv"
    fit_out = _ok(runner.invoke(app, ["fit", "--data", str(folder / "wine.csv"), "--method", method, "-k", "2", "--out", str(model), "--standardize"]))
    assert "Fitted" in fit_out.stdout and "13 -> 2 features" in fit_out.stdout
    _ok(runner.invoke(app, ["transform", "--model", str(model), "--data", str(folder / "wine.csv"), "--out", str(out)]))
    embedded = cg.load_data_file(out)
    # The file holds exactly what the saved map computes, and the labels came along.
    np.testing.assert_array_equal(embedded.X, cg.load_model(model).transform(X))
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
        np.testing.assert_array_equal(cg.load_data_file(out).X, cg.load_model(model).transform(X))
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
    np.testing.assert_array_equal(z.X, fitted.view(1).transform(X1[keep]))
    np.testing.assert_array_equal(z.X2, fitted.view(2).transform(X2[keep]))
    # --view 2 embeds the main features with the second view's map.
    np.save(tmp_path / "right.npy", X2[keep])
    _ok(runner.invoke(app, ["transform", "--model", str(model), "--data", str(tmp_path / "right.npy"), "--out", str(tmp_path / "r.npy"), "--view", "2"]))
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"), z.X2)


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
        ("a,b\n1,2\n3,4\n2,2\n", ["--method", "pca", "-k", "5"], "n_components=5 is more than the 2 directions PCA can find"),
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
        (["transform", "--model", str(model), "--data", str(folder / "wine.npz"), "--out", str(tmp_path / "z.xlsx")], "unsupported output type '.xlsx'"),
        (["transform", "--model", str(model), "--data", str(folder / "wine.npz"), "--out", str(tmp_path / "z.csv"), "--view", "2"], "needs a two-view (clip) model"),
        (["fit", "--data", str(folder / "wine.npz"), "--method", "pca", "-k", "2", "--out", str(tmp_path / "no" / "dir" / "m.npz")], "No such file or directory"),
        (["fit", "--data", str(folder / "wine.txt"), "--method", "pca", "-k", "2", "--out", str(model)], "unsupported file type '.txt'"),
    ]
    np.save(tmp_path / "narrow.npy", X[:, :5])
    cases.append((["transform", "--model", str(model), "--data", str(tmp_path / "narrow.npy"), "--out", str(tmp_path / "z.csv")], "X has 5 features, but LinearMap is expecting 13 features"))
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
