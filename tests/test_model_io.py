"""Model files: every supported map round-trips to float precision, and nothing untrusted is unpickled."""

import json
import pickle

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import contrastive_gmm as cg
from contrastive_gmm.model_io import FORMAT_VERSION, ModelFileError, as_linear_map


@pytest.fixture(scope="module")
def data():
    gmm = cg.GMM.random(4, 8, random_state=0)
    X, X_pos, z, _ = gmm.sample_pairs(600, random_state=0)
    mm = cg.MultimodalGMM.random(4, 8, 6, random_state=0)
    A, B, zz = mm.sample(600, random_state=0)
    return X, X_pos, z, A, B


def _fitted_one_view(data):
    X, X_pos, z, _, _ = data
    # Few epochs: these tests are about the file, not about training.
    yield "infonce", cg.InfoNCE(3, max_epochs=3, random_state=0).fit(X, X_pos)
    yield "pair_cca", cg.PairCCA(3).fit(X, X_pos)
    yield "lda", LinearDiscriminantAnalysis(n_components=3).fit(X, z)
    yield "lda", LinearDiscriminantAnalysis(n_components=2, solver="eigen").fit(X, z)
    yield "pca", PCA(3).fit(X)
    yield "pca", PCA(3, whiten=True).fit(X)


def test_one_view_models_round_trip_to_float_precision(tmp_path, data):
    X = data[0]
    for i, (method, model) in enumerate(_fitted_one_view(data)):
        path = cg.save_model(model, tmp_path / f"m{i}.model", info={"seed": 3})
        loaded = cg.load_model(path)
        assert loaded.method == method and loaded.info == {"seed": 3}
        np.testing.assert_allclose(loaded.transform(X), model.transform(X), rtol=1e-12, atol=1e-12 * np.abs(model.transform(X)).max())


def test_clip_round_trips_both_views(tmp_path, data):
    _, _, _, A, B = data
    clip = cg.CLIP(3, max_epochs=3, random_state=0).fit(A, B)
    loaded = cg.load_model(cg.save_model(clip, tmp_path / "clip.npz"))
    assert isinstance(loaded, cg.TwoViewMap) and loaded.method == "clip"
    for got, want in zip(loaded.transform(A, B), clip.transform(A, B)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(loaded.view(2).transform(B), clip.transform(A, B)[1], atol=1e-12)


def test_header_is_documented_json_and_path_is_kept(tmp_path, data):
    path = cg.save_model(cg.PairCCA(2).fit(data[0], data[1]), tmp_path / "model.bin")
    assert path == tmp_path / "model.bin" and path.exists()  # no ".npz" appended
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(str(archive["header"]))
        assert sorted(archive.files) == ["components", "header", "mean"]
    assert header["format"] == "contrastive-gmm-model" and header["format_version"] == FORMAT_VERSION
    assert (header["method"], header["n_views"], header["n_features"], header["n_components"]) == ("pair_cca", 1, 8, 2)
    assert header["library_version"] == cg.__version__


class _Boom:
    """Unpickling this would create a file: proof that a loader ran code from the file."""

    def __init__(self, flag):
        self.flag = flag

    def __reduce__(self):
        return (open, (self.flag, "w"))


def test_a_pickle_inside_a_model_file_is_never_run(tmp_path):
    flag = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    header = json.dumps({"format": "contrastive-gmm-model", "format_version": 1, "method": "pca", "n_views": 1, "n_features": 1, "n_components": 1})
    np.savez(path, header=np.array(header), mean=np.array([_Boom(str(flag))], dtype=object), components=np.ones((1, 1)))
    with pytest.raises(ModelFileError, match="cannot be read as an .npz archive"):
        cg.load_model(path)
    pickled = tmp_path / "evil.pkl"
    pickled.write_bytes(pickle.dumps(_Boom(str(flag))))
    with pytest.raises(ModelFileError, match="is not a model file"):
        cg.load_model(pickled)
    assert not flag.exists()


def _write(path, header, **arrays):
    np.savez(path, header=np.array(json.dumps(header)), **arrays)
    return path


@pytest.mark.parametrize(
    "header_update, arrays, match",
    [
        ({"format": "other"}, {}, "is not a contrastive-gmm-model file"),
        ({"format_version": 99}, {}, "written in model format 99; .* reads up to 1"),
        ({"n_views": 3}, {}, "n_views 3"),
        ({"n_features": 5}, {}, "header says n_features = 5 but the arrays have 2"),
        ({}, {"components": np.ones((1, 3))}, "mean must have one entry per input feature"),
        ({}, {"components": np.array([[np.nan, 1.0]])}, "must be finite"),
        ({}, {"extra": np.ones(2)}, "must hold the arrays mean, components"),
        ({}, {"mean": np.array(["a", "b"])}, "array 'mean' must be numeric"),
        ({"feature_names": ["a"]}, {}, "feature_names must name each of the 2 input features; got 1 names"),
        ({"feature_names": ["a", "a"]}, {}, "feature_names names a column twice: 'a'"),
        ({"feature_names": ["a", 3]}, {}, "feature_names must be a sequence of column names"),
    ],
)
def test_malformed_model_files(tmp_path, header_update, arrays, match):
    header = {"format": "contrastive-gmm-model", "format_version": 1, "method": "pca", "n_views": 1, "n_features": 2, "n_components": 1}
    content = {"mean": np.zeros(2), "components": np.ones((1, 2))} | arrays
    path = _write(tmp_path / "m.npz", header | header_update, **content)
    with pytest.raises(ModelFileError, match=match) as info:
        cg.load_model(path)
    assert str(info.value).startswith(str(path))


def test_other_files_are_not_models(tmp_path):
    np.savez(tmp_path / "data.npz", X=np.ones((3, 2)))
    with pytest.raises(ModelFileError, match="no JSON 'header'"):
        cg.load_model(tmp_path / "data.npz")
    (tmp_path / "text.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ModelFileError, match="is not a model file"):
        cg.load_model(tmp_path / "text.csv")
    np.savez(tmp_path / "badjson.npz", header=np.array("{not json"), mean=np.zeros(1), components=np.ones((1, 1)))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        cg.load_model(tmp_path / "badjson.npz")
    with pytest.raises(ModelFileError, match="no such model file"):
        cg.load_model(tmp_path / "missing.npz")


def test_what_cannot_be_saved(tmp_path, data):
    with pytest.raises(TypeError, match="cannot save a KMeans"):
        from sklearn.cluster import KMeans

        cg.save_model(KMeans(2, n_init=1).fit(data[0]), tmp_path / "k.npz")
    with pytest.raises(TypeError, match="not fitted"):
        cg.save_model(cg.InfoNCE(2), tmp_path / "u.npz")
    with pytest.raises(TypeError, match="lsqr"):
        as_linear_map(LinearDiscriminantAnalysis(solver="lsqr").fit(data[0], data[2]))
    with pytest.raises(ValueError, match="JSON-serialisable"):
        cg.save_model(cg.LinearMap([0.0], [[1.0]]), tmp_path / "j.npz", info={"x": object()})
    with pytest.raises(ValueError, match="same width"):
        cg.TwoViewMap([0.0], [[1.0]], [0.0], [[1.0], [2.0]])


def test_loaded_map_checks_widths(tmp_path):
    loaded = cg.load_model(cg.save_model(cg.LinearMap([0.0, 0.0], [[1.0, 0.0]]), tmp_path / "m.npz"))
    with pytest.raises(ValueError, match="X has 3 features, but LinearMap is expecting 2 features"):
        loaded.transform(np.ones((1, 3)))


def test_feature_names_round_trip_and_old_files_still_load(tmp_path):
    named = cg.LinearMap([0.0, 0.0], [[1.0, 2.0]], method="demo", feature_names=["a", "b"])
    path = cg.save_model(named, tmp_path / "named.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert json.loads(str(archive["header"]))["feature_names"] == ["a", "b"]
    loaded = cg.load_model(path)
    # scikit-learn's convention: an object array of str, and no attribute at all without names.
    assert loaded.feature_names_in_.dtype == object and loaded.feature_names_in_.tolist() == ["a", "b"]
    header = {"format": "contrastive-gmm-model", "format_version": 1, "method": "pca", "n_views": 1, "n_features": 2, "n_components": 1}
    old = cg.load_model(_write(tmp_path / "old.npz", header, mean=np.zeros(2), components=np.ones((1, 2))))  # 0.1.0's layout
    assert not hasattr(old, "feature_names_in_")
    two = cg.TwoViewMap([0.0], [[2.0]], [1.0, 1.0], [[1.0, 1.0]], method="clip", x_feature_names=["x"], y_feature_names=["p", "q"])
    back = cg.load_model(cg.save_model(two, tmp_path / "two.npz"))
    assert back.feature_names_in_.tolist() == ["x"] and back.y_feature_names_in_.tolist() == ["p", "q"]
    assert back.view(2).feature_names_in_.tolist() == ["p", "q"]


def test_sklearn_feature_names_are_kept(tmp_path, data):
    X, _, z, _, _ = data
    pca = PCA(2).fit(X)
    pca.feature_names_in_ = np.array([f"f{j}" for j in range(X.shape[1])], dtype=object)  # as fitting on a DataFrame sets it
    assert cg.load_model(cg.save_model(pca, tmp_path / "p.npz")).feature_names_in_.tolist() == pca.feature_names_in_.tolist()


def test_check_feature_names_says_what_differs():
    m = cg.LinearMap(np.zeros(3), np.eye(3)[:1], feature_names=["a", "b", "c"])
    cg.check_feature_names(m, 3, ["a", "b", "c"])
    for names, match in [
        (["a", "c", "b"], "d.csv: the columns are the model's but in another order: column 2 is 'c' where the model has 'b'"),
        (["a", "b", "x"], "d.csv: the columns differ from the 3 the model was fitted on: missing 'c'; unexpected 'x'"),
        (["a", "b"], r"fitted on: missing 'c'\.$"),
    ]:
        with pytest.raises(cg.FeatureMismatchError, match=match):
            cg.check_feature_names(m, len(names), names, what="d.csv")
    with pytest.raises(cg.FeatureMismatchError, match="d.npy: has 2 feature column"):
        cg.check_feature_names(m, 2, None, what="d.npy")
    with pytest.warns(UserWarning, match="the data has no column names .* in the order 'a', 'b', 'c'"):
        cg.check_feature_names(m, 3, None)
    with pytest.warns(UserWarning, match="the model stores no column names"):
        cg.check_feature_names(cg.LinearMap(np.zeros(3), np.eye(3)[:1]), 3, ["a", "b", "c"])


# ---------------------------------------------------------------------------- what a file says about its fit (cgmm info)
@pytest.mark.filterwarnings("ignore::contrastive_gmm.learners.training.ClosedFormWarning")  # 2-3 epochs: wiring, not accuracy
def test_a_saved_estimator_records_its_parameters_and_diagnostics(tmp_path, data):
    X, X_pos, _, A, B = data
    infonce = cg.InfoNCE(3, temperature=4.0, max_epochs=3, random_state=0).fit(X, X_pos)
    learner = cg.load_model(cg.save_model(infonce, tmp_path / "i.npz")).info["learner"]
    assert learner["estimator"] == "InfoNCE" and learner["params"] == infonce.get_params()
    assert list(learner["params"])[:2] == ["n_components", "temperature"]  # the constructor's order, not sorted
    d = learner["diagnostics"]
    assert (d["n_iter_"], d["effective_rank_"], d["loss_curve_[-1]"]) == (3, infonce.effective_rank_, infonce.loss_curve_[-1])
    for name in ("pair_correlations_", "closed_form_share_", "shrinkage_", "singular_values_"):
        np.testing.assert_array_equal(d[name], getattr(infonce, name))  # JSON keeps float64 exactly
    assert "components_" not in d and "mean_" not in d and "loss_curve_" not in d  # the map is the file's arrays
    clip = cg.CLIP(2, max_epochs=2, random_state=0).fit(A, B)
    assert cg.load_model(cg.save_model(clip, tmp_path / "c.npz")).info["learner"]["diagnostics"]["temperature_"] == clip.temperature_
    # A map carries its own info; an explicit info is stored as given.
    assert cg.load_model(cg.save_model(cg.LinearMap([0.0], [[1.0]]), tmp_path / "m.npz")).info == {}
    assert cg.load_model(cg.save_model(infonce, tmp_path / "j.npz", info={"seed": 3})).info == {"seed": 3}


def test_learner_summary_is_json_and_leaves_out_what_has_no_short_json_form():
    from contrastive_gmm.model_io import learner_summary

    model = PCA(2, random_state=np.random.RandomState(0)).fit(np.random.default_rng(0).normal(size=(40, 3)))
    model.note_ = "x"
    model.big_ = np.arange(100.0)  # longer than a summary lists
    model.matrix_ = np.eye(2)  # not 1-D
    model.nan_ = float("nan")
    summary = json.loads(json.dumps(learner_summary(model), allow_nan=False))
    assert summary["params"]["random_state"].startswith("RandomState")  # no JSON form: its repr
    d = summary["diagnostics"]
    assert d["note_"] == "x" and d["nan_"] == "nan" and d["n_samples_"] == 40
    assert not {"big_", "matrix_", "components_", "mean_", "n_features_in_"} & set(d)


def test_model_summary_of_one_and_two_view_files(tmp_path):
    from contrastive_gmm.model_io import model_summary

    two = cg.TwoViewMap([0.0], [[2.0]], [1.0, 1.0], [[1.0, 1.0]], method="clip", info={"seed": 1}, y_feature_names=["p", "q"])
    s = model_summary(cg.save_model(two, tmp_path / "two.npz"))
    assert (s["method"], s["label"], s["n_views"], s["n_features"], s["n_features_view2"], s["n_components"]) == ("clip", "CLIP", 2, 1, 2, 1)
    assert (s["feature_names"], s["feature_names_view2"], s["info"], s["library_version"]) == (None, ["p", "q"], {"seed": 1}, cg.__version__)
    assert model_summary(cg.save_model(cg.LinearMap([0.0], [[1.0]], method="mine"), tmp_path / "m.npz"))["label"] is None
    with pytest.raises(ModelFileError, match="no such model file"):
        model_summary(tmp_path / "none.npz")
