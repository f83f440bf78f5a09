"""The population InfoNCE loss against independent estimates, its optimum against the Fisher subspace, and bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import contrastive_gmm as cg
from contrastive_gmm.population import PopulationLoss


def _unit_variance_map(gmm: cg.GMM, A: np.ndarray) -> np.ndarray:
    """``A`` rescaled so the embedding has identity covariance (the learners' whitened output)."""
    cov = A @ gmm.total_covariance() @ A.T
    return np.linalg.solve(np.linalg.cholesky(cov), A)


def _independent_dot_estimate(gmm: cg.GMM, A: np.ndarray, tau: float, n: int, seed: int) -> tuple[float, float]:
    """Plain numpy: exact inner expectation (the mixture's MGF, in input coordinates), Monte Carlo positives and outer.

    Written without the library's whitening or its closed-form positive term: the positive's
    similarity is averaged over sampled pairs, so the pair cross-covariance is checked too.
    """
    X, X_pos, _, _ = gmm.sample_pairs(n, random_state=seed)
    m = gmm.mean
    covs = gmm.covariances
    Y, Y_pos = (X - m) @ A.T, (X_pos - m) @ A.T

    def log_mgf(Y: np.ndarray) -> np.ndarray:
        U = Y @ A / tau  # a = A^T A (x - m) / tau
        terms = [np.log(w) + U @ (mu - m) + 0.5 * np.einsum("nd,de,ne->n", U, S, U)
                 for w, mu, S in zip(gmm.weights, gmm.means, covs)]
        return np.logaddexp.reduce(np.stack(terms, axis=1), axis=1)

    h = 0.5 * (log_mgf(Y) + log_mgf(Y_pos)) - np.sum(Y * Y_pos, axis=1) / tau
    return float(h.mean()), float(h.std(ddof=1) / math.sqrt(n))


@pytest.mark.parametrize("per_component", [False, True], ids=["shared", "per-component covariances"])
def test_dot_loss_agrees_with_an_independent_estimate(per_component):
    gmm = cg.GMM.random(3, 5, random_state=0)
    if per_component:
        rng = np.random.default_rng(1)
        covs = []
        for _ in range(3):
            B = rng.standard_normal((5, 5)) * 0.3
            covs.append(gmm.within_covariance + B @ B.T)
        gmm = cg.GMM(gmm.means, np.stack(covs))
    # Logits of order one: entries of A about 0.3 on a unit-variance embedding (tau = 1).
    A = 0.6 * _unit_variance_map(gmm, gmm.fisher_subspace().T + 0.2 * np.random.default_rng(2).standard_normal((2, 5)))
    value, se = cg.population_info_nce(gmm, A, temperature=1.0, similarity="dot", n_samples=100_000, random_state=3)
    ref, ref_se = _independent_dot_estimate(gmm, A, 1.0, 200_000, seed=4)
    z = (value - ref) / math.hypot(se, ref_se)
    # Both are unbiased with honest standard errors (independent draws): |z| < 4 fails once in ~16000 runs.
    assert abs(z) < 4, (value, se, ref, ref_se, z)
    assert 0 < se < 0.01


def test_cosine_loss_matches_the_in_batch_loss_minus_log_n_at_large_batch():
    gmm = cg.GMM.random(3, 6, random_state=0)
    A = _unit_variance_map(gmm, gmm.fisher_subspace().T + 0.3 * np.random.default_rng(1).standard_normal((2, 6)))
    tau, N, batches = 1.0, 4096, 8
    pop = cg.population_info_nce(gmm, A, temperature=tau, similarity="cosine", n_samples=2048, random_state=2)
    X, X_pos, _, _ = gmm.sample_pairs(N * batches, random_state=3)
    m = gmm.mean
    losses = [float(cg.info_nce(torch.as_tensor((X[b:b + N] - m) @ A.T), torch.as_tensor((X_pos[b:b + N] - m) @ A.T),
                                temperature=tau, similarity="cosine")) - math.log(N)
              for b in range(0, N * batches, N)]
    batch, batch_se = float(np.mean(losses)), float(np.std(losses, ddof=1) / math.sqrt(batches))
    # The batch loss keeps its positive in the denominator: its share of the sum is at most e^(2/tau) / N
    # (cosine logits lie in [-1/tau, 1/tau]), a bias of at most that much; the rest is both estimates' noise.
    bias = math.exp(2 / tau) / N
    assert abs(pop.value - batch) < 4 * math.hypot(pop.stderr, batch_se) + bias, (pop, batch, batch_se)
    assert pop.stderr < 0.02  # about 0.4 / sqrt(2048): the draws' spread of the per-anchor terms


def test_common_random_numbers_make_differences_precise_and_repeatable():
    gmm = cg.GMM.random(3, 6, random_state=0)
    F = _unit_variance_map(gmm, gmm.fisher_subspace().T)
    # Tilted towards directions the Fisher subspace does not contain (its orthogonal complement).
    away = np.linalg.svd(np.eye(6) - gmm.fisher_subspace() @ gmm.fisher_subspace().T)[0][:, :2].T
    tilted = _unit_variance_map(gmm, gmm.fisher_subspace().T + 0.02 * away)
    a = cg.population_info_nce(gmm, F, 1.0, "cosine", n_samples=1024, random_state=0)
    assert a == cg.population_info_nce(gmm, F, 1.0, "cosine", n_samples=1024, random_state=0)
    assert isinstance(a, PopulationLoss)
    b = cg.population_info_nce(gmm, tilted, 1.0, "cosine", n_samples=1024, random_state=0)
    # Tilting off the Fisher subspace costs loss (~5e-4 here); with the same draws the ordering is seen even though
    # the difference is well below one standard error of either estimate.
    assert 0 < b.value - a.value < a.stderr


def test_the_optimum_on_an_easy_mixture_is_the_fisher_subspace():
    # Equal separations (a regular simplex), moderate temperature: every variant should land on Fisher.
    gmm = cg.GMM.random(3, 6, random_state=0)
    opt = cg.population_optimum(gmm, temperature=0.5, similarity="cosine", constrained=True, n_starts=1,
                                n_samples=256, n_eval_samples=512, max_iter=50, random_state=0)
    assert opt.angle_to_fisher < 2 and opt.effective_rank == 2
    # The random start reaches it by itself (it is not only the Fisher candidate that wins).
    assert opt.start_angles[0] < 3, opt.start_angles
    assert opt.fisher_gap <= 2 * opt.fisher_gap_stderr
    np.testing.assert_allclose(opt.singular_values, 1.0, atol=1e-8)  # constrained: orthonormal in whitened coordinates
    # The embedding has identity covariance, as the learners' whiten_output=True.
    np.testing.assert_allclose(opt.components @ gmm.total_covariance() @ opt.components.T, np.eye(2), atol=1e-8)
    dot = cg.population_optimum(gmm, temperature=1.0, similarity="dot", constrained=False, n_starts=1, max_iter=50,
                                n_eval_samples=10_000, random_state=0)
    assert dot.start_angles[0] < 1 and dot.effective_rank == 2


def test_unconstrained_dot_optimum_does_not_depend_on_the_temperature():
    # The map's scale absorbs tau: A*(tau) = sqrt(tau) A*(1), so the loss value is the same.
    gmm = cg.GMM.random(3, 5, random_state=1)
    kw = {"similarity": "dot", "constrained": False, "n_starts": 0, "n_eval_samples": 10_000, "random_state": 0}
    a, b = (cg.population_optimum(gmm, temperature=t, **kw) for t in (1.0, 4.0))
    # Equal up to where L-BFGS stops (its step and gradient tolerances, on a flat optimum): 1e-3 relative.
    np.testing.assert_allclose(b.components, 2.0 * a.components, rtol=1e-3, atol=1e-4)
    assert b.loss == pytest.approx(a.loss, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"components": np.ones((2, 4))}, "components must be a \\(k, d\\) map"),
        ({"components": np.ones((2, 5, 1))}, "components must be a \\(k, d\\) map"),
        ({"components": np.zeros((2, 5))}, "all zeros"),
        ({"components": [["a"] * 5]}, "components"),
        ({"components": np.full((2, 5), np.nan)}, "components"),
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"similarity": "euclidean"}, "similarity"),
        ({"augmentation": "same"}, "augmentation"),
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"gmm": "not a mixture"}, "gmm"),
    ],
)
def test_bad_inputs_raise_naming_the_argument(kwargs, match):
    gmm = cg.GMM.random(3, 5, random_state=0)
    args = {"gmm": gmm, "components": np.ones((2, 5)), "temperature": 1.0, "similarity": "dot", **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        cg.population_info_nce(**args)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_components": 0}, "n_components"), ({"n_components": 9}, "n_components"), ({"n_starts": -1}, "n_starts"),
     ({"max_iter": 0}, "max_iter"), ({"temperature": float("inf")}, "temperature"), ({"similarity": 3}, "similarity")],
)
def test_bad_optimum_inputs_raise(kwargs, match):
    gmm = cg.GMM.random(3, 5, random_state=0)
    with pytest.raises((ValueError, TypeError), match=match):
        cg.population_optimum(gmm, **kwargs)


def test_the_population_study_run_reports_every_variant():
    # One cheap setting of the shipped kind, without the learner (n_pairs 0): four variants, their metrics.
    from contrastive_gmm.experiments.engine import Task
    from contrastive_gmm.experiments.population import VARIANTS, run_population
    from contrastive_gmm.experiments.spec import parse_study

    spec = parse_study({"kind": "population", "name": "p", "title": "P", "seed": 0, "seeds": 1, "temperatures": [1.0],
                        "ratios": [1.0], "n_samples": 64, "n_eval_samples": 256, "n_starts": 0, "max_iter": 20,
                        "n_pairs": 0, "claims": []})
    (setting,) = spec.expand()
    rows = run_population(spec, setting, Task(spec, setting, 0).seed_sequence())
    assert {r["method"] for r in rows} == {f"population {v}" for v in VARIANTS}
    angles = [r["value"] for r in rows if r["metric"] == "max_angle"]
    assert len(angles) == 4 and max(angles) < 1  # equal separations, tau = 1: every variant is Fisher
