"""n_components="auto": pair correlations against a shuffled-pairs null, and the learners that read it."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import contrastive_gmm as cg
from contrastive_gmm.learners.rank import RANK_REG, resolve_n_components


# ------------------------------------------------------------------ the estimate against closed forms
def test_spectrum_and_null_are_pair_cca_on_the_pairs_and_on_shuffled_pairs():
    gmm = cg.GMM.random(3, 6, random_state=1)
    X, Xp, _, _ = gmm.sample_pairs(400, random_state=2)
    est = cg.estimate_n_components(X, Xp, n_permutations=19, random_state=5)
    # Every pair-CCA eigenvalue at the same (ridge) regularisation, decreasing.
    assert np.allclose(est.spectrum, cg.PairCCA(6, reg=RANK_REG).fit(X, Xp).eigenvalues_, atol=1e-10)
    # The shortcut (cov unchanged by a shuffle, only X^T X_pos recomputed) against a full refit on
    # the first shuffle the same seed draws.
    perm = np.random.default_rng(5).permutation(400)
    assert np.allclose(est.null_spectra[0], cg.PairCCA(6, reg=RANK_REG).fit(X, Xp[perm]).eigenvalues_, atol=1e-10)
    # Threshold: the ceil(0.95 * 20) = 19th smallest of the 19 null maxima; p-values (1 + #{null >= lambda}) / 20.
    assert est.null_threshold == np.sort(est.null_max)[18]
    assert np.array_equal(est.p_values, [(1 + np.sum(est.null_max >= v)) / 20 for v in est.spectrum])
    assert est.n_components == int(np.sum(est.spectrum > est.null_threshold)) == 2
    assert est.null_quantiles([0.05, 0.95]).shape == (2, 6)


def test_two_view_spectrum_is_cca_and_its_null_shuffles_y():
    mm = cg.MultimodalGMM.random(3, 6, 5, random_state=0)
    X, Y, _ = mm.sample(500, random_state=1)
    est = cg.estimate_two_view_n_components(X, Y, n_permutations=19, random_state=3)
    assert np.allclose(est.spectrum, cg.CCA(5, reg=RANK_REG, pair_whiten=False).fit(X, Y).correlations_, atol=1e-10)
    perm = np.random.default_rng(3).permutation(500)
    assert np.allclose(est.null_spectra[0], cg.CCA(5, reg=RANK_REG).fit(X, Y[perm]).correlations_, atol=1e-10)
    assert est.n_components == 2


# ------------------------------------------------------------------ the false-positive rate
@pytest.mark.parametrize("two_view", [False, True])
def test_no_shared_structure_gives_rank_zero_in_one_minus_alpha_of_seeds(two_view):
    # Positives independent of their anchors: the observed pairing is exchangeable with the shuffles,
    # so P(rank > 0) = 5 / 100 exactly (continuous statistics, threshold the 95th of 99 null maxima).
    # Over 200 seeds the count of rank > 0 is Binomial(200, 0.05): mean 10, sd 3.1; [2, 20] is
    # mean -2.6 / +3.2 sd (P(outside) ~ 0.005), and rules out both a liberal and a dead test.
    gmm = cg.GMM.random(3, 4, random_state=0)
    false_positives = 0
    for seed in range(200):
        X, _ = gmm.sample(100, random_state=seed)
        Xp, _ = gmm.sample(100, random_state=10_000 + seed)
        fn = cg.estimate_two_view_n_components if two_view else cg.estimate_n_components
        false_positives += fn(X, Xp[:, :3] if two_view else Xp, random_state=seed).n_components > 0
    assert 2 <= false_positives <= 20, false_positives


# ------------------------------------------------------------------ the done-when figures
# n = 2000 pairs: over 20 seeds x 4 mixtures x delta in (0, 0.3, 0.6), 239 of 240 estimates were
# K - 1 (one K = 4 mixture gave 4, a false positive within the 5% rate); here 2 mixtures x 3 deltas x 2 seeds.
@pytest.mark.parametrize("delta", [0.0, 0.3, 0.6])
@pytest.mark.parametrize("K,d,anisotropy", [(3, 10, 10.0), (5, 30, 30.0)])
def test_auto_finds_k_minus_1_on_non_isotropic_mixtures(K, d, anisotropy, delta):
    for seed in (0, 1):
        gmm = cg.GMM.random(K, d, anisotropy=anisotropy, random_state=seed)
        X, Xp, _, _ = gmm.sample_pairs(2000, cg.NoisyComponent(delta), random_state=seed + 1000)
        model = cg.PairCCA("auto", random_state=seed).fit(X, Xp)
        assert model.n_components_ == model.components_.shape[0] == K - 1
        assert model.rank_estimate_.n_components == K - 1


def test_auto_finds_9_on_raw_digits():
    # All 1797 digits, same-class pairs: 9 for 20 of 20 pairings (seeds 0-19); at 900 rows, 20 of 20
    # too, at 600, 15 of 20. Without the labels' K - 1 cap: the estimate itself.
    X, y = load_digits(return_X_y=True)
    P = cg.pair_indices_from_groups(y, random_state=1)
    assert cg.estimate_n_components(X[P[:, 0]], X[P[:, 1]], random_state=1).n_components == 9
    model = cg.PairCCA("auto", random_state=0).fit(X, y)
    assert model.n_components_ == 9 and model.transform(X).shape == (1797, 9)


# ------------------------------------------------------------------ the learners
@pytest.fixture(scope="module")
def pairs():
    gmm = cg.GMM.random(3, 6, random_state=0)
    X, Xp, z, _ = gmm.sample_pairs(1000, random_state=0)
    return X, Xp, z


FAST = dict(max_epochs=2, random_state=0)


# Two epochs: the collapse and closed-form warnings of an unfinished fit are not the point here.
TRAINING_WARNINGS = pytest.mark.filterwarnings("ignore::UserWarning")


@TRAINING_WARNINGS
@pytest.mark.parametrize(
    "make",
    [lambda k: cg.PairCCA(k), lambda k: cg.SpectralOnMeans(k), lambda k: cg.InfoNCE(k, **FAST),
     lambda k: cg.SimCLR(k, **FAST), lambda k: cg.SpectralContrastiveLearner(k, **FAST), lambda k: cg.SimSiam(k, **FAST),
     lambda k: cg.BarlowTwins(k, **FAST), lambda k: cg.VICReg(k, **FAST)],
    ids=["PairCCA", "SpectralOnMeans", "InfoNCE", "SimCLR", "Spectral", "SimSiam", "BarlowTwins", "VICReg"],
)
def test_every_pair_learner_accepts_auto(make, pairs):
    X, Xp, _ = pairs
    auto = make("auto").fit(X, Xp)
    fixed = make(1).fit(X, Xp)
    assert auto.n_components_ == auto.components_.shape[0] == 2 == auto.rank_estimate_.n_components
    assert fixed.n_components_ == 1 and fixed.rank_estimate_ is None


@TRAINING_WARNINGS
def test_supcon_auto_reads_same_class_pairs_from_its_labels(pairs):
    X, _, z = pairs
    model = cg.SupCon("auto", **FAST).fit(X, z)
    # The pairs are same-class partners, not (X, X) (whose spectrum is all ~1: the estimate would be 6).
    # On these pairs the raw estimate is 3 (the third eigenvalue's p = 0.02, a false positive the
    # 5% rate allows); the labels cap the fitted width at K - 1 = 2.
    assert model.n_components_ == model.components_.shape[0] == 2
    assert 2 <= model.rank_estimate_.n_components < 6


@TRAINING_WARNINGS
@pytest.mark.parametrize(
    "make", [lambda: cg.CCA("auto"), lambda: cg.PLSSVD("auto"), lambda: cg.CLIP("auto", **FAST), lambda: cg.SigLIP("auto", **FAST)],
    ids=["CCA", "PLSSVD", "CLIP", "SigLIP"],
)
def test_every_two_view_learner_accepts_auto(make):
    mm = cg.MultimodalGMM.random(3, 6, 5, random_state=0)
    X, Y, _ = mm.sample(1000, random_state=0)
    model = make().fit(X, Y)
    assert model.n_components_ == model.x_components_.shape[0] == model.y_components_.shape[0] == 2
    assert model.rank_estimate_.n_components == 2


def test_labels_cap_the_estimate_at_classes_minus_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    Xp = X + 0.1 * rng.normal(size=(500, 5))  # every direction shared: the estimate alone is 5

    class Learner:
        n_components = "auto"
        random_state = 0

    est = Learner()
    assert resolve_n_components(est, X, Xp) == 5
    assert resolve_n_components(est, X, Xp, rng.integers(0, 3, 500)) == 2 == est.n_components_
    assert est.rank_estimate_.n_components == 5


def test_no_direction_found_warns_and_fits_one_component():
    rng = np.random.default_rng(1)
    X, Xp = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    assert cg.estimate_n_components(X, Xp, random_state=0).n_components == 0
    with pytest.warns(UserWarning, match="found no direction"):
        model = cg.PairCCA("auto", random_state=0).fit(X, Xp)
    assert model.n_components_ == 1 and model.components_.shape == (1, 4)


# ------------------------------------------------------------------ bad input
def test_bad_parameters_are_named():
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match="n_components must be an integer or 'auto'"):
        cg.PairCCA("automatic").fit(X, X)
    with pytest.raises(ValueError, match="n_components must be an integer or 'auto'"):
        cg.CCA("Auto").fit(X, X)
    with pytest.raises(ValueError, match="n_permutations must be at least 19"):
        cg.estimate_n_components(X, X, n_permutations=10)
    with pytest.raises(ValueError, match="alpha must be strictly between 0 and 1"):
        cg.estimate_n_components(X, X, alpha=0.0)
    with pytest.raises(ValueError, match="row-paired"):
        cg.estimate_two_view_n_components(X, X[:10])
