"""Closed-form learners against the population oracle."""

import warnings

import numpy as np
import pytest
import scipy.linalg
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import contrastive_gmm as cg
from contrastive_gmm.linalg import pair_moments, top_generalized_eigvecs


@pytest.mark.parametrize("augmentation", [cg.SameComponent(), cg.NoisyComponent(0.3), cg.NoisyComponent(0.5)])
def test_pair_cca_equals_fisher_in_population(augmentation):
    gmm = cg.GMM.random(5, 30, random_state=3)
    C = gmm.pair_cross_covariance(augmentation)
    _, vecs = top_generalized_eigvecs((C + C.T) / 2, gmm.total_covariance(), 4)
    assert cg.subspace_angles(vecs, gmm.fisher_subspace()).max() < 1e-6


def test_pair_moments_match_numpy_and_do_not_depend_on_chunking():
    rng = np.random.default_rng(0)
    X, Xp = rng.standard_normal((1000, 5)), rng.standard_normal((1000, 5)) + 1
    mean, cov, cross = pair_moments(X, Xp, chunk=128)
    both = np.vstack([X, Xp])
    np.testing.assert_allclose(mean, both.mean(0))
    np.testing.assert_allclose(cov, np.cov(both.T, bias=True), atol=1e-12)
    C = (X - mean).T @ (Xp - mean) / 1000
    np.testing.assert_allclose(cross, (C + C.T) / 2, atol=1e-12)
    for a, b in zip((mean, cov, cross), pair_moments(X, Xp, chunk=10_000)):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_pair_cca_on_samples_is_as_accurate_as_lda(theory_setting):
    gmm, X, Xp, z = theory_setting
    F = gmm.fisher_subspace()
    pcca = cg.subspace_angles(cg.PairCCA(5).fit(X, Xp).subspace(), F).max()
    lda = cg.subspace_angles(cg.learned_subspace(LinearDiscriminantAnalysis().fit(X, z)), F).max()
    # Both are sqrt(n)-consistent estimators with similar constants (THEORY.md); a few degrees here.
    assert pcca < max(1.5 * lda, lda + 2.0)
    assert pcca < 6.0


def test_pair_cca_error_shrinks_with_n():
    gmm = cg.GMM.random(4, 20, random_state=2)
    F = gmm.fisher_subspace()
    errors = []
    for n in (1000, 64000):
        X, Xp, _, _ = gmm.sample_pairs(n, random_state=n)
        errors.append(cg.subspace_angles(cg.PairCCA(3).fit(X, Xp).subspace(), F).max())
    # Error ~ 1/sqrt(n): 8x fewer errors expected; ask for 3x to leave room for the noise.
    assert errors[1] < errors[0] / 3


def test_spectral_on_means_finds_fisher_only_when_the_noise_is_isotropic():
    iso = cg.GMM.random(4, 12, anisotropy=1.0, n_noise_directions=0, random_state=0)
    X, Xp, _, _ = iso.sample_pairs(20000, random_state=0)
    assert cg.subspace_angles(cg.SpectralOnMeans(3).fit(X, Xp).subspace(), iso.fisher_subspace()).max() < 5
    aniso = cg.GMM.random(4, 12, anisotropy=30.0, random_state=0)
    X, Xp, _, _ = aniso.sample_pairs(20000, random_state=0)
    assert cg.subspace_angles(cg.SpectralOnMeans(3).fit(X, Xp).subspace(), aniso.fisher_subspace()).max() > 20


def test_fisher_oracle_returns_the_mixtures_subspace():
    gmm = cg.GMM.random(3, 6, random_state=0)
    oracle = cg.FisherOracle(gmm).fit()
    np.testing.assert_allclose(oracle.components_.T, gmm.fisher_subspace())
    # ... which is Fisher's: the top K - 1 generalised eigenvectors of between vs within scatter,
    # computed here from the means, weights and covariance alone (numpy float64).
    d = gmm.means - gmm.weights @ gmm.means
    between = (gmm.weights[:, None] * d).T @ d
    vals, vecs = np.linalg.eig(np.linalg.solve(gmm.within_covariance, between))
    top = np.real(vecs[:, np.argsort(-np.real(vals))[:2]])
    assert cg.subspace_angles(oracle.components_.T, np.linalg.qr(top)[0]).max() < 1e-6
    X, _ = gmm.sample(10, random_state=0)
    np.testing.assert_allclose(oracle.transform(X), (X - gmm.mean) @ gmm.fisher_subspace())
    with pytest.raises(ValueError, match="dimension"):
        cg.FisherOracle(gmm).fit(np.zeros((3, 5)))
    with pytest.raises(TypeError, match="GMM"):
        cg.FisherOracle(None).fit()


def test_pair_cca_handles_more_features_than_samples():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 50))
    Xp = X + 0.1 * rng.standard_normal((20, 50))
    model = cg.PairCCA(3).fit(X, Xp)
    # n < d: the shrunk covariance keeps the problem well posed, and the pairs stay pairs in the
    # embedding (they differ by noise of 1% of the variance, so each direction's correlation is high).
    Z, Zp = model.transform(X), model.transform(Xp)
    assert all(np.corrcoef(Z[:, j], Zp[:, j])[0, 1] > 0.9 for j in range(3))


def test_pair_cca_is_scale_free():
    gmm = cg.GMM.random(4, 10, random_state=0)
    X, Xp, _, _ = gmm.sample_pairs(3000, random_state=0)
    a = cg.PairCCA(3).fit(X, Xp)
    b = cg.PairCCA(3).fit(1e6 * X, 1e6 * Xp)
    assert cg.subspace_angles(a.subspace(), b.subspace()).max() < 1e-4
    np.testing.assert_allclose(np.abs(a.transform(X)), np.abs(b.transform(1e6 * X)), rtol=1e-5, atol=1e-8)


GOOD = np.random.default_rng(0).standard_normal((50, 4))


@pytest.mark.parametrize("learner", [cg.PairCCA, cg.SpectralOnMeans])
@pytest.mark.parametrize(
    "X, X_pos, k, match",
    [
        (np.where(GOOD > 2, np.nan, GOOD), GOOD, 2, "NaN"),
        (GOOD, GOOD[:10], 2, "row-paired"),
        (GOOD, GOOD[:, :2], 2, "same number of features"),
        (GOOD[:, 0], GOOD[:, 0], 1, "2-D"),
        (GOOD[:1], GOOD[:1], 1, "minimum of 2"),
        (GOOD, None, 2, "None"),
        (GOOD, GOOD, 0, "between 1 and 4"),
        (GOOD, GOOD, 7, "between 1 and 4"),
    ],
)
def test_closed_forms_reject_bad_input(learner, X, X_pos, k, match):
    with pytest.raises(ValueError, match=match):
        learner(k).fit(X, X_pos)


def test_constant_data_is_refused_clearly():
    with pytest.raises(ValueError, match="zero variance"):
        cg.PairCCA(1).fit(np.ones((10, 3)), np.ones((10, 3)))


def test_spectral_on_means_orders_its_eigenpairs_and_names_itself_in_warnings():
    # Written against surviving mutants (tools/mutation.py): the order of eigenvalues_ and
    # components_, and the class name in the more-directions-than-classes warning.
    gmm = cg.GMM.random(4, 7, random_state=1)
    X, Xp, _, _ = gmm.sample_pairs(3000, random_state=1)
    model = cg.SpectralOnMeans(3).fit(X, Xp)
    _, _, cross = pair_moments(X, Xp)
    vals, vecs = np.linalg.eigh(cross)
    np.testing.assert_allclose(model.eigenvalues_, vals[::-1][:3], rtol=1e-10)
    for row, vec in zip(model.components_, vecs[:, ::-1].T):
        assert abs(row @ vec) == pytest.approx(1.0, abs=1e-8)  # same direction, up to sign
    Xl, yl = gmm.sample(600, random_state=2)
    with pytest.warns(UserWarning, match=r"^SpectralOnMeans: n_components=4 is more than"):
        cg.SpectralOnMeans(4).fit(Xl, yl)
    assert cg.PLSSVD().n_components == 2
    oracle = cg.FisherOracle(gmm).fit(X[:1])  # one row is enough to check the width
    assert oracle.components_.shape == (3, 7)


def test_pair_cca_eigenvalues_are_pair_correlations_with_population_moments():
    # On 12 pairs the population (1/2n) and sample (1/(2n - 1)) covariances differ by 4%: the eigenvalues must be
    # those of the population moments of the 24 stacked points (the normalisation of the cross-covariance).
    rng = np.random.default_rng(7)
    X = rng.normal(size=(12, 3)) + 4.0
    Xp = X + rng.normal(size=(12, 3)) * [0.3, 1.0, 2.0]
    model = cg.PairCCA(3, reg=1e-12, pair_whiten=False).fit(X, Xp)  # a ridge far below the 4% under test
    Z = np.vstack([X, Xp])
    m = Z.mean(0)
    cov = (Z - m).T @ (Z - m) / 24
    C = (X - m).T @ (Xp - m) / 12
    ref = scipy.linalg.eigh((C + C.T) / 2, cov, eigvals_only=True)[::-1]
    np.testing.assert_allclose(model.eigenvalues_, ref, rtol=1e-9, atol=1e-12)


def test_two_d_positives_are_not_mistaken_for_labels():
    # Binary features: the positives' array holds only the values 0 and 1, which as labels would be 2 classes and
    # warn for n_components=3. They are a second view (2-D), so no warning.
    rng = np.random.default_rng(0)
    X = (rng.random((300, 6)) < 0.5).astype(float)
    Xp = np.where(rng.random((300, 6)) < 0.9, X, 1 - X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cg.PairCCA(3).fit(X, Xp)
