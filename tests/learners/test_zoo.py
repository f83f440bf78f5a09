"""The loss zoo and general augmentation channels, against the closed-form prediction."""

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.special import expit, logsumexp

import contrastive_gmm as cg
from contrastive_gmm.losses.nt_xent import nt_xent_loss
from contrastive_gmm.losses.sigmoid import sigmoid_pair_loss
from contrastive_gmm.losses.spectral import spectral_contrastive_loss
from contrastive_gmm.losses.supcon import supcon_loss
from contrastive_gmm.experiments.loss_zoo import cyclic_channel, merge_channel


@pytest.fixture(scope="module")
def gmm():
    return cg.GMM.random(4, 12, random_state=3)


@pytest.fixture(scope="module")
def channel_samples(gmm):
    out = {}
    for name, aug in {"noisy": cg.NoisyComponent(0.3), "merge": merge_channel(4)}.items():
        pred = cg.predicted_subspace(gmm, aug)
        X, Xp, z, _ = gmm.sample_pairs(10000, aug, random_state=4)
        pcca = cg.subspace_angles(cg.PairCCA(pred.dim).fit(X, Xp).subspace(), pred.subspace).max()
        out[name] = (pred, X, Xp, z, pcca)
    return out


# ------------------------------------------------------------------ prediction
def test_prediction_equals_fisher_for_same_and_noisy_pairs(gmm):
    for aug in (cg.SameComponent(), cg.NoisyComponent(0.5)):
        pred = cg.predicted_subspace(gmm, aug)
        assert pred.dim == 3
        assert cg.subspace_angles(pred.subspace, gmm.fisher_subspace()).max() < 1e-6
    # Noise shrinks every pair correlation by (1 - delta) relative... and the gap with it.
    assert cg.predicted_subspace(gmm, cg.NoisyComponent(0.5)).gap < cg.predicted_subspace(gmm).gap


def test_merging_channel_predicts_a_strict_subset_of_fisher(gmm):
    pred = cg.predicted_subspace(gmm, merge_channel(4))
    assert pred.dim == 2
    assert cg.subspace_angles(pred.subspace, gmm.fisher_subspace()).max() < 1e-6  # inside Fisher
    # The lost direction: the Fisher direction whose scores separate the merged pair and nothing
    # else. It has zero pair correlation, so the prediction is Cov-orthogonal to it.
    F = gmm.fisher_subspace()
    lost = F @ scipy.linalg.null_space((gmm.centred_means() @ F)[2:])
    scores = (gmm.centred_means() @ lost).ravel()
    assert abs(scores[0] + scores[1]) < 1e-9 * abs(scores[0]) and np.abs(scores[2:]).max() < 1e-9 * abs(scores[0])
    cov = gmm.total_covariance()
    assert np.abs(pred.subspace.T @ cov @ lost).max() < 1e-9 * np.linalg.norm(cov @ lost)


def test_cyclic_channel_is_not_symmetric_and_loses_the_alternating_direction():
    gmm = cg.GMM.random(6, 20, random_state=0)
    aug = cyclic_channel(6)
    Q = aug.transition_matrix(gmm.weights)
    assert not np.allclose(Q, Q.T)
    np.testing.assert_allclose(gmm.weights @ Q, gmm.weights)  # uniform weights stay stationary
    assert cg.predicted_subspace(gmm, aug).dim == 4  # eigenvalue 2 * 0.5 - 1 = 0 for one pattern


def test_channel_sampling_follows_q(gmm):
    Q = np.array([[0.2, 0.8, 0, 0], [0, 1, 0, 0], [0, 0, 0.5, 0.5], [0.25, 0.25, 0.25, 0.25]])
    aug = cg.ChannelAugmentation(Q)
    X, Xp, z, zp = gmm.sample_pairs(40000, aug, random_state=0)
    counts = np.zeros((4, 4))
    np.add.at(counts, (z, zp), 1)
    empirical = counts / counts.sum(1, keepdims=True)
    # Each row has ~10000 draws: sd of a frequency <= 0.005; 5 sd.
    np.testing.assert_allclose(empirical, Q, atol=0.025)
    # The oracle cross-covariance M^T diag(pi) Q M against the sampled pairs', on a correlation
    # scale: 40000 pairs give each entry an sd of about 0.005, so 0.03 is ~6 sd.
    m = gmm.mean
    C = (X - m).T @ (Xp - m) / len(X)
    scale = np.sqrt(np.diag(gmm.total_covariance()))
    assert np.abs((C - gmm.pair_cross_covariance(aug)) / np.outer(scale, scale)).max() < 0.03


@pytest.mark.parametrize(
    "Q, match",
    [([[0.5, 0.6], [0, 1]], "sum to 1"), ([[1.5, -0.5], [0, 1]], "non-negative"), ([[1, 0, 0]], "square")],
)
def test_bad_channels(Q, match):
    with pytest.raises(ValueError, match=match):
        cg.ChannelAugmentation(Q)


def test_channel_size_must_match_mixture(gmm):
    with pytest.raises(ValueError, match="components"):
        gmm.sample_pairs(10, cg.ChannelAugmentation(np.eye(3)))


# ------------------------------------------------------------------ losses against numpy
def test_losses_match_numpy_references():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((16, 3)), rng.standard_normal((16, 3))
    ta, tb = torch.tensor(a), torch.tensor(b)
    S = a @ b.T
    ref = -2 * np.mean(np.diag(S)) + (np.sum(S**2) - np.sum(np.diag(S) ** 2)) / (16 * 15)
    assert abs(float(spectral_contrastive_loss(ta, tb)) - ref) < 1e-12

    z = np.vstack([a, b])
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    L = zn @ zn.T / 0.5
    np.fill_diagonal(L, -np.inf)
    partner = np.r_[np.arange(16, 32), np.arange(16)]
    ref = np.mean(logsumexp(L, axis=1) - L[np.arange(32), partner])
    assert abs(float(nt_xent_loss(ta, tb, 0.5)) - ref) < 1e-12

    labels = rng.integers(0, 3, 16)
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    L = an @ an.T / 0.5
    np.fill_diagonal(L, -np.inf)
    logp = L - logsumexp(L, axis=1, keepdims=True)
    per = [np.mean([logp[i, j] for j in range(16) if j != i and labels[j] == labels[i]]) for i in range(16)
           if np.sum(labels == labels[i]) > 1]
    assert abs(float(supcon_loss(ta, torch.tensor(labels), 0.5)) - (-np.mean(per))) < 1e-12

    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    s = 10 * an @ bn.T - 10
    sign = 2 * np.eye(16) - 1
    ref = -np.mean(np.sum(np.log(expit(sign * s)), axis=1))
    got = sigmoid_pair_loss(ta, tb, torch.tensor(np.log(10.0)), torch.tensor(-10.0))
    assert abs(float(got) - ref) < 1e-9


# ------------------------------------------------------------------ learners against the prediction
@pytest.mark.parametrize("channel", ["noisy", "merge"])
@pytest.mark.parametrize(
    "make",
    [
        lambda k: cg.SpectralContrastiveLearner(k, random_state=0),
        lambda k: cg.SimCLR(k, random_state=0),
        lambda k: cg.SimSiam(k, whiten_output=True, random_state=0),
    ],
    ids=["spectral", "simclr", "simsiam-whitened"],
)
def test_contrastive_learners_find_the_predicted_subspace(channel_samples, channel, make):
    pred, X, Xp, _, pcca = channel_samples[channel]
    model = make(pred.dim).fit(X, Xp)
    # pair CCA is the consistent closed-form estimate of the same subspace (a few degrees here).
    assert cg.subspace_angles(model.subspace(), pred.subspace).max() < max(1.5 * pcca, pcca + 2.0)
    assert model.effective_rank_ == pred.dim


@pytest.mark.parametrize("similarity", ["dot", "cosine"])
def test_simsiam_with_predictor_finds_fisher_on_noisy_pairs(channel_samples, similarity):
    pred, X, Xp, _, pcca = channel_samples["noisy"]
    model = cg.SimSiam(pred.dim, similarity=similarity, whiten_output=similarity == "dot", random_state=0).fit(X, Xp)
    assert cg.subspace_angles(model.subspace(), pred.subspace).max() < max(1.5 * pcca, pcca + 2.0)
    assert model.predictor_.shape == (3, 3)


def test_simsiam_without_predictor_collapses_and_says_so(channel_samples):
    pred, X, Xp, _, _ = channel_samples["noisy"]
    with pytest.warns(cg.CollapseWarning, match="collapsed"):
        model = cg.SimSiam(pred.dim, predictor=False, similarity="cosine", whiten_output=False, random_state=0).fit(X, Xp)
    assert model.effective_rank_ == 1
    assert cg.subspace_angles(model.subspace(), pred.subspace).max() > 45


@pytest.mark.parametrize("seed", [3, 5])
def test_supcon_with_labels_finds_fisher(seed):
    gmm = cg.GMM.random(4, 12, random_state=seed)
    X, z = gmm.sample(10000, random_state=seed)
    lda_like = cg.SupCon(3, random_state=0).fit(X, z)
    assert cg.subspace_angles(lda_like.subspace(), gmm.fisher_subspace()).max() < 5


@pytest.mark.parametrize("coincide_y", [0, 1])
def test_siglip_finds_the_clip_target(coincide_y):
    mm = cg.MultimodalGMM.random(5, 16, 12, n_private_x=3, coincide_y=coincide_y, random_state=0)
    k = mm.target_dim()
    X, Y, _ = mm.sample(10000, random_state=1)
    cca = cg.CCA(k).fit(X, Y)
    ref = cg.subspace_angles(cca.x_subspace(), mm.clip_target(0)).max()
    model = cg.SigLIP(k, random_state=0).fit(X, Y)
    assert cg.subspace_angles(model.x_subspace(), mm.clip_target(0)).max() < max(1.5 * ref, ref + 2.0)
    assert cg.subspace_angles(model.x_subspace(), mm.fisher_subspace(0)).max() < max(1.5 * ref, ref + 2.0)


def test_zoo_learners_validate_input():
    good = np.random.default_rng(0).standard_normal((30, 4))
    with pytest.raises(ValueError, match="row-paired"):
        cg.SimCLR(2).fit(good, good[:10])
    with pytest.raises(ValueError, match="labels"):
        cg.SupCon(2).fit(good, None)
    with pytest.raises(ValueError, match="temperature"):
        cg.SimCLR(2, temperature=0).fit(good, good)
    with pytest.raises(ValueError, match="between 1 and 4"):
        cg.SimSiam(5).fit(good, good)


def test_simsiam_rows_stay_off_constant_features():
    # Constant columns give the whitening null directions; a row started there would get no
    # gradient and, under the squared error, a zero-output row "agrees" perfectly. Measured: the
    # weakest direction's pair correlation is 0.830 against the closed form's 0.830 with the start
    # in the whitening's range, 0.18 without; 0.05 is far above the seed-to-seed spread.
    gmm = cg.GMM.random(4, 10, random_state=2)
    X, Xp, _, _ = gmm.sample_pairs(5000, random_state=2)
    pad = np.full((len(X), 6), 3.0)
    model = cg.SimSiam(3, random_state=0).fit(np.hstack([X, pad]), np.hstack([Xp, pad]))
    assert model.pair_correlations_.min() > model.closed_form_correlations_.min() - 0.05
    assert np.allclose(model.components_[:, 10:], 0.0)
    assert cg.subspace_angles(model.subspace()[:10], gmm.fisher_subspace()).max() < 10


# ------------------------------------------------------------------ Barlow Twins and VICReg
def _np_standardise(z):
    return (z - z.mean(0)) / (z.std(0, ddof=1) + 1e-6)


def test_barlow_twins_and_vicreg_losses_equal_a_float64_numpy_reference():
    from contrastive_gmm.losses.barlow_twins import barlow_twins_loss
    from contrastive_gmm.losses.vicreg import vicreg_loss

    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 4)) * [1.0, 2.0, 0.5, 3.0]
    b = a + 0.5 * rng.normal(size=(50, 4))
    A, B = torch.as_tensor(a), torch.as_tensor(b)
    # Barlow Twins: cross-correlation of the standardised views, pulled to the identity.
    c = _np_standardise(a).T @ _np_standardise(b) / 49
    off = (c**2).sum() - (np.diag(c) ** 2).sum()
    for lam in (None, 0.3):
        expected = ((1 - np.diag(c)) ** 2).sum() + (0.25 if lam is None else lam) * off
        assert float(barlow_twins_loss(A, B, lam)) == pytest.approx(expected, rel=1e-10)

    # VICReg: invariance + variance hinge + off-diagonal covariance, the paper's weights.
    def var(z):
        return np.maximum(0.0, 1.0 - np.sqrt(z.var(0, ddof=1) + 1e-4)).mean()

    def cov(z):
        C = np.cov(z.T)
        return ((C**2).sum() - (np.diag(C) ** 2).sum()) / z.shape[1]

    expected = 25 * ((a - b) ** 2).mean() + 25 * (var(a) + var(b)) + 1 * (cov(a) + cov(b))
    assert float(vicreg_loss(A, B)) == pytest.approx(expected, rel=1e-10)
    assert float(vicreg_loss(A, B, 1.0, 2.0, 3.0)) == pytest.approx(((a - b) ** 2).mean() + 2 * (var(a) + var(b)) + 3 * (cov(a) + cov(b)), rel=1e-10)


def test_barlow_twins_ignores_each_dimension_s_scale_and_vicreg_penalises_collapse():
    from contrastive_gmm.losses.barlow_twins import barlow_twins_loss
    from contrastive_gmm.losses.vicreg import vicreg_loss

    a = torch.randn(64, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    b = a + 0.3 * torch.randn(64, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    scale = torch.tensor([10.0, 0.1, 3.0], dtype=torch.float64)
    # Up to the 1e-6 that guards the standardisation against a constant dimension (relative 1e-5 at scale 0.1).
    assert float(barlow_twins_loss(a * scale, b * scale)) == pytest.approx(float(barlow_twins_loss(a, b)), rel=1e-3)
    # A collapsed embedding agrees perfectly, yet the variance term makes it the worse one.
    assert float(vicreg_loss(0 * a, 0 * b)) > float(vicreg_loss(3 * a, 3 * b))


@pytest.mark.parametrize("bad", [{"lambda_offdiag": -1.0}, {"lambda_offdiag": "x"}])
def test_barlow_twins_refuses_a_bad_weight(bad):
    X, Xp, _, _ = cg.GMM.random(3, 6, random_state=0).sample_pairs(200, random_state=0)
    with pytest.raises((ValueError, TypeError), match="lambda_offdiag"):
        cg.BarlowTwins(2, **bad).fit(X, Xp)


@pytest.mark.parametrize("bad", ["lambda_inv", "lambda_var", "lambda_cov"])
def test_vicreg_refuses_a_negative_weight(bad):
    X, Xp, _, _ = cg.GMM.random(3, 6, random_state=0).sample_pairs(200, random_state=0)
    with pytest.raises(ValueError, match=bad):
        cg.VICReg(2, **{bad: -1.0}).fit(X, Xp)


@pytest.mark.parametrize("learner", ["BarlowTwins", "VICReg"])
def test_barlow_twins_and_vicreg_reach_pair_cca_on_a_non_isotropic_mixture(anisotropic, learner):
    X, Xp, F, pcca = anisotropic
    model = getattr(cg, learner)(5, random_state=0).fit(X, Xp)
    angle = cg.subspace_angles(model.subspace(), F).max()
    # The zoo's target: within 1.5x of pair CCA's angle, or 2 degrees of it (sampling error at n = 10000).
    assert angle <= max(1.5 * pcca, pcca + 2.0), (angle, pcca)
    assert model.effective_rank_ == 5


def test_barlow_twins_weighs_off_diagonal_terms_by_one_over_k_unless_told():
    from contrastive_gmm.losses.barlow_twins import barlow_twins_loss

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 4, generator=g, dtype=torch.float64), torch.randn(64, 4, generator=g, dtype=torch.float64)
    default_loss, extra = cg.BarlowTwins(4)._make_loss(4, torch.device("cpu"))
    assert extra == ()
    torch.testing.assert_close(default_loss(a, b), barlow_twins_loss(a, b, 0.25), rtol=1e-12, atol=0)
    assert not torch.isclose(default_loss(a, b), barlow_twins_loss(a, b, 0.5))
    told, _ = cg.BarlowTwins(4, lambda_offdiag=0.1)._make_loss(4, torch.device("cpu"))
    torch.testing.assert_close(told(a, b), barlow_twins_loss(a, b, 0.1), rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match=r"^lambda_offdiag must be"):
        cg.BarlowTwins(4, lambda_offdiag=-1.0)._make_loss(4, torch.device("cpu"))


def test_simsiam_loss_and_vicreg_module_equal_a_float64_numpy_reference():
    from contrastive_gmm.losses.simsiam import simsiam_loss
    from contrastive_gmm.losses.vicreg import VICRegLoss, vicreg_loss

    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(40, 3)) * [1.0, 2.0, 0.5] + 3.0, rng.normal(size=(40, 3))
    P = rng.normal(size=(3, 3))

    def standardise(z):
        return (z - z.mean(0)) / (z.std(0, ddof=1) + 1e-6)

    def cosine(u, v):
        return np.sum(u * v, 1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)

    sa, sb = standardise(a), standardise(b)
    dot = 0.5 * ((((sa @ P.T) - sb) ** 2).sum(1).mean() + (((sb @ P.T) - sa) ** 2).sum(1).mean())
    cos = -0.5 * (cosine(a @ P.T, b).mean() + cosine(b @ P.T, a).mean())
    A, B, T = torch.tensor(a), torch.tensor(b), torch.tensor(P)
    assert float(simsiam_loss(A, B, T, "dot")) == pytest.approx(dot, rel=1e-10)
    assert float(simsiam_loss(A, B, T)) == pytest.approx(cos, rel=1e-10)
    assert float(VICRegLoss(2.0, 3.0, 4.0)(A, B)) == pytest.approx(float(vicreg_loss(A, B, 2.0, 3.0, 4.0)), rel=1e-12)
    assert float(VICRegLoss()(A, B)) == pytest.approx(float(vicreg_loss(A, B, 25.0, 25.0, 1.0)), rel=1e-12)


@pytest.mark.parametrize("name", ["SimSiam", "InfoNCE"])
def test_learners_on_labels_warn_by_name_when_asked_for_more_directions_than_classes_allow(name):
    gmm = cg.GMM.random(2, 5, random_state=0)
    X, z = gmm.sample(400, random_state=0)
    with pytest.warns(UserWarning, match=rf"^{name}: n_components=3 is more than the number of classes - 1 = 1"):
        getattr(cg, name)(3, max_epochs=2, random_state=0).fit(X, z)
