"""``sample_weight``: frequencies, so integer weights equal repeated rows, and a weight of 0 is the row left out.

The closed forms are checked to 1e-6 degrees (the moments are the same sums in another order); the
trained learners draw their batches at random, so they are checked against the fits' own
seed-to-seed spread, and against the unweighted fit, which the weights move far away.
"""

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf_shrinkage

import contrastive_gmm as cg
from contrastive_gmm.linalg import covariance_regularisation, ledoit_wolf_intensity, two_view_moments


def _angle(A: np.ndarray, B: np.ndarray) -> float:
    return float(cg.subspace_angles(A, B).max())


# A mixture whose two leading pair-CCA directions depend on the class proportions: weighting classes 0
# and 1 six-fold moves pair CCA's 2-D subspace by 78 degrees (measured), so a fit that ignores the
# weights cannot pass for a weighted one.
_GMM = cg.GMM.random(4, 8, random_state=1)
_X, _XP, _Z, _ = _GMM.sample_pairs(2000, random_state=0)
_W = np.where(_Z <= 1, 6, 1)
_REP = np.repeat(np.arange(len(_X)), _W)


@pytest.mark.parametrize("shape", [(40, 7), (300, 12), (25, 60)])
def test_ledoit_wolf_intensity_is_scikit_learns_without_weights_and_repeats_rows_with_them(shape):
    rng = np.random.default_rng(shape[1])
    Z = rng.standard_t(5, size=shape) @ rng.normal(size=(shape[1], shape[1]))
    Z -= Z.mean(0)
    assert ledoit_wolf_intensity(Z) == pytest.approx(ledoit_wolf_shrinkage(Z, assume_centered=True), rel=1e-10)
    w = rng.integers(0, 4, size=shape[0]).astype(float)
    rep = np.repeat(np.arange(shape[0]), w.astype(int))
    assert ledoit_wolf_intensity(Z, w) == pytest.approx(ledoit_wolf_shrinkage(Z[rep], assume_centered=True), rel=1e-10)
    # And through the learners' entry point, whose standardisation is weighted too.
    X = Z + 3.0
    r_w = covariance_regularisation("auto", X, X[rep].mean(0), w)
    r_rep = covariance_regularisation("auto", X[rep], X[rep].mean(0))
    assert r_w[1] == pytest.approx(r_rep[1], rel=1e-10)


def test_weighted_two_view_moments_are_those_of_the_repeated_rows():
    w = np.array([1.0, 3.0, 0.0, 2.0])
    X, Y = np.random.default_rng(0).normal(size=(4, 3)), np.random.default_rng(1).normal(size=(4, 2))
    rep = np.repeat(np.arange(4), w.astype(int))
    for a, b in zip(two_view_moments(X, Y, w), two_view_moments(X[rep], Y[rep])):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make", [lambda: cg.PairCCA(2), lambda: cg.SpectralOnMeans(2), lambda: cg.PairCCA(2, reg=0.1)])
def test_integer_weights_equal_repeated_pairs_for_the_single_view_closed_forms(make):
    weighted, repeated = make().fit(_X, _XP, sample_weight=_W), make().fit(_X[_REP], _XP[_REP])
    assert _angle(weighted.subspace(), repeated.subspace()) < 1e-6
    np.testing.assert_allclose(weighted.components_, repeated.components_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(weighted.mean_, repeated.mean_, rtol=1e-12)
    assert _angle(weighted.subspace(), make().fit(_X, _XP).subspace()) > 10  # the weights matter here


@pytest.mark.parametrize("cls", [cg.CCA, cg.PLSSVD])
def test_integer_weights_equal_repeated_pairs_for_the_two_view_closed_forms(cls):
    weighted, repeated = cls(2).fit(_X, _XP, sample_weight=_W), cls(2).fit(_X[_REP], _XP[_REP])
    assert _angle(weighted.x_subspace(), repeated.x_subspace()) < 1e-6
    assert _angle(weighted.y_subspace(), repeated.y_subspace()) < 1e-6
    xs_w, ys_w = weighted.transform(_X, _XP)
    xs_r, ys_r = repeated.transform(_X, _XP)
    np.testing.assert_allclose(np.abs(xs_w), np.abs(xs_r), rtol=1e-6, atol=1e-8)


def test_zero_weights_are_the_rows_left_out_and_labels_follow_them():
    keep = _Z != 3
    a = cg.PairCCA(2, random_state=0).fit(_X, _Z, sample_weight=keep.astype(float))
    b = cg.PairCCA(2, random_state=0).fit(_X[keep], _Z[keep])
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-10, atol=1e-12)


def test_auto_rank_takes_the_weights():
    model = cg.PairCCA("auto").fit(_X, _XP, sample_weight=_W)
    assert model.n_components_ == 3  # K - 1, as without weights
    reference = cg.PairCCA(8, reg=cg.learners.rank.RANK_REG, pair_whiten=False).fit(_X, _XP, sample_weight=_W)
    np.testing.assert_allclose(model.rank_estimate_.spectrum, reference.eigenvalues_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "make, subspace",
    [(lambda s: cg.InfoNCE(2, random_state=s), "subspace"), (lambda s: cg.CLIP(2, random_state=s), "x_subspace")],
    ids=["InfoNCE", "CLIP"],
)
def test_integer_weights_match_repeated_pairs_for_trained_learners_within_their_seed_spread(make, subspace):
    seeds = (0, 1)
    weighted = [getattr(make(s).fit(_X, _XP, sample_weight=_W), subspace)() for s in seeds]
    repeated = [getattr(make(s).fit(_X[_REP], _XP[_REP]), subspace)() for s in seeds]
    spread = max(_angle(*weighted), _angle(*repeated))
    across = max(_angle(w, r) for w in weighted for r in repeated)
    unweighted = _angle(getattr(make(0).fit(_X, _XP), subspace)(), weighted[0])
    # Weighted draws (with replacement) and a shuffle of the repeated rows take different steps, so a
    # weighted fit differs from a repeated one by about what two seeds differ by: measured 1-4 degrees
    # across, 0.4-3.4 between seeds, and ~78 degrees from the unweighted fit. Twice the spread plus 2 degrees
    # (the two spreads are themselves estimated from one pair of seeds each) bounds the first with room.
    assert across <= 2 * spread + 2.0, (across, spread)
    assert unweighted > 30, unweighted


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones(5), r"sample_weight\.shape == \(5,\), expected \(2000,\)"),
        (-_W, "non-negative"),
        (np.where(_Z == 0, np.nan, 1.0), "finite"),
        (np.zeros(len(_X)), "zero for every row"),
        (np.ones((len(_X), 2)), "expected"),
    ],
)
def test_bad_sample_weight_is_refused_with_a_clear_error(bad, match):
    for model, second in ((cg.PairCCA(2), _XP), (cg.CCA(2), _XP), (cg.InfoNCE(2, max_epochs=1), _XP), (cg.SupCon(2, max_epochs=1), _Z)):
        with pytest.raises(ValueError, match=match):
            model.fit(_X, second, sample_weight=bad)


def test_fit_leaves_sample_weight_unchanged():
    w = _W.astype(float)
    before = w.copy()
    cg.PairCCA(2).fit(_X, _XP, sample_weight=w)
    cg.InfoNCE(2, max_epochs=1, random_state=0).fit(_X, _XP, sample_weight=w)
    np.testing.assert_array_equal(w, before)
