"""The mixture, its augmentations and its population oracles, against closed forms."""

import numpy as np
import pytest
import scipy.linalg

import contrastive_gmm as cg


@pytest.fixture(scope="module")
def gmm():
    return cg.GMM.random(4, 8, weights=[0.1, 0.2, 0.3, 0.4], random_state=0)


def test_sample_moments_match_the_mixture(gmm):
    n = 200_000
    X, z = gmm.sample(n, random_state=1)
    # Component frequencies: binomial sd sqrt(p(1-p)/n) <= 0.0011; 5 sd.
    np.testing.assert_allclose(np.bincount(z, minlength=4) / n, gmm.weights, atol=0.0055)
    # Mean and covariance of the whole mixture: relative error ~ 1/sqrt(n) ~ 0.002 per entry.
    scale = np.sqrt(np.diag(gmm.total_covariance()))
    np.testing.assert_allclose((X.mean(0) - gmm.mean) / scale, 0, atol=0.015)
    corr_err = (np.cov(X.T) - gmm.total_covariance()) / np.outer(scale, scale)
    assert np.abs(corr_err).max() < 0.02
    # Within-component covariance from residuals.
    R = X - gmm.means[z]
    within_err = (R.T @ R / n - gmm.within_covariance) / np.outer(scale, scale)
    assert np.abs(within_err).max() < 0.02


def test_same_component_pairs_are_independent_draws_of_one_component(gmm):
    X, Xp, z, zp = gmm.sample_pairs(100_000, random_state=2)
    assert np.array_equal(z, zp)
    m = gmm.mean
    C = (X - m).T @ (Xp - m) / len(X)
    scale = np.sqrt(np.diag(gmm.total_covariance()))
    # E[(x - m)(x+ - m)^T] = S_B for same-component pairs.
    assert np.abs((C - gmm.between_scatter()) / np.outer(scale, scale)).max() < 0.03
    np.testing.assert_allclose(gmm.pair_cross_covariance(), gmm.between_scatter())


@pytest.mark.parametrize("delta", [0.3, 0.5])
def test_noisy_pairs_keep_the_marginal_and_shrink_the_cross_covariance(gmm, delta):
    aug = cg.NoisyComponent(delta)
    n = 200_000
    X, Xp, z, zp = gmm.sample_pairs(n, aug, random_state=3)
    # P(z+ != z) = delta * (1 - sum pi_k^2); binomial sd < 0.0012.
    expected = delta * (1 - np.sum(gmm.weights**2))
    assert abs(np.mean(z != zp) - expected) < 0.006
    np.testing.assert_allclose(np.bincount(zp, minlength=4) / n, gmm.weights, atol=0.006)
    np.testing.assert_allclose(gmm.pair_cross_covariance(aug), (1 - delta) * gmm.between_scatter(), atol=1e-12)
    Q = aug.transition_matrix(gmm.weights)
    np.testing.assert_allclose(Q.sum(1), 1)
    np.testing.assert_allclose(gmm.weights @ Q, gmm.weights)  # pi is stationary


def test_fisher_subspace_is_the_span_of_whitened_mean_differences(gmm):
    F = gmm.fisher_subspace()
    assert F.shape == (8, 3)
    np.testing.assert_allclose(F.T @ F, np.eye(3), atol=1e-12)
    directions = np.linalg.solve(gmm.within_covariance, gmm.centred_means().T)  # S_W^{-1}(mu_k - mubar)
    assert cg.subspace_angles(F, directions).max() < 1e-6


def test_fisher_subspace_matches_lda_on_a_large_sample():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    gmm = cg.GMM.random(5, 20, random_state=4)
    X, z = gmm.sample(100_000, random_state=5)
    lda = LinearDiscriminantAnalysis().fit(X, z)
    # LDA's error scales like sqrt(d / n) ~ 0.014 rad ~ 0.8 degrees here.
    assert cg.subspace_angles(cg.learned_subspace(lda), gmm.fisher_subspace()).max() < 3.0


def test_random_mixture_defeats_pca_but_not_fisher():
    gmm = cg.GMM.random(6, 40, random_state=0)
    top = np.linalg.eigh(gmm.total_covariance())[1][:, -5:]
    assert cg.subspace_angles(top, gmm.fisher_subspace()).max() > 80
    iso = cg.GMM.random(6, 40, anisotropy=1.0, n_noise_directions=0, random_state=0)
    top = np.linalg.eigh(iso.total_covariance())[1][:, -5:]
    assert cg.subspace_angles(top, iso.fisher_subspace()).max() < 1e-6


def test_fisher_subspace_with_fewer_components_keeps_the_most_discriminative():
    gmm = cg.GMM.random(4, 6, random_state=1)
    vals, vecs = scipy.linalg.eigh(gmm.between_scatter(), gmm.within_covariance)
    assert cg.subspace_angles(gmm.fisher_subspace(1), vecs[:, -1]).max() < 1e-6
    with pytest.raises(ValueError, match="n_components"):
        gmm.fisher_subspace(4)


@pytest.mark.parametrize(
    "means, cov, weights, match",
    [
        (np.zeros((3,)), np.eye(3), None, "2-D"),
        (np.zeros((1, 3)), np.eye(3), None, "at least 2 components"),
        (np.zeros((2, 3)), np.eye(2), None, "3 x 3"),
        (np.zeros((2, 2)), [[1.0, 0.5], [0.0, 1.0]], None, "symmetric"),
        (np.zeros((2, 2)), [[1.0, 2.0], [2.0, 1.0]], None, "positive definite"),
        (np.zeros((2, 2)), np.diag([1.0, np.nan]), None, "NaN"),
        ([[0.0, np.inf], [1.0, 1.0]], np.eye(2), None, "NaN or infinity"),
        (np.zeros((2, 2)), np.eye(2), [0.5, 0.6], "sum to 1"),
        (np.zeros((2, 2)), np.eye(2), [1.5, -0.5], "non-negative"),
        (np.zeros((2, 2)), np.eye(2), [1.0], "one entry per component"),
    ],
)
def test_invalid_mixture_is_rejected_with_a_clear_message(means, cov, weights, match):
    with pytest.raises(ValueError, match=match):
        cg.GMM(means, cov, weights)


def test_invalid_augmentation_and_sizes():
    gmm = cg.GMM.random(3, 4, random_state=0)
    with pytest.raises(ValueError, match="delta"):
        cg.NoisyComponent(1.5)
    with pytest.raises(TypeError, match="augmentation"):
        gmm.sample_pairs(10, augmentation="noisy")
    with pytest.raises(ValueError, match="n must be"):
        gmm.sample(0)
    with pytest.raises(ValueError, match="dim must be at least"):
        cg.GMM.random(6, 5)


def test_sampling_is_reproducible():
    gmm = cg.GMM.random(3, 4, random_state=0)
    a = gmm.sample_pairs(50, cg.NoisyComponent(0.5), random_state=7)
    b = gmm.sample_pairs(50, cg.NoisyComponent(0.5), random_state=7)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_predicted_subspace_is_the_sample_pair_correlation_problem_off_centre():
    # Shifted means and a channel that changes the positives' component frequencies (so the pooled mean of anchors
    # and positives is not the mixture mean): centring at the wrong point or mis-weighting a moment moves the
    # eigenvalues. The reference is the same generalised eigenproblem on 400000 sampled pairs; the eigenvalues are
    # pair correlations, whose sampling error is ~1/sqrt(n) = 0.0016, so 0.01 is ~6 sd.
    base = cg.GMM.random(3, 5, weights=[0.2, 0.3, 0.5], random_state=3)
    gmm = cg.GMM(base.means + 5.0, base.within_covariance, base.weights)
    aug = cg.ChannelAugmentation([[0.6, 0.4, 0.0], [0.1, 0.9, 0.0], [0.0, 0.3, 0.7]])
    pred = cg.predicted_subspace(gmm, aug)
    n = 400_000
    X, Xp, _, _ = gmm.sample_pairs(n, aug, random_state=4)
    m = (X.mean(0) + Xp.mean(0)) / 2
    A, B = X - m, Xp - m
    C = A.T @ B / n
    vals, vecs = scipy.linalg.eigh((C + C.T) / 2, (A.T @ A + B.T @ B) / (2 * n))
    vals, vecs = vals[::-1], vecs[:, ::-1]
    np.testing.assert_allclose(pred.eigenvalues, vals, atol=0.01)
    assert pred.dim == int(np.sum(vals > 0.01)) == 2
    assert pred.subspace.shape == (5, 2)
    assert cg.subspace_angles(pred.subspace, vecs[:, :2]).max() < 2.0
    assert pred.gap == pytest.approx(pred.eigenvalues[1] - pred.eigenvalues[2], abs=1e-12)
    # All d directions asked for: no eigenvalue after the last, so the gap is the last eigenvalue itself.
    every = cg.predicted_subspace(gmm, aug, n_components=5)
    assert every.subspace.shape == (5, 5)
    assert every.gap == pytest.approx(every.eigenvalues[4], abs=1e-12)


def test_predicted_subspace_of_a_channel_that_forgets_the_component_is_empty():
    # Every row of Q equal to the weights: the positive says nothing about its anchor, C = 0, nothing to learn;
    # the subspace falls back to one direction so that callers still get a (d, 1) basis.
    gmm = cg.GMM.random(3, 5, weights=[0.2, 0.3, 0.5], random_state=3)
    pred = cg.predicted_subspace(gmm, cg.ChannelAugmentation(np.tile(gmm.weights, (3, 1))))
    assert pred.dim == 0
    assert pred.subspace.shape == (5, 1)
    np.testing.assert_allclose(pred.eigenvalues, 0, atol=1e-9)


def test_a_channel_is_renormalised_to_exact_row_sums_and_a_bad_one_shows_its_row_sums():
    # Rows within 1e-8 of summing to one (round-off from the user's arithmetic) are accepted and divided by their
    # own sums, row by row, so that sampling sees an exactly stochastic matrix.
    Q = np.array([[0.3, 0.7 + 5e-9], [0.6 - 3e-9, 0.4]])
    aug = cg.ChannelAugmentation(Q)
    np.testing.assert_allclose(aug.Q.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(aug.Q, Q / Q.sum(axis=1, keepdims=True), rtol=1e-15)
    with pytest.raises(ValueError, match=r"row sums are \[1\.234568 1\.      \]\.$"):
        cg.ChannelAugmentation([[0.6, 0.6345678], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"Q is 2 x 2 but the mixture has 3 components"):
        cg.predicted_subspace(cg.GMM.random(3, 4, random_state=0), aug)


def test_augmentations_compare_hash_and_print_by_their_parameters():
    # Studies key their runs by these objects: equal parameters must be equal and hash alike, different ones not.
    assert cg.NoisyComponent(0.25) == cg.NoisyComponent(0.25)
    assert hash(cg.NoisyComponent(0.25)) == hash(cg.NoisyComponent(0.25))
    assert cg.NoisyComponent(0.25) != cg.NoisyComponent(0.5)
    assert cg.SameComponent() == cg.SameComponent() and cg.SameComponent() != cg.NoisyComponent(0.0)
    assert hash(cg.SameComponent()) != hash(cg.NoisyComponent(0.0))
    assert repr(cg.NoisyComponent(0.25)) == "NoisyComponent(delta=0.25)"
    assert repr(cg.SameComponent()) == "SameComponent()"
    a, b = cg.ChannelAugmentation([[0.5, 0.5], [0.0, 1.0]]), cg.ChannelAugmentation([[0.5, 0.5], [0.0, 1.0]])
    assert a == b and hash(a) == hash(b)
    other = cg.ChannelAugmentation([[0.5, 0.5], [0.1, 0.9]])
    assert a != other and hash(a) != hash(other)
    assert a != cg.SameComponent() and cg.SameComponent() != a
    assert repr(a) == "ChannelAugmentation(Q=[[0.5, 0.5], [0.0, 1.0]])"
    assert repr(cg.ChannelAugmentation([[1 / 3, 2 / 3], [0.0, 1.0]])) == "ChannelAugmentation(Q=[[0.333, 0.667], [0.0, 1.0]])"


def test_a_legacy_random_state_seeds_sampling_reproducibly():
    gmm = cg.GMM.random(3, 4, random_state=0)
    first = gmm.sample(20, random_state=np.random.RandomState(5))[0]
    np.testing.assert_array_equal(first, gmm.sample(20, random_state=np.random.RandomState(5))[0])
    # The RandomState draws the Generator's seed, so the stream is the one that seed gives.
    seed = np.random.RandomState(5).randint(0, 2**31 - 1)
    np.testing.assert_array_equal(first, gmm.sample(20, random_state=np.random.default_rng(seed))[0])
