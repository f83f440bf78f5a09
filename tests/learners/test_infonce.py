"""The InfoNCE learner: finds the Fisher subspace where PCA fails, behaves as a scikit-learn estimator."""

import warnings
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import NotFittedError

import contrastive_gmm as cg


@pytest.fixture(scope="module")
def fitted(theory_setting):
    gmm, X, Xp, _ = theory_setting
    return cg.InfoNCE(5, random_state=0).fit(X, Xp)


def unequal_mixture() -> cg.GMM:
    """Means of very unequal separation: unconstrained cosine InfoNCE drops the weak directions."""
    base = cg.GMM.random(6, 40, random_state=0)
    U = np.linalg.svd(base.centred_means().T, full_matrices=False)[0][:, :5]
    coords = np.random.default_rng(5).standard_normal((6, 5)) * np.array([3, 2, 1.5, 1, 0.6])
    return cg.GMM(coords @ U.T, base.within_covariance)


def test_infonce_finds_fisher_where_pca_fails(theory_setting, fitted):
    gmm, X, _, z = theory_setting
    F = gmm.fisher_subspace()
    info = cg.subspace_angles(fitted.subspace(), F).max()
    lda = cg.subspace_angles(cg.learned_subspace(LinearDiscriminantAnalysis().fit(X, z)), F).max()
    pca = cg.subspace_angles(cg.learned_subspace(PCA(5).fit(X)), F).max()
    # LDA's error here is ~2-3 degrees (sd ~0.3 over seeds); the bound is 1.5x LDA or LDA + 2.
    assert info < max(1.5 * lda, lda + 2.0)
    assert pca > 80
    assert fitted.effective_rank_ == 5
    assert fitted.n_iter_ < 200  # stopped on the plateau (max_epochs=None allows 200 epochs at this n)


@pytest.mark.parametrize("delta", [0.3, 0.5])
def test_noisy_augmentation_still_points_to_fisher(delta):
    gmm = cg.GMM.random(4, 12, random_state=3)
    X, Xp, _, _ = gmm.sample_pairs(20000, cg.NoisyComponent(delta), random_state=4)
    F = gmm.fisher_subspace()
    info = cg.subspace_angles(cg.InfoNCE(3, random_state=0).fit(X, Xp).subspace(), F).max()
    pcca = cg.subspace_angles(cg.PairCCA(3).fit(X, Xp).subspace(), F).max()
    pca = cg.subspace_angles(cg.learned_subspace(PCA(3).fit(X)), F).max()
    assert info < max(1.5 * pcca, pcca + 2.0)
    assert info < 10 < 60 < pca


def test_fit_attributes_and_transform(theory_setting, fitted):
    gmm, X, Xp, _ = theory_setting
    assert fitted.components_.shape == (5, 40)
    assert fitted.singular_values_.shape == (5,) and fitted.pair_correlations_.shape == (5,)
    np.testing.assert_allclose(fitted.mean_, np.vstack([X, Xp]).mean(0))
    np.testing.assert_allclose(fitted.transform(X[:10]), (X[:10] - fitted.mean_) @ fitted.components_.T)
    # pair_whiten (default): a row minus its positive has identity covariance in the embedding.
    D = fitted.transform(X) - fitted.transform(Xp)
    np.testing.assert_allclose(D.T @ D / (2 * len(D)), np.eye(5), atol=1e-8)
    # Fisher directions are shared by anchor and positive: strong pair correlations.
    assert fitted.pair_correlations_.min() > 0.5


def test_same_seed_same_components_and_scale_independence():
    gmm = cg.GMM.random(4, 10, random_state=0)
    X, Xp, _, _ = gmm.sample_pairs(4000, random_state=0)
    a = cg.InfoNCE(3, random_state=7).fit(X, Xp)
    b = cg.InfoNCE(3, random_state=7).fit(X, Xp)
    np.testing.assert_array_equal(a.components_, b.components_)
    for scale in (1e-6, 1e6):
        c = cg.InfoNCE(3, random_state=7).fit(scale * X, scale * Xp)
        assert cg.subspace_angles(a.subspace(), c.subspace()).max() < 0.5
        np.testing.assert_allclose(c.transform(scale * X), a.transform(X), atol=0.05)


def test_unconstrained_cosine_collapse_is_reported_not_hidden():
    gmm = unequal_mixture()
    X, Xp, _, _ = gmm.sample_pairs(10000, random_state=2)
    with pytest.warns(cg.CollapseWarning, match="collapsed"):
        model = cg.InfoNCE(5, temperature=1.0, similarity="cosine", whiten_output=False, random_state=0).fit(X, Xp)
    assert model.effective_rank_ < 5
    assert model.singular_values_.min() < 1e-2 * model.singular_values_.max()
    # The default keeps every direction on the same data.
    default = cg.InfoNCE(5, random_state=0).fit(X, Xp)
    assert default.effective_rank_ == 5
    # The weakest direction is hard for any estimator at this n (pair CCA: 9.9-15.8 degrees over three
    # samples, the default within 0.3 degrees of it each time): the bound is pair CCA's, not a number.
    pcca = cg.subspace_angles(cg.PairCCA(5).fit(X, Xp).subspace(), gmm.fisher_subspace()).max()
    assert cg.subspace_angles(default.subspace(), gmm.fisher_subspace()).max() < max(1.2 * pcca, pcca + 1.0)


def test_sklearn_protocol(theory_setting, fitted):
    gmm, X, Xp, _ = theory_setting
    est = cg.InfoNCE(2, temperature=0.7, random_state=1)
    assert clone(est).get_params() == est.get_params()
    assert est.set_params(temperature=1.5).temperature == 1.5
    restored = pickle.loads(pickle.dumps(fitted))
    # The fitted arrays survive pickling bit for bit; the transforms are compared to rounding, as
    # BLAS may round differently for copies at other addresses (alignment picks its kernels).
    np.testing.assert_array_equal(restored.components_, fitted.components_)
    np.testing.assert_array_equal(restored.mean_, fitted.mean_)
    want = fitted.transform(X[:5])
    np.testing.assert_allclose(restored.transform(X[:5]), want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    small = cg.InfoNCE(2, max_epochs=2, random_state=0)
    np.testing.assert_allclose(
        small.fit_transform(X[:600], Xp[:600]),
        cg.InfoNCE(2, max_epochs=2, random_state=0).fit(X[:600], Xp[:600]).transform(X[:600]),
    )


def test_pair_cca_init_reaches_the_same_optimum(theory_setting, fitted):
    gmm, X, Xp, z = theory_setting
    warm = cg.InfoNCE(5, init="pair_cca", random_state=0).fit(X, Xp)
    # Both starts converge to the same InfoNCE optimum; what is left is the averaged iterates'
    # noise (two random seeds differ by ~0.6 degrees here), so 1.5 degrees is a loose bound.
    assert cg.subspace_angles(warm.subspace(), fitted.subspace()).max() < 1.5
    lda = cg.subspace_angles(cg.learned_subspace(LinearDiscriminantAnalysis().fit(X, z)), gmm.fisher_subspace()).max()
    assert cg.subspace_angles(warm.subspace(), gmm.fisher_subspace()).max() < max(1.5 * lda, lda + 2.0)
    assert warm.n_iter_ <= fitted.n_iter_


def test_float64_training_follows_the_float32_path(theory_setting, fitted):
    _, X, Xp, _ = theory_setting
    wide = cg.InfoNCE(5, dtype="float64", random_state=0).fit(X, Xp)
    # Same seed, same batches: the two runs differ only by rounding (measured 2e-5 degrees);
    # 0.5 degrees allows the rounding to be amplified by the mini-batch dynamics elsewhere.
    assert cg.subspace_angles(wide.subspace(), fitted.subspace()).max() < 0.5
    assert wide.components_.dtype == np.float64 and wide.effective_rank_ == 5


def test_averaging_stops_earlier_than_cooling_down(theory_setting, fitted):
    gmm, X, Xp, z = theory_setting
    cooled = cg.InfoNCE(5, average=False, random_state=0).fit(X, Xp)
    assert cooled.n_averaged_steps_ == 0 and fitted.n_averaged_steps_ >= 64
    assert fitted.n_iter_ < cooled.n_iter_
    F = gmm.fisher_subspace()
    lda = cg.subspace_angles(cg.learned_subspace(LinearDiscriminantAnalysis().fit(X, z)), F).max()
    # Both schedules reach the same accuracy class (measured 2.81 vs 2.82 degrees, LDA 2.6).
    assert cg.subspace_angles(cooled.subspace(), F).max() < max(1.5 * lda, lda + 2.0)
    assert cg.subspace_angles(fitted.subspace(), F).max() < cg.subspace_angles(cooled.subspace(), F).max() + 1.0


def test_verbose_shows_progress(capsys, theory_setting, monkeypatch):
    _, X, Xp, _ = theory_setting
    # A fit under a second shows no bar (it would only flash) ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cg.ClosedFormWarning)  # one step is far from the optimum, as meant
        cg.InfoNCE(2, max_epochs=1, verbose=True, random_state=0).fit(X[:500], Xp[:500])
    assert "InfoNCE" not in capsys.readouterr().err
    # ... and a longer one does: with no delay, even a short fit shows it.
    monkeypatch.setattr("contrastive_gmm.learners.training._PROGRESS_DELAY", 0.0)
    cg.InfoNCE(2, max_epochs=2, verbose=True, random_state=0).fit(X[:2000], Xp[:2000])
    assert "InfoNCE" in capsys.readouterr().err


GOOD = np.random.default_rng(0).standard_normal((50, 4))


@pytest.mark.parametrize(
    "X, X_pos, params, error, match",
    [
        (np.where(GOOD == GOOD[0, 0], np.nan, GOOD), GOOD, {}, ValueError, "NaN"),
        (GOOD, np.where(GOOD == GOOD[0, 0], np.inf, GOOD), {}, ValueError, "infinity"),
        (GOOD, GOOD[:40], {}, ValueError, "row-paired"),
        (GOOD, GOOD[:, :3], {}, ValueError, "same number of features"),
        (GOOD[:, 0], GOOD[:, 0], {}, ValueError, "2-D"),
        (GOOD[:1], GOOD[:1], {}, ValueError, "minimum of 2"),
        (GOOD, None, {}, ValueError, "positives"),
        (GOOD, GOOD, {"n_components": 0}, ValueError, "between 1 and 4"),
        (GOOD, GOOD, {"n_components": 5}, ValueError, "between 1 and 4"),
        (GOOD, GOOD, {"n_components": 2.5}, TypeError, "integer"),
        (GOOD, GOOD, {"temperature": 0}, ValueError, "temperature"),
        (GOOD, GOOD, {"temperature": -1.0}, ValueError, "temperature"),
        (GOOD, GOOD, {"similarity": "l2"}, ValueError, "similarity"),
        (GOOD, GOOD, {"batch_size": 0}, ValueError, "batch_size"),
        (GOOD, GOOD, {"lr": float("nan")}, ValueError, "lr"),
        (GOOD, GOOD, {"init": "pca"}, ValueError, "init"),
        (GOOD, GOOD, {"dtype": "float16"}, ValueError, "dtype"),
    ],
)
def test_bad_input_gets_a_clear_error(X, X_pos, params, error, match):
    with pytest.raises(error, match=match):
        cg.InfoNCE(**{"n_components": 2, "max_epochs": 1, **params}).fit(X, X_pos)


def test_transform_checks(fitted):
    with pytest.raises(NotFittedError):
        cg.InfoNCE(2).transform(GOOD)
    with pytest.raises(ValueError, match="is expecting 40 features"):
        fitted.transform(GOOD)


def test_a_numpy_generator_seeds_training_reproducibly_and_mps_is_refused_by_name():
    import torch

    from contrastive_gmm.learners.training import _torch_generator, check_device

    draws = [torch.rand(3, generator=_torch_generator(np.random.default_rng(s))).tolist() for s in (0, 0, 1)]
    assert draws[0] == draws[1] != draws[2]
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match=r"^device 'mps': MPS is not available here"):
            check_device("mps")
