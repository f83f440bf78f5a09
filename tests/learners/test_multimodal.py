"""Multimodal mixtures, CLIP and its baselines against the population oracles."""

import warnings

import numpy as np
import scipy.linalg
import pytest
from sklearn.cross_decomposition import CCA as SklearnCCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import NotFittedError

import contrastive_gmm as cg
from contrastive_gmm.linalg import cca_directions


@pytest.fixture(scope="module")
def mm():
    """Private clusters in x, two components that coincide in y, anisotropic noise in both."""
    return cg.MultimodalGMM.random(6, 30, 20, n_private_x=4, coincide_y=1, random_state=0)


@pytest.fixture(scope="module")
def sample(mm):
    X, Y, z = mm.sample(20000, random_state=1)
    Xt, Yt, zt = mm.sample(2000, random_state=2)
    return X, Y, z, Xt, Yt, zt


@pytest.fixture(scope="module")
def clip(mm, sample):
    X, Y = sample[:2]
    return cg.CLIP(mm.target_dim(), random_state=0).fit(X, Y)


def test_population_cca_is_the_target_and_lies_inside_fisher(mm):
    k = mm.target_dim()
    assert k == 4 and mm.fisher_rank(0) == 5 and mm.fisher_rank(1) == 4
    Wx, Wy, rho = cca_directions(mm.covariance(0), mm.covariance(1), mm.cross_covariance(), k)
    assert cg.subspace_angles(Wx.T, mm.clip_target(0)).max() < 1e-6
    assert cg.subspace_angles(Wy.T, mm.clip_target(1)).max() < 1e-6
    assert np.all(rho > 0.1)
    # The target is a strict subset of x's Fisher subspace: containment angle 0, one direction short.
    assert cg.subspace_angles(mm.clip_target(0), mm.fisher_subspace(0)).max() < 1e-6
    assert mm.clip_target(0).shape[1] == mm.fisher_subspace(0).shape[1] - 1
    # The next canonical correlation is exactly zero: y cannot see the merged pair.
    _, _, rho_all = cca_directions(mm.covariance(0), mm.covariance(1), mm.cross_covariance(), 5)
    assert rho_all[-1] < 1e-6


def test_population_pls_follows_the_means_not_fisher(mm):
    U = np.linalg.svd(mm.cross_covariance(), full_matrices=False)[0][:, : mm.target_dim()]
    assert cg.subspace_angles(U, mm.fisher_subspace(0)).max() > 20


def test_sample_moments_and_fisher_with_private_clusters(mm):
    X, Y, z = mm.sample(100_000, random_state=3)
    sx, sy = np.sqrt(np.diag(mm.covariance(0))), np.sqrt(np.diag(mm.covariance(1)))
    C = (X - X.mean(0)).T @ (Y - Y.mean(0)) / len(X)
    # Correlation-scale error ~ 1/sqrt(n) ~ 0.003 per entry.
    assert np.abs((C - mm.cross_covariance()) / np.outer(sx, sy)).max() < 0.02
    assert np.abs((np.cov(X.T) - mm.covariance(0)) / np.outer(sx, sx)).max() < 0.02
    # Fisher for z treats the private clusters as within-component scatter, as LDA on z does.
    lda = LinearDiscriminantAnalysis().fit(X, z)
    assert cg.subspace_angles(cg.learned_subspace(lda), mm.fisher_subspace(0)).max() < 3


def test_clip_learns_the_shared_part_of_fisher(mm, sample, clip):
    X, Y, z, Xt, Yt, zt = sample
    k = mm.target_dim()
    cca = cg.CCA(k).fit(X, Y)
    pls = cg.PLSSVD(k).fit(X, Y)
    for m, (clip_sub, cca_sub, pls_sub, comps) in enumerate(
        [
            (clip.x_subspace(), cca.x_subspace(), pls.x_subspace(), clip.x_components_),
            (clip.y_subspace(), cca.y_subspace(), pls.y_subspace(), clip.y_components_),
        ]
    ):
        F, T = mm.fisher_subspace(m), mm.clip_target(m)
        ref = cg.subspace_angles(cca_sub, T).max()
        # CCA is the consistent closed form (~3-4 degrees here); the bound is 1.5x or + 2.
        assert cg.subspace_angles(clip_sub, T).max() < max(1.5 * ref, ref + 2)
        assert cg.subspace_angles(clip_sub, F).max() < max(1.5 * ref, ref + 2)
        assert cg.energy_outside(comps, F) < 0.02
        assert cg.subspace_angles(pls_sub, F).max() > 20  # PLS-SVD follows variance
    # The private clusters are filtered out: the x embedding barely varies with them.
    assert clip.effective_rank_ == k
    retrieval = cg.retrieval_accuracy(*clip.transform(Xt, Yt), labels=zt)
    chance = np.sum(mm.weights**2)
    assert retrieval["x_to_y_same_component"] > 3 * chance
    assert retrieval["y_to_x_same_component"] > 3 * chance
    assert retrieval["x_to_y_top5"] > 3 * 5 / len(Xt)


def test_closed_form_cca_matches_sklearns_iterative_cca():
    mm = cg.MultimodalGMM.random(3, 6, 5, anisotropy=2.0, noise_variance=2.0, random_state=4)
    X, Y, _ = mm.sample(5000, random_state=5)
    ours = cg.CCA(2).fit(X, Y)
    theirs = SklearnCCA(2, scale=False, max_iter=2000, tol=1e-10).fit(X, Y)
    assert cg.subspace_angles(ours.x_subspace(), theirs.x_rotations_).max() < 1.0
    assert cg.subspace_angles(ours.y_subspace(), theirs.y_rotations_).max() < 1.0


def test_transform_follows_sklearn_cca(clip, sample):
    X, Y = sample[:2]
    zx = clip.transform(X[:5])
    zx2, zy = clip.transform(X[:5], Y[:5])
    np.testing.assert_allclose(zx, zx2)
    np.testing.assert_allclose(zx, (X[:5] - clip.x_mean_) @ clip.x_components_.T)
    assert zy.shape == (5, clip.y_components_.shape[0])
    a, b = cg.CCA(2).fit_transform(X[:500], Y[:500])
    assert a.shape == b.shape == (500, 2)
    with pytest.raises(ValueError, match="is expecting 30 features"):
        clip.transform(Y[:5])
    with pytest.raises(NotFittedError):
        cg.CLIP().transform(X)


def test_learnable_temperature_is_learned_within_the_clamp():
    mm = cg.MultimodalGMM.random(4, 8, 6, random_state=0)
    X, Y, _ = mm.sample(3000, random_state=0)
    # Learned from either side it lands on the same optimum (0.225 from starts 0.5, 0.2 and 0.05,
    # two seeds each, measured): a temperature left at its start, or stuck at a bound, fails this.
    hot, cold = (cg.CLIP(3, temperature=t, similarity="cosine", learnable_temperature=True, random_state=0).fit(X, Y)
                 for t in (0.5, 0.05))
    assert hot.temperature_ < 0.3 and cold.temperature_ > 0.15
    assert abs(hot.temperature_ - cold.temperature_) < 0.01
    fixed = cg.CLIP(3, temperature=0.5, similarity="cosine", random_state=0, max_epochs=1).fit(X, Y)
    assert fixed.temperature_ == pytest.approx(0.5)


GOOD = np.random.default_rng(0).standard_normal((40, 5))


@pytest.mark.parametrize("est", [cg.CLIP, cg.CCA, cg.PLSSVD])
@pytest.mark.parametrize(
    "X, Y, k, match",
    [
        (GOOD, GOOD[:30], 2, "row-paired"),
        (np.where(GOOD > 2, np.nan, GOOD), GOOD, 2, "NaN"),
        (GOOD, GOOD[:, :3], 4, "between 1 and 3"),
        (GOOD[:, :2], GOOD, 3, "between 1 and 2"),
        (GOOD, None, 2, "both views"),
        (GOOD[:, 0], GOOD[:, 0], 1, "2-D"),
    ],
)
def test_bad_input(est, X, Y, k, match):
    with pytest.raises(ValueError, match=match):
        est(k).fit(X, Y)


def test_bad_mixtures():
    with pytest.raises(ValueError, match="at least two"):
        cg.MultimodalGMM([cg.Modality(np.zeros((2, 2)), np.eye(2))])
    with pytest.raises(ValueError, match="same number"):
        cg.MultimodalGMM([cg.Modality(np.zeros((2, 2)), np.eye(2)), cg.Modality(np.zeros((3, 2)), np.eye(2))])
    with pytest.raises(ValueError, match="positive definite"):
        cg.Modality(np.zeros((2, 2)), -np.eye(2))
    with pytest.raises(ValueError, match="private_means"):
        cg.Modality(np.zeros((2, 2)), np.eye(2), private_means=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="coincide"):
        cg.MultimodalGMM.random(3, 4, 4, coincide_y=2)
    with pytest.raises(ValueError, match="modality"):
        cg.MultimodalGMM.random(3, 4, 4, random_state=0).fisher_subspace(2)


def test_retrieval_matches_a_naive_reference():
    rng = np.random.default_rng(0)
    Zx = rng.standard_normal((300, 3))
    Zy = Zx + 0.8 * rng.standard_normal((300, 3))
    labels = rng.integers(0, 4, 300)
    got = cg.retrieval_accuracy(Zx, Zy, ks=(1, 5), labels=labels, chunk=64)
    nx = Zx / np.linalg.norm(Zx, axis=1, keepdims=True)
    ny = Zy / np.linalg.norm(Zy, axis=1, keepdims=True)
    S = nx @ ny.T
    order = np.argsort(-S, axis=1)
    assert got["x_to_y_top1"] == pytest.approx(np.mean(order[:, 0] == np.arange(300)))
    assert got["x_to_y_top5"] == pytest.approx(np.mean([i in order[i, :5] for i in range(300)]))
    assert got["y_to_x_top1"] == pytest.approx(np.mean(np.argmax(S, axis=0) == np.arange(300)))
    assert got["x_to_y_same_component"] == pytest.approx(np.mean(labels[order[:, 0]] == labels))


def test_energy_outside():
    F = np.eye(4)[:, :2]
    assert cg.energy_outside(np.array([[1.0, 2.0, 0.0, 0.0]]), F) == 0.0
    assert cg.energy_outside(np.array([[0.0, 0.0, 3.0, 0.0]]), F) == 1.0
    with pytest.raises(ValueError, match="match the subspace"):
        cg.energy_outside(np.ones((1, 3)), F)


def test_canonical_correlations_against_a_cholesky_reference(mm):
    # Population canonical correlations are the singular values of Lx^-1 Cov(x, y) Ly^-T for Cholesky factors of
    # the two covariances: a different factorisation from the symmetric inverse square roots the library uses.
    Lx, Ly = np.linalg.cholesky(mm.covariance(0)), np.linalg.cholesky(mm.covariance(1))
    K = scipy.linalg.solve_triangular(Lx, mm.cross_covariance(0, 1), lower=True)
    ref = np.linalg.svd(scipy.linalg.solve_triangular(Ly, K.T, lower=True), compute_uv=False)
    rho = mm.canonical_correlations()
    assert rho.shape == (mm.target_dim(),) == (4,)
    np.testing.assert_allclose(rho, ref[:4], rtol=1e-9)
    np.testing.assert_allclose(mm.canonical_correlations(1, 0), rho, rtol=1e-9)
    assert np.all(np.diff(rho) <= 0) and 0 < rho[-1] and rho[0] < 1
    # On a sample of 100000 rows, the sample canonical correlations agree to ~1/sqrt(n) = 0.003.
    X, Y, _ = mm.sample(100_000, random_state=5)
    A, B = X - X.mean(0), Y - Y.mean(0)
    _, _, sample_rho = cca_directions(A.T @ A / len(A), B.T @ B / len(B), A.T @ B / len(A), 4)
    np.testing.assert_allclose(sample_rho, rho, atol=0.02)


def test_fisher_rank_merges_means_equal_to_round_off_and_keeps_weak_ones():
    # Four components: the fourth's x-mean equals the first's up to 1e-8 (a merge in all but round-off, below the
    # 1e-9 relative tolerance at this scale of ~70), the second is 100 away and the third only 1: rank 2.
    # numpy's default tolerance (~1e-13 here) would count the 1e-8 difference as a direction; a tolerance
    # relative to the wrong scale would drop the weak one or keep the round-off one.
    means = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1e-8]])
    x = cg.Modality(means, np.eye(3))
    y = cg.Modality(np.eye(4) * 5.0, np.eye(4))
    mm4 = cg.MultimodalGMM([x, y])
    assert mm4.fisher_rank(0) == 2
    assert mm4.fisher_rank(1) == 3


def test_two_view_transform_centres_each_view_and_checks_each_by_name():
    # Shifted views: the scores of the training pairs must have mean zero in both views (each view minus its own
    # mean), and a single row is a valid input to transform.
    mm = cg.MultimodalGMM.random(3, 6, 5, random_state=4)
    X, Y, _ = mm.sample(3000, random_state=0)
    X, Y = X + 5.0, Y - 3.0
    model = cg.CCA(2).fit(X, Y)
    xs, ys = model.transform(X, Y)
    np.testing.assert_allclose(xs.mean(0), 0, atol=1e-8)
    np.testing.assert_allclose(ys.mean(0), 0, atol=1e-8)
    one_x, one_y = model.transform(X[:1], Y[:1])
    np.testing.assert_allclose(one_y, ys[:1], rtol=1e-10, atol=1e-12)
    assert model.transform(X[:1]).shape == (1, 2)
    with pytest.raises(ValueError, match=r"^X has 4 features, but CCA is expecting 6 features as input\.$"):
        model.transform(X[:, :4], Y)
    with pytest.raises(ValueError, match=r"^y has 4 features, but CCA is expecting 5 features as input for its second view\.$"):
        model.transform(X, Y[:, :4])
    # A 1-D y is one column (scikit-learn's CCA reads it so), which this model's second view is not.
    with pytest.raises(ValueError, match=r"^y has 1 features, but CCA is expecting 5"):
        model.transform(X, Y[:, 0])
    with pytest.raises(ValueError, match=r"\by\b.*2-D|2-D.*\by\b"):
        model.transform(X, Y[None])
    with pytest.raises(ValueError, match=r"\bX\b.*2-D|2-D.*\bX\b"):
        model.transform(X[:, 0], Y)


def test_clip_trains_on_the_symmetric_infonce_at_its_temperature():
    import torch

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(32, 3, generator=g, dtype=torch.float64), torch.randn(32, 3, generator=g, dtype=torch.float64)
    loss, extra, final_temperature = cg.CLIP(3)._make_loss(0.3, "cosine", torch.device("cpu"))
    assert extra == () and final_temperature() == pytest.approx(0.3, rel=1e-6)  # a float32 log-scale
    # The scale is a float32 parameter: 1/0.3 to float32 precision (relative 6e-8) moves the loss by ~1e-8.
    torch.testing.assert_close(loss(a, b), cg.info_nce(a, b, temperature=0.3, symmetric=True), rtol=1e-6, atol=0)
    assert not torch.isclose(loss(a, b), cg.info_nce(a, b, temperature=0.3, symmetric=False))
    loss, extra, _ = cg.CLIP(3, learnable_temperature=True)._make_loss(0.3, "cosine", torch.device("cpu"))
    assert len(extra) == 1 and extra[0].requires_grad and float(extra[0].detach()) == pytest.approx(np.log(1 / 0.3))


def test_random_multimodal_mixture_passes_its_noise_and_private_options_through():
    # n_noise_directions high-variance (noise_variance = 25) directions in each modality's noise; default K - 1.
    for asked, expected in ((None, 2), (1, 1), (3, 3)):
        mm3 = cg.MultimodalGMM.random(3, 6, 6, n_noise_directions=asked, random_state=0)
        for m in mm3.modalities:
            assert int(np.sum(np.linalg.eigvalsh(m.covariance) > 10)) == expected
    # P private clusters need P - 1 dimensions: exactly enough is allowed.
    mm3 = cg.MultimodalGMM.random(3, 4, 4, n_private_x=5, random_state=0)
    assert mm3.modalities[0].private_means.shape == (5, 4)
    with pytest.raises(ValueError, match="too small for n_private_x = 6"):
        cg.MultimodalGMM.random(3, 4, 4, n_private_x=6, random_state=0)


def test_modality_stores_private_clusters_as_arrays_and_mixtures_report_mismatched_sizes():
    m = cg.Modality([[0.0, 0.0], [3.0, 0.0]], np.eye(2), private_means=[[0.0, 2.0], [0.0, -2.0]])
    assert isinstance(m.private_means, np.ndarray) and m.private_means.dtype == np.float64
    np.testing.assert_allclose(m.private_scatter(), [[0.0, 0.0], [0.0, 4.0]])
    three = cg.Modality(np.zeros((3, 2)) + np.arange(3)[:, None], np.eye(2))
    four = cg.Modality(np.zeros((4, 5)) + np.arange(4)[:, None], np.eye(5))
    with pytest.raises(ValueError, match=r"same number \(>= 2\) of component means; got \[3, 4\]\.$"):
        cg.MultimodalGMM([three, four])


def test_clip_target_defaults_to_the_other_modality(mm):
    np.testing.assert_allclose(mm.clip_target(1), mm.clip_target(1, 0))
    np.testing.assert_allclose(mm.clip_target(), mm.clip_target(0, 1))
    assert mm.clip_target(0).shape == (30, mm.target_dim()) and mm.clip_target(1).shape == (20, mm.target_dim())


def test_cca_shrinks_each_view_by_its_own_estimate():
    # Fewer rows than features in both views: reg="auto" shrinks each covariance, by an amount estimated per view.
    from contrastive_gmm.linalg import covariance_regularisation, ridge, two_view_moments

    mm5 = cg.MultimodalGMM.random(3, 30, 25, random_state=6)
    X, Y, _ = mm5.sample(60, random_state=0)
    model = cg.CCA(2, pair_whiten=False).fit(X, Y)
    assert model.x_shrinkage_ > 0.05 and model.y_shrinkage_ > 0.05 and model.x_shrinkage_ != model.y_shrinkage_
    mx, my, Sxx, Syy, Sxy = two_view_moments(X, Y)
    (rx, sx), (ry, sy) = covariance_regularisation("auto", X, mx), covariance_regularisation("auto", Y, my)
    _, _, rho = cca_directions(ridge(Sxx, rx, sx), ridge(Syy, ry, sy), Sxy, 2)
    np.testing.assert_allclose(model.correlations_, rho, rtol=1e-10)


def test_clip_stops_at_max_epochs_and_names_itself_in_its_progress_bar(capsys, monkeypatch):
    monkeypatch.setattr("contrastive_gmm.learners.training._PROGRESS_DELAY", 0.0)  # show the bar at once
    mm3 = cg.MultimodalGMM.random(3, 6, 5, random_state=0)
    A, B, _ = mm3.sample(500, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cg.ClosedFormWarning)  # three epochs are far from the optimum, as meant
        model = cg.CLIP(2, max_epochs=3, verbose=True, random_state=0).fit(A, B)
    assert model.n_iter_ == 3
    assert "CLIP" in capsys.readouterr().err


def test_cca_pair_whitens_its_scores_by_default():
    mm3 = cg.MultimodalGMM.random(3, 6, 5, random_state=4)
    X, Y, _ = mm3.sample(3000, random_state=0)
    default, whitened, raw = (cg.CCA(2, **kw).fit(X, Y) for kw in ({}, {"pair_whiten": True}, {"pair_whiten": False}))
    np.testing.assert_allclose(default.x_components_, whitened.x_components_, rtol=1e-12)
    assert not np.allclose(default.x_components_, raw.x_components_, rtol=1e-3)


def test_clip_target_has_the_rank_the_two_modalities_share():
    # x merges two components, y keeps all four: they share 2 directions, though y alone has 3.
    mm4 = cg.MultimodalGMM.random(4, 8, 6, coincide_x=1, random_state=0)
    assert (mm4.target_dim(), mm4.fisher_rank(1)) == (2, 3)
    assert mm4.clip_target(0).shape == (8, 2) and mm4.clip_target(1).shape == (6, 2)
