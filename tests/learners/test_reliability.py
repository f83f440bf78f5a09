"""Robust numerics and determinism (issue 7): scale, temperature, degenerate data, NaN steps, threads.

Property tests draw shapes, scales, seeds and mixtures with hypothesis; every fit here is small
(a few thousand pairs, tens of epochs) so the file runs in well under a minute on 2 cores.
"""

import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

import contrastive_gmm as cg
from contrastive_gmm.learners.training import orthonormal_rows, train_linear_maps
from contrastive_gmm.linalg import whitener
from contrastive_gmm.losses.infonce import info_nce

FAST = {"max_epochs": 15}
PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pairs(seed: int, n: int = 2000, K: int = 4, d: int = 10):
    gmm = cg.GMM.random(K, d, random_state=seed)
    X, X_pos, z, _ = gmm.sample_pairs(n, random_state=seed + 1)
    return gmm, X, X_pos, z


def _angle(A, B) -> float:
    return float(cg.subspace_angles(A, B).max())


# ---------------------------------------------------------------------------- scale
SCALE_LEARNERS = {
    "pair CCA": lambda: cg.PairCCA(3),
    "InfoNCE": lambda: cg.InfoNCE(3, random_state=0, **FAST),
    "SimCLR": lambda: cg.SimCLR(3, random_state=0, **FAST),
}


@PROPERTY
@given(seed=st.integers(0, 10_000), exponent=st.sampled_from([-6, -3, 3, 6]), name=st.sampled_from(sorted(SCALE_LEARNERS)))
def test_scaling_the_data_leaves_the_subspace_unchanged(seed, exponent, name):
    # Training runs in whitened coordinates with a ridge relative to the mean variance, so a
    # global scale changes the whitened data only by rounding (measured: < 1e-12 degrees).
    _, X, X_pos, _ = _pairs(seed)
    make = SCALE_LEARNERS[name]
    base = make().fit(X, X_pos)
    scaled = make().fit(X * 10.0**exponent, X_pos * 10.0**exponent)
    assert _angle(base.subspace(), scaled.subspace()) < 1e-3
    np.testing.assert_allclose(scaled.transform(X * 10.0**exponent), base.transform(X), rtol=1e-4, atol=1e-4)


@PROPERTY
@given(seed=st.integers(0, 10_000), exponent=st.sampled_from([-6, 6]))
def test_scaling_either_modality_leaves_clip_and_cca_unchanged(seed, exponent):
    _, X, X_pos, _ = _pairs(seed)
    Y = X_pos[:, :7]
    for make in (lambda: cg.CCA(3), lambda: cg.CLIP(3, random_state=0, **FAST)):
        base, scaled = make().fit(X, Y), make().fit(X, Y * 10.0**exponent)
        assert _angle(base.x_subspace(), scaled.x_subspace()) < 1e-3
        assert _angle(base.y_subspace(), scaled.y_subspace()) < 1e-3


# ---------------------------------------------------------------------------- temperature
@PROPERTY
@given(
    log_tau=st.floats(-3, 3),
    similarity=st.sampled_from(["cosine", "dot"]),
    whiten=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_every_temperature_from_1e_minus_3_to_1e3_gives_finite_maps(log_tau, similarity, whiten, seed):
    _, X, X_pos, _ = _pairs(seed, n=1000)
    tau = 10.0**log_tau
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cg.CollapseWarning)  # an extreme temperature may collapse; it must not be NaN
        model = cg.InfoNCE(3, temperature=tau, similarity=similarity, whiten_output=whiten, random_state=seed, max_epochs=5).fit(X, X_pos)
        clip = cg.CLIP(3, temperature=tau, similarity=similarity, random_state=seed, max_epochs=5).fit(X, X_pos[:, :6])
    assert np.isfinite(model.components_).all() and np.isfinite(model.loss_curve_).all()
    assert np.isfinite(clip.x_components_).all() and np.isfinite(clip.y_components_).all()


@pytest.mark.parametrize("tau", [1e-3, 1e3])
def test_loss_and_gradient_stay_finite_at_extreme_temperatures(tau):
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(64, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(64, 3, generator=gen, dtype=torch.float64)
    for sim in ("cosine", "dot"):
        loss = info_nce(a * 100, b * 100, tau, sim)
        loss.backward()
        assert math.isfinite(loss.item()) and torch.isfinite(a.grad).all()
        a.grad = None


# ---------------------------------------------------------------------------- degenerate data
DEGENERATE_LEARNERS = {
    "pair CCA": lambda: cg.PairCCA(3),
    "spectral on means": lambda: cg.SpectralOnMeans(3),
    "InfoNCE": lambda: cg.InfoNCE(3, random_state=0),  # trained to convergence: the span is checked
    "SimSiam": lambda: cg.SimSiam(3, whiten_output=True, random_state=0, **FAST),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE_LEARNERS))
def test_constant_and_duplicate_features_get_no_weight(name):
    gmm, X, X_pos, _ = _pairs(3)
    extra = lambda A: np.column_stack([A, np.full(len(A), 7.0), A[:, 0], 2 * A[:, 1]])  # noqa: E731
    model = DEGENERATE_LEARNERS[name]().fit(extra(X), extra(X_pos))
    assert np.isfinite(model.components_).all()
    # A new point that differs only in the constant feature embeds (almost) the same: no weight there.
    probe = extra(X[:5])
    moved = probe.copy()
    moved[:, 10] += 1.0
    shift = np.abs(model.transform(moved) - model.transform(probe)).max()
    assert shift < 1e-3 * np.abs(model.transform(probe)).max()
    if name in ("pair CCA", "InfoNCE"):
        # The extra columns change nothing: the embedding spans the Fisher embedding. (Weights
        # may sit on a column or on its duplicate, so compare embeddings, not weights.)
        Xc = X - X.mean(0)
        Z = model.transform(extra(X))
        assert _angle(np.linalg.qr(Z - Z.mean(0))[0], np.linalg.qr(Xc @ gmm.fisher_subspace())[0]) < 10


@pytest.mark.parametrize("name", sorted(DEGENERATE_LEARNERS))
def test_more_features_than_samples_is_regularised_not_an_error(name):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(15, 40))
    B = A + 0.1 * rng.normal(size=(15, 40))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cg.CollapseWarning)
        model = DEGENERATE_LEARNERS[name]().fit(A, B)
    Z = model.transform(rng.normal(size=(5, 40)))
    assert np.isfinite(model.components_).all() and np.isfinite(Z).all()
    # Regularised, not degenerate: the pairs (1% noise apart) stay pairs in every direction
    # (correlations 0.998-1.0 measured for each learner).
    ZA, ZB = model.transform(A), model.transform(B)
    assert all(np.corrcoef(ZA[:, j], ZB[:, j])[0, 1] > 0.95 for j in range(ZA.shape[1]))


def test_whitener_is_zero_on_the_null_space_and_exact_elsewhere():
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    cov = basis @ np.diag([9.0, 4.0, 1.0, 1e-6, 0.0]) @ basis.T
    W = whitener(cov, 0.0)
    np.testing.assert_allclose(W @ basis[:, 4], 0.0, atol=1e-7)
    # A small but real variance (1e-6 of the largest) is still whitened, not dropped.
    np.testing.assert_allclose(basis[:, :4].T @ W @ cov @ W @ basis[:, :4], np.eye(4), atol=1e-6)


# ---------------------------------------------------------------------------- NaN steps
def test_a_nan_loss_skips_the_step_and_lowers_the_learning_rate():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(512, 5, generator=gen)
    B = A + 0.2 * torch.randn(512, 5, generator=gen)
    calls = {"n": 0}

    def flaky(a, b):
        calls["n"] += 1
        loss = info_nce(a, b, 0.5)
        return loss * torch.nan if calls["n"] % 7 == 3 else loss  # every 7th step returns NaN

    (V,), history = train_linear_maps(
        (A, B), [torch.randn(2, 5, generator=gen)], flaky, parametrize=orthonormal_rows, batch_size=64,
        max_epochs=10, lr=0.05, tol=1e-4, patience=2, generator=gen, num_threads=1,
    )
    assert torch.isfinite(V).all() and all(math.isfinite(v) for v in history["loss"])


def test_a_finite_loss_with_a_nan_gradient_never_reaches_the_parameters():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(256, 4, generator=gen)
    calls = {"n": 0}

    def bad_gradient(a, b):
        calls["n"] += 1
        loss = info_nce(a, b, 0.5)
        if calls["n"] % 5 == 0:
            # sqrt at 0: the value is 0, the gradient is inf * 0 = NaN.
            loss = loss + torch.sqrt((a * 0).sum().abs())
        return loss

    (V,), _ = train_linear_maps(
        (A, A), [torch.randn(2, 4, generator=gen)], bad_gradient, batch_size=32, max_epochs=5, lr=0.05, tol=1e-4,
        patience=2, generator=gen, num_threads=1,
    )
    assert torch.isfinite(V).all()


def test_a_loss_that_is_always_nan_raises_a_clear_error():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(256, 4, generator=gen)
    with pytest.raises(FloatingPointError, match="not finite at 20 steps"):
        train_linear_maps(
            (A, A), [torch.randn(2, 4, generator=gen)], lambda a, b: (a * b).sum() * torch.nan, batch_size=32,
            max_epochs=5, lr=0.05, tol=1e-4, patience=2, generator=gen, num_threads=1,
        )


# ---------------------------------------------------------------------------- determinism
DETERMINISTIC_LEARNERS = {
    "InfoNCE": lambda: cg.InfoNCE(3, random_state=7, **FAST),
    "SimCLR": lambda: cg.SimCLR(3, random_state=7, **FAST),
    "SupCon": lambda: cg.SupCon(3, random_state=7, **FAST),
    "CLIP": lambda: cg.CLIP(3, random_state=7, **FAST),
}


@pytest.mark.parametrize("name", sorted(DETERMINISTIC_LEARNERS))
def test_same_random_state_is_bit_identical_whatever_the_thread_count(name):
    _, X, X_pos, z = _pairs(11, n=3000)
    second = {"SupCon": z, "CLIP": X_pos[:, :6]}.get(name, X_pos)
    results = []
    before = torch.get_num_threads()
    try:
        for threads in (1, 2, 1):
            torch.set_num_threads(threads)
            with threadpool_limits(threads):
                model = DETERMINISTIC_LEARNERS[name]().fit(X, second)
            results.append(model.x_components_ if name == "CLIP" else model.components_)
    finally:
        torch.set_num_threads(before)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)


def test_batches_above_2048_agree_across_thread_counts_and_repeat_exactly_at_one():
    # Above 2048 rows a batch trains on torch's threads (the README's claim: components agree to
    # about 1e-7 across thread counts, bit-identical at a fixed count); the test above, at the
    # default batch, trains on one thread whatever is set, so it cannot vary this path.
    _, X, X_pos, _ = _pairs(3, n=8192)
    before = torch.get_num_threads()
    results = {}
    try:
        for threads in (1, 2, 1):
            torch.set_num_threads(threads)
            model = cg.InfoNCE(3, batch_size=4096, max_epochs=5, random_state=0).fit(X, X_pos)
            results.setdefault(threads, []).append(model.components_)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(results[1][0], results[1][1])
    scale = np.abs(results[1][0]).max()
    # float32 sums in another order: relative differences of order 1e-7 per step; 1e-5 after training.
    assert np.abs(results[2][0] - results[1][0]).max() <= 1e-5 * scale


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1))
def test_labels_give_same_class_pairs_and_a_reproducible_fit(seed):
    gmm, X, _, z = _pairs(seed % 97, n=1500)
    a = cg.PairCCA(3, random_state=seed).fit(X, z)
    b = cg.PairCCA(3, random_state=seed).fit(X, z)
    np.testing.assert_array_equal(a.components_, b.components_)
    # Same-class pairs are the study's augmentation: the closed form lands near Fisher. Over all 97
    # mixtures this test can draw x 40 partner draws each (n = 1500): median 6.2, worst 15.4 degrees;
    # the property search later found 18.7 (seed 1515565, mixture 37), a tail of the partner draws.
    # 25 leaves room for that tail and still fails a fit that has lost a direction (~90 degrees).
    assert _angle(a.subspace(), gmm.fisher_subspace()) < 25


# ---------------------------------------------------------------------------- scikit-learn habits
def test_learners_with_labels_work_in_pipeline_and_grid_search():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    gmm, X, _, z = _pairs(5, n=900, K=4, d=12)
    pipe = make_pipeline(StandardScaler(), cg.InfoNCE(2, random_state=0, **FAST), LogisticRegression())
    search = GridSearchCV(pipe, {"infonce__n_components": [1, 3]}, cv=3).fit(X, z)
    assert search.best_params_ == {"infonce__n_components": 3}  # K - 1 = 3 directions carry the classes
    assert search.best_score_ > 0.6  # chance is 0.25


def test_clone_and_pickle_keep_parameters_and_fitted_maps():
    from sklearn.base import clone

    _, X, X_pos, _ = _pairs(2, n=800)
    for model in (cg.InfoNCE(3, temperature=0.7, random_state=1, **FAST), cg.SimCLR(3, random_state=1, **FAST),
                  cg.PairCCA(3), cg.CLIP(3, random_state=1, **FAST), cg.CCA(3)):
        fresh = clone(model)
        assert fresh.get_params() == model.get_params() and not hasattr(fresh, "mean_")
        second = X_pos[:, :6] if isinstance(model, (cg.CLIP, cg.CCA)) else X_pos
        model.fit(X, second)
        again = pickle.loads(pickle.dumps(model))
        # Pickling keeps the fitted arrays bit for bit; the unpickled copies live at other addresses,
        # and BLAS may pick another kernel (so another rounding) by alignment, so the embeddings are
        # compared to 1e-12 of their scale: a wrong or missing array changes them at order 1.
        for name in ("mean_", "components_", "x_mean_", "x_components_", "y_mean_", "y_components_"):
            if hasattr(model, name):
                np.testing.assert_array_equal(getattr(again, name), getattr(model, name))
        want = np.asarray(model.transform(X[:10]))
        np.testing.assert_allclose(again.transform(X[:10]), want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


# ---------------------------------------------------------------------------- random mixtures
@settings(max_examples=40, deadline=None)
@given(
    K=st.integers(2, 7),
    extra_dims=st.integers(0, 12),
    seed=st.integers(0, 2**31 - 1),
    delta=st.floats(0.0, 0.95),
    anisotropy=st.floats(1.0, 100.0),
)
def test_oracles_agree_on_random_mixtures(K, extra_dims, seed, delta, anisotropy):
    # THEORY.md: pairs from the same component (or a noisy one) have cross-covariance (1 - delta) S_B,
    # and their closed form, sym(C) v = lambda Cov v, spans the Fisher subspace for any delta < 1.
    gmm = cg.GMM.random(K, 2 * (K - 1) + extra_dims, anisotropy=anisotropy, random_state=seed)
    S_B = gmm.between_scatter()
    np.testing.assert_allclose(gmm.pair_cross_covariance(cg.NoisyComponent(delta)), (1 - delta) * S_B, atol=1e-10 * np.abs(S_B).max())
    F = gmm.fisher_subspace()
    assert F.shape == (gmm.dim, K - 1)
    np.testing.assert_allclose(F.T @ F, np.eye(K - 1), atol=1e-8)
    pred = cg.predicted_subspace(gmm, cg.NoisyComponent(delta))
    assert pred.dim == K - 1 and _angle(pred.subspace, F) < 1e-4
    # Fisher weights move with an invertible change of coordinates x -> A x as v -> A^{-T} v.
    A = np.random.default_rng(seed % 1000).normal(size=(gmm.dim, gmm.dim)) + 3 * np.eye(gmm.dim)
    moved = cg.GMM(gmm.means @ A.T, A @ gmm.within_covariance @ A.T, gmm.weights)
    assert _angle(np.linalg.qr(A.T @ moved.fisher_subspace())[0], F) < 1e-3


def test_more_components_than_classes_minus_one_warns_only_with_labels():
    _, X, X_pos, z = _pairs(4, n=600, K=3, d=8)
    with pytest.warns(UserWarning, match="more than the number of classes - 1 = 2"):
        cg.PairCCA(3, random_state=0).fit(X, z)
    with pytest.warns(UserWarning, match="classes - 1 = 2"):
        cg.SupCon(3, random_state=0, max_epochs=2).fit(X, z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cg.PairCCA(3).fit(X, X_pos)  # positives: the number of classes is unknown
        cg.PairCCA(2, random_state=0).fit(X, z)  # k = K - 1


# ---------------------------------------------------------------------------- shapes
SHAPE_LEARNERS = {
    "pair CCA": (lambda k: cg.PairCCA(k), False),
    "InfoNCE": (lambda k: cg.InfoNCE(k, random_state=0, max_epochs=2), False),
    "SimSiam": (lambda k: cg.SimSiam(k, whiten_output=True, random_state=0, max_epochs=2), False),
    "CCA": (lambda k: cg.CCA(k), True),
    "CLIP": (lambda k: cg.CLIP(k, random_state=0, max_epochs=2), True),
}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(SHAPE_LEARNERS)),
    n=st.integers(2, 40),
    d=st.integers(1, 8),
    dy=st.integers(1, 8),
    k=st.integers(-1, 10),
    seed=st.integers(0, 1000),
)
def test_any_shape_either_fits_to_finite_embeddings_or_names_n_components(name, n, d, dy, k, seed):
    make, two_view = SHAPE_LEARNERS[name]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    second = rng.normal(size=(n, dy)) if two_view else X + 0.3 * rng.normal(size=(n, d))
    limit = min(d, dy) if two_view else d
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cg.CollapseWarning)  # a few random points may well collapse a map
        if not 1 <= k <= limit:
            with pytest.raises(ValueError, match=f"n_components must be between 1 and {limit}"):
                make(k).fit(X, second)
            return
        model = make(k).fit(X, second)
    Z = model.transform(X)
    assert Z.shape == (n, k) and np.isfinite(Z).all()


def test_labels_never_reach_the_warning_before_n_components_is_checked():
    _, X, _, z = _pairs(4, n=300, K=3, d=8)
    for model in (cg.SimCLR(n_components="a"), cg.InfoNCE(n_components="a"), cg.PairCCA(n_components="a")):
        with pytest.raises(TypeError, match="n_components must be an integer"):
            model.fit(X, z)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here: the GPU path is tested where one exists")
@pytest.mark.parametrize("learner", ["InfoNCE", "CLIP"])
def test_a_fit_on_cuda_matches_the_fit_on_cpu(learner):
    # Same seed, same whitened data: GPU and CPU differ only by float32 reduction order, which
    # moves the fitted subspace by far less than a degree (sampling error here is several).
    if learner == "InfoNCE":
        gmm = cg.GMM.random(4, 12, random_state=0)
        X, Xp, _, _ = gmm.sample_pairs(4000, random_state=1)
        cpu, gpu = (cg.InfoNCE(3, random_state=0, device=d).fit(X, Xp) for d in ("cpu", "cuda"))
        pairs = [(cpu.subspace(), gpu.subspace())]
    else:
        mm = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
        A, B, _ = mm.sample(4000, random_state=1)
        cpu, gpu = (cg.CLIP(mm.target_dim(), random_state=0, device=d).fit(A, B) for d in ("cpu", "cuda"))
        pairs = [(cpu.x_subspace(), gpu.x_subspace()), (cpu.y_subspace(), gpu.y_subspace())]
    for S, T in pairs:
        assert cg.subspace_angles(S, T).max() < 1.0
    assert isinstance(gpu.components_ if learner == "InfoNCE" else gpu.x_components_, np.ndarray)
