"""Vanilla InfoNCE on a known mixture, exactly: its population loss and the linear map that minimises it.

The learners (:class:`~contrastive_gmm.InfoNCE`) minimise a sample loss; this module answers what that
loss converges to and where its minimum lies, so that a finite-sample or optimisation effect can be
told apart from a property of the loss itself.

The loss the learners train (:func:`~contrastive_gmm.info_nce`, ``symmetric=True`` by default) on a
batch of N pairs is ``(1/2N) sum_i [logsumexp_j s(a_i, b_j) - s(a_i, b_i)] + (the same with a and b
swapped)``, with ``s = sim / tau``, the positive inside the log-sum-exp, ``a_i = A(x_i - m)``,
``b_i = A(x+_i - m)`` and ``m`` the pooled mean of both views. As N grows, ``logsumexp_j s_ij - log N``
tends to ``log E_{x'} exp s(x_i, x')`` (the positive's own term is one of N), so the in-batch loss
minus ``log N`` tends to the **population loss**

    L(A) = 1/2 E_x log E_{x'+} exp s(x, x'+) + 1/2 E_{x+} log E_{x'} exp s(x+, x') - E s(x, x+),

where ``x'``, ``x'+`` are independent draws of the anchors' and the positives' marginals (both the
mixture when the augmentation's channel keeps its weights, as :class:`~contrastive_gmm.SameComponent`
and :class:`~contrastive_gmm.NoisyComponent` do; the two directions then agree).

How it is computed (in whitened coordinates, which change no value):

- ``similarity="dot"``: ``s(x, x') = (A(x - m)) . (A(x' - m)) / tau``. The inner expectation is exact: a
  linear function of a Gaussian mixture has the mixture's moment-generating function,
  ``E exp(a . (x' - m)) = sum_k w_k exp(a . (mu_k - m) + a' S_k a / 2)`` with ``a = A'A(x - m) / tau``.
  The positive term is exact too, ``tr(A C A') / tau`` with ``C`` the pair cross-covariance. Only the
  outer expectation is a Monte Carlo mean over ``n_samples`` draws; its standard error is the draws'
  standard deviation over ``sqrt(n_samples)``, and the estimate is unbiased.
- ``similarity="cosine"``: Monte Carlo for both expectations, ``n_samples`` pairs as anchors and another
  ``n_samples`` independent pairs as negatives. The log of a mean of M negatives is biased by about
  ``-Var/(2 M mean^2)``; that first-order term is estimated from the same draws and removed, leaving a
  bias of order ``1/M^2``. The standard error is the delta-method error of the two-sample statistic,
  ``sqrt(Var_i(h_i)/n + Var_j(g_j)/M)``: ``h_i`` the anchor's own term, ``g_j`` a negative's influence
  (its softmax weight averaged over anchors). The draws are common random numbers: the same
  ``random_state`` gives the same draws for every map, so the difference of two maps' losses is far
  more precise than either standard error says.

The mixture may have one covariance or one per component (``gmm.covariances`` when it exists).

Examples
--------
>>> import contrastive_gmm as cg
>>> gmm = cg.GMM.random(3, 6, random_state=0)
>>> F = gmm.fisher_subspace()                     # 6 x 2
>>> est = cg.population_info_nce(gmm, F.T, temperature=1.0, similarity="cosine", random_state=0)
>>> bool(est.stderr < 0.01), est == cg.population_info_nce(gmm, F.T, 1.0, "cosine", random_state=0)
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    SIMILARITIES,
    InputTypeError,
    Similarity,
    check_choice,
    check_float_array,
    check_n_components,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)
from contrastive_gmm.learners.training import _TrainedLinear, orthonormal_rows
from contrastive_gmm.linalg import inv_sqrt
from contrastive_gmm.metrics import subspace_angles
from contrastive_gmm.mixtures.gmm import GMM, Augmentation, RandomState, _check_augmentation, _rng

#: Draws of the outer expectation when ``n_samples`` is None: the dot estimator costs n x K x k, the
#: cosine one n x n x k (anchors against as many negatives).
DEFAULT_SAMPLES = {"dot": 100_000, "cosine": 4096}
# Rows of anchors against all negatives at a time when no gradient is needed (memory 1024 x M).
_CHUNK = 1024
_DTYPE = torch.float64
#: A start replaces the best Fisher map only if its loss is lower by more than this many standard errors.
FISHER_MARGIN = 2.0


class PopulationLoss(NamedTuple):
    """A Monte Carlo estimate of the population loss and its standard error (see the module docstring)."""

    value: float
    stderr: float


def _component_covariances(gmm: GMM) -> np.ndarray:
    """The (K, d, d) covariances of the components: ``gmm.covariances`` if it has them, else the shared one."""
    covs = getattr(gmm, "covariances", None)
    if covs is None:
        covs = getattr(gmm, "covariance", None)
        if covs is None:
            covs = gmm.within_covariance
    covs = np.asarray(covs, dtype=np.float64)
    return np.broadcast_to(covs, (gmm.n_components, gmm.dim, gmm.dim)) if covs.ndim == 2 else covs


class _Mixture:
    """The two views' marginals of a mixture and an augmentation, centred and whitened as the learners see them.

    ``white = pooled_cov^(-1/2)``: whitened coordinates ``z = (x - m) white`` have identity pooled
    covariance, so the whitened-output constraint is "orthonormal rows" there, as in the learners.
    """

    def __init__(self, gmm: GMM, augmentation: Augmentation | None) -> None:
        if not isinstance(gmm, GMM):
            raise InputTypeError(f"gmm must be a contrastive_gmm.GMM; got {type(gmm).__name__}.")
        aug = _check_augmentation(augmentation)
        self.gmm, self.augmentation = gmm, aug
        self.Q = aug.transition_matrix(gmm.weights)
        self.weights = gmm.weights
        self.pos_weights = gmm.weights @ self.Q
        self.mean = (self.weights + self.pos_weights) / 2 @ gmm.means  # the pooled mean the learners centre with
        M = gmm.means - self.mean
        self.covs = _component_covariances(gmm)
        pooled = (self.weights + self.pos_weights) / 2
        cov = np.einsum("k,kij->ij", pooled, self.covs) + (M.T * pooled) @ M
        self.white = inv_sqrt((cov + cov.T) / 2)
        self.stationary = bool(np.allclose(self.pos_weights, self.weights, atol=1e-12))
        # Whitened: centred means (K, d), component covariances (K, d, d), pair cross-covariance (d, d).
        self.means_w = M @ self.white
        self.covs_w = np.einsum("ab,kbc,cd->kad", self.white, self.covs, self.white)
        self.cross_w = self.white @ ((M.T * self.weights) @ self.Q @ M) @ self.white
        self._chols = np.linalg.cholesky(self.covs)

    def draw_pairs(self, n: int, rng: np.random.Generator, matched: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``n`` whitened pairs ``(z, z+)``: labels from the weights and the channel, then Gaussian draws.

        ``matched``: the anchors' labels in exact proportions and each component's standard normal
        draws shifted and rotated to zero mean and identity covariance (moment matching), so the
        sample's first two moments are the mixture's. It is no longer an i.i.d. sample (its error is
        smaller than the i.i.d. formula says), which is what an optimisation's fixed sample wants.
        """
        K, d = self.gmm.n_components, self.gmm.dim
        if matched:
            counts = np.floor(n * self.weights).astype(int)
            counts[np.argsort(n * self.weights - counts)[::-1][: n - counts.sum()]] += 1
            z = rng.permutation(np.repeat(np.arange(K), counts))
        else:
            z = rng.choice(K, size=n, p=self.weights)
        cum = np.cumsum(self.Q[z], axis=1)
        z_pos = np.minimum((rng.random((n, 1)) > cum).sum(axis=1), K - 1)
        out = []
        for labels in (z, z_pos):
            x = rng.standard_normal((n, d))
            for c in range(K):  # one component at a time: no (n, d, d) stack of Cholesky factors
                rows = labels == c
                eps = x[rows]
                if matched and eps.shape[0] > d + 1:
                    eps = eps - eps.mean(axis=0)
                    eps = eps @ inv_sqrt(eps.T @ eps / eps.shape[0])
                x[rows] = self.gmm.means[c] + eps @ self._chols[c].T
            out.append((x - self.mean) @ self.white)
        return out[0], out[1]


def _noise_reflection(mix: "_Mixture") -> np.ndarray | None:
    """The reflection of the whitened directions orthogonal to every mean, if it leaves the mixture unchanged.

    With one shared covariance those directions are noise independent of the component, so the
    mixture (and the population loss) is invariant under flipping them: ``L(V R) = L(V)``. None when
    a component's covariance couples them to the means (then there is no such symmetry).
    """
    basis = np.linalg.svd(mix.means_w.T, full_matrices=True)[0]
    rank = int(np.linalg.matrix_rank(mix.means_w))
    perp = basis[:, rank:]
    R = np.eye(mix.gmm.dim) - 2 * perp @ perp.T
    covs = mix.covs_w
    if not np.allclose(np.einsum("ab,kbc,cd->kad", R, covs, R), covs, atol=1e-10 * max(1.0, np.abs(covs).max())):
        return None
    return R


class _Draws:
    """The fixed draws (common random numbers) of one estimate, as float64 tensors in whitened coordinates."""

    def __init__(self, mix: _Mixture, similarity: str, n: int, rng: np.random.Generator, matched: bool = False) -> None:
        self.mix, self.similarity, self.n = mix, similarity, n
        t = lambda a: torch.as_tensor(a, dtype=_DTYPE)  # noqa: E731
        R = _noise_reflection(mix) if matched and n % 2 == 0 else None
        draw = lambda: mix.draw_pairs(n, rng, matched) if R is None else _with_mirror(mix.draw_pairs(n // 2, rng, matched), R)  # noqa: E731
        self.anchors, self.positives = map(t, draw())
        if similarity == "cosine":
            self.neg_anchors, self.neg_positives = map(t, draw())
        self.log_w = t(np.log(np.maximum(mix.weights, 1e-300)))
        self.log_w_pos = t(np.log(np.maximum(mix.pos_weights, 1e-300)))
        self.means_w, self.covs_w, self.cross_w = t(mix.means_w), t(mix.covs_w), t(mix.cross_w)


def _with_mirror(pairs: tuple[np.ndarray, np.ndarray], R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pair and its mirror image under ``R`` (both points flipped: still a pair of the mixture)."""
    return tuple(np.vstack([z, z @ R]) for z in pairs)  # type: ignore[return-value]


def _log_mgf(y: torch.Tensor, V: torch.Tensor, draws: _Draws, log_w: torch.Tensor, scale: float) -> torch.Tensor:
    """``log E_{z'} exp(scale * y . V z')`` for each row of ``y`` (n, k), z' the whitened mixture with weights ``exp(log_w)``."""
    P = V @ draws.means_w.T  # (k, K): the components' embedded means
    B = torch.einsum("ad,kde,be->kab", V, draws.covs_w, V)  # (K, k, k): their embedded covariances
    quad = torch.einsum("na,kab,nb->nk", y, B, y)
    return torch.logsumexp(log_w + scale * (y @ P) + 0.5 * scale**2 * quad, dim=1)


def _dot_terms(V: torch.Tensor, draws: _Draws, scale: float, symmetric: bool) -> torch.Tensor:
    """Per-anchor terms ``h_i`` whose mean is the dot-similarity population loss (exact inner expectation)."""
    positive = scale * torch.trace(V @ draws.cross_w @ V.T)
    row = _log_mgf(draws.anchors @ V.T, V, draws, draws.log_w_pos, scale)
    if not symmetric:
        return row - positive
    col = _log_mgf(draws.positives @ V.T, V, draws, draws.log_w, scale)
    return 0.5 * (row + col) - positive


def _log_mean_exp(S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: ``log mean_j exp S_ij`` plus its first-order bias correction, and the weights ``exp S_ij / mean``."""
    M = S.shape[1]
    lse = torch.logsumexp(S, dim=1, keepdim=True)
    p = torch.exp(S - lse) * M  # each negative's weight relative to the mean: mean_j p_ij = 1
    # E log(mean) ~ log E - Var/(2 M E^2): add back Var_j(p_ij) / (2M), estimated with the same draws.
    correction = ((p * p).mean(dim=1) - 1.0) / (2 * M)
    return lse[:, 0] - math.log(M) + correction, p


def _cosine_terms(
    V: torch.Tensor, draws: _Draws, scale: float, symmetric: bool, rows: slice = slice(None)
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-anchor terms ``h_i`` (rows ``rows``) and the negatives' summed weights (for the standard error)."""
    unit = lambda z: torch.nn.functional.normalize(z @ V.T, dim=1)  # noqa: E731
    a, b = unit(draws.anchors[rows]), unit(draws.positives[rows])
    row, p_row = _log_mean_exp(scale * a @ unit(draws.neg_positives).T)
    positive = scale * (a * b).sum(dim=1)
    if not symmetric:
        return row - positive, p_row.sum(dim=0)
    col, p_col = _log_mean_exp(scale * b @ unit(draws.neg_anchors).T)
    return 0.5 * (row + col) - positive, 0.5 * (p_row.sum(dim=0) + p_col.sum(dim=0))


def _terms(V: torch.Tensor, draws: _Draws, scale: float, symmetric: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-anchor terms and (cosine) each negative's mean weight, without gradients, a chunk of anchors at a time."""
    with torch.no_grad():
        if draws.similarity == "dot":
            return _dot_terms(V, draws, scale, symmetric), None
        parts, weight = [], torch.zeros(draws.n, dtype=_DTYPE)
        for start in range(0, draws.n, _CHUNK):
            h, w = _cosine_terms(V, draws, scale, symmetric, slice(start, start + _CHUNK))
            parts.append(h)
            weight += w
        return torch.cat(parts), weight / draws.n


def _loss(V: torch.Tensor, draws: _Draws, scale: float, symmetric: bool) -> torch.Tensor:
    """The estimate as a differentiable function of the whitened map ``V`` (k, d)."""
    if draws.similarity == "dot":
        return _dot_terms(V, draws, scale, symmetric).mean()
    return _cosine_terms(V, draws, scale, symmetric)[0].mean()


def _estimate(V: torch.Tensor, draws: _Draws, scale: float, symmetric: bool) -> tuple[np.ndarray, np.ndarray | None]:
    h, g = _terms(V, draws, scale, symmetric)
    return h.numpy(), None if g is None else g.numpy()


def _summary(h: np.ndarray, g: np.ndarray | None) -> PopulationLoss:
    """Mean of the anchors' terms and the two-sample delta-method standard error."""
    var = h.var(ddof=1) / h.size + (0.0 if g is None else g.var(ddof=1) / g.size)
    return PopulationLoss(float(h.mean()), float(math.sqrt(var)))


def _check_samples(n_samples: int | None, similarity: str) -> int:
    n = DEFAULT_SAMPLES[similarity] if n_samples is None else check_positive_int(n_samples, "n_samples")
    if n < 2:
        raise ValueError(f"n_samples must be at least 2 (a standard error needs two draws); got {n}.")
    return n


def _check_common(gmm: GMM, temperature: float, similarity: str, augmentation: Augmentation | None) -> tuple[_Mixture, float]:
    if not isinstance(gmm, GMM):
        raise InputTypeError(f"gmm must be a contrastive_gmm.GMM; got {type(gmm).__name__}.")
    check_choice(similarity, "similarity", SIMILARITIES)
    scale = 1.0 / check_positive(temperature, "temperature")
    if augmentation is not None and not isinstance(augmentation, Augmentation):
        raise InputTypeError(
            "augmentation must be a contrastive_gmm Augmentation such as SameComponent() or NoisyComponent(delta); "
            f"got {augmentation!r}."
        )
    return _Mixture(gmm, augmentation), scale


def population_info_nce(
    gmm: GMM,
    components: ArrayLike,
    temperature: float = 10.0,
    similarity: Similarity = "dot",
    augmentation: Augmentation | None = None,
    *,
    symmetric: bool = True,
    n_samples: int | None = None,
    random_state: RandomState = None,
) -> PopulationLoss:
    """The population InfoNCE loss of a linear map: the in-batch loss minus log N as N grows (see the module docstring).

    Parameters
    ----------
    gmm : GMM
        The mixture the pairs come from.
    components : array (k, d)
        The map, acting on ``x`` minus the pooled mean (as a learner's ``components_`` do on
        ``x - mean_``); a 1-D array is one row.
    temperature : float > 0
        The loss's temperature: similarities are divided by it.
    similarity : {"dot", "cosine"}
        Inner product of the embeddings, or of the embeddings normalised to unit length.
    augmentation : Augmentation, optional
        How a positive's component is drawn (:class:`~contrastive_gmm.SameComponent` by default).
    symmetric : bool
        Average both directions, as the learners do by default.
    n_samples : int, optional
        Monte Carlo draws: the outer expectation's for dot similarity (default 100000); for cosine, as
        many anchor pairs and as many negative pairs (default 4096).
    random_state : int, Generator or None
        Seed of the draws: the same seed gives the same draws for every map (common random numbers).

    Returns
    -------
    PopulationLoss
        ``(value, stderr)``: the estimate and its standard error.

    Examples
    --------
    >>> import numpy as np
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(3, 5, random_state=0)
    >>> A = gmm.fisher_subspace().T                  # 2 x 5
    >>> exact = cg.population_info_nce(gmm, A, temperature=1.0, similarity="dot", random_state=0)
    >>> tilted = cg.population_info_nce(gmm, A + 0.3 * np.eye(5)[3], 1.0, "dot", random_state=0)
    >>> bool(exact.value < tilted.value), bool(exact.stderr < 0.01)
    (True, True)
    """
    mix, scale = _check_common(gmm, temperature, similarity, augmentation)
    A = check_float_array(components, "components")
    if A.ndim == 1:
        A = A[None, :]
    if A.ndim != 2 or A.shape[1] != gmm.dim or A.shape[0] < 1:
        raise ValueError(f"components must be a (k, d) map with d = {gmm.dim} columns (the mixture's dimension); got shape {A.shape}.")
    if not np.any(A):
        raise ValueError("components is all zeros: cosine similarity is undefined and the dot loss is log 1 = 0 for any mixture.")
    n = _check_samples(n_samples, similarity)
    draws = _Draws(mix, similarity, n, _rng(random_state))
    # A acts on x - m; in whitened coordinates z = (x - m) white it is V = A white^-1.
    V = torch.as_tensor(A @ np.linalg.inv(mix.white), dtype=_DTYPE)
    return _summary(*_estimate(V, draws, scale, bool(symmetric)))


# ---------------------------------------------------------------------------- the optimum


@dataclass(frozen=True)
class PopulationOptimum:
    """The linear map that minimises the population InfoNCE loss, and how it sits against the Fisher subspace.

    Attributes
    ----------
    components : (k, d) array
        The map, acting on ``x - mean`` (unit-variance embedding when ``constrained``).
    mean : (d,) array
        The pooled mean the map is centred with.
    loss, loss_stderr : float
        Its population loss, estimated on i.i.d. draws independent of those it was optimised on.
    angle_to_fisher : float
        Largest principal angle (degrees) between the map's row space and the Fisher subspace.
    singular_values : (k,) array
        Singular values of the map on whitened coordinates (all 1 when ``constrained``), decreasing.
    effective_rank : int
        Number of singular values above 1e-2 x the largest (the learners' ``effective_rank_`` rule).
    fisher_loss : float
        Population loss of the best map whose row space lies in the Fisher subspace (same draws).
    fisher_gap, fisher_gap_stderr : float
        The best start's loss minus ``fisher_loss``, and its standard error (paired: both on the same
        draws). Below ``-FISHER_MARGIN`` standard errors, the loss prefers a map outside the Fisher
        subspace, or of lower rank, to every map inside it, and that map is returned; otherwise the
        Fisher map is (a smaller difference is not resolved by the draws).
    start_losses, start_angles : (n_starts + 1,) arrays
        Each start's final map: its loss on the evaluation draws and its angle to Fisher; the last
        start is the closed form's (pair CCA's population subspace).
    best_start_rank : int
        Effective rank of the start with the lowest loss (whether or not it beat the Fisher map).
    """

    components: np.ndarray
    mean: np.ndarray
    loss: float
    loss_stderr: float
    angle_to_fisher: float
    singular_values: np.ndarray
    effective_rank: int
    fisher_loss: float
    fisher_gap: float
    fisher_gap_stderr: float
    start_losses: np.ndarray
    start_angles: np.ndarray
    best_start_rank: int


def _parametrize(constrained: bool, similarity: str):
    if constrained:
        return orthonormal_rows
    if similarity == "cosine":
        return lambda U: U / torch.linalg.norm(U)  # cosine ignores the map's overall scale: fix it
    return lambda U: U


def _minimise(loss_fn, U0: torch.Tensor, param, max_iter: int) -> tuple[torch.Tensor, float]:
    """L-BFGS (strong Wolfe line search) from ``U0``; returns the map ``param(U)`` and its loss."""
    U = U0.clone().contiguous().requires_grad_(True)
    opt = torch.optim.LBFGS([U], lr=1.0, max_iter=max_iter, history_size=20, tolerance_grad=1e-10,
                            tolerance_change=1e-13, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = loss_fn(param(U))
        value.backward()
        return value

    opt.step(closure)
    with torch.no_grad():
        V = param(U).detach()
        return V, float(loss_fn(V))


def population_optimum(
    gmm: GMM,
    n_components: int | None = None,
    temperature: float = 10.0,
    similarity: Similarity = "dot",
    constrained: bool = True,
    augmentation: Augmentation | None = None,
    *,
    symmetric: bool = True,
    n_starts: int = 2,
    n_samples: int = 1024,
    n_eval_samples: int | None = None,
    max_iter: int = 100,
    random_state: RandomState = None,
) -> PopulationOptimum:
    """Minimise the population InfoNCE loss over k x d linear maps: which subspace vanilla InfoNCE picks.

    How: the loss (:func:`population_info_nce`) is estimated on one fixed sample of ``n_samples``
    draws (common random numbers, so it is a smooth deterministic function of the map) and
    minimised with L-BFGS in whitened coordinates, from ``n_starts`` random starts and one at the
    closed form's population subspace (pair CCA, the small-logit limit). That sample is built to
    have the mixture's exact component proportions, first and second moments and, with a shared
    covariance, its mirror symmetry in the directions orthogonal to the means (each draw comes
    with its mirror image), so the Fisher subspace is an exact critical point of the sample loss as
    it is of the population loss, not one moved by the sample's noise. Every start's result and
    the best map inside the Fisher subspace (``B @ F.T`` with the k x r matrix ``B`` optimised, not
    only a scaling; with the constraint and k = r every such map has the same loss) are then
    evaluated on fresh i.i.d. draws (``n_eval_samples``), and the start with the lowest of those
    losses is returned if it beats the Fisher map by more than ``FISHER_MARGIN`` standard errors of
    the paired difference, else the Fisher map: a start that only fits the optimisation sample's
    noise does not win.

    Parameters
    ----------
    gmm : GMM
        The mixture.
    n_components : int, optional
        k, the embedding's dimension (default K - 1).
    temperature : float > 0
        The loss's temperature.
    similarity : {"dot", "cosine"}
        As in the learners.
    constrained : bool
        Restrict to embeddings with identity covariance (the learners' ``whiten_output=True``).
        Unconstrained, dot similarity's optimum does not depend on the temperature (the map's scale
        absorbs it) and cosine's not on the map's overall scale (fixed to unit Frobenius norm here).
    augmentation : Augmentation, optional
        The positives' channel (:class:`~contrastive_gmm.SameComponent` by default).
    symmetric : bool
        Both directions of the loss, as the learners by default.
    n_starts : int >= 0
        Random starts (plus the closed-form one).
    n_samples : int
        Draws of the optimisation's sample (for cosine, as many anchor pairs and as many negative pairs).
    n_eval_samples : int, optional
        Draws of the final evaluation (default: :data:`DEFAULT_SAMPLES`).
    max_iter : int
        L-BFGS iterations per start.
    random_state : int, Generator or None
        Seed of the draws and of the starts.

    Returns
    -------
    PopulationOptimum

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(3, 6, random_state=0)
    >>> opt = cg.population_optimum(gmm, temperature=1.0, similarity="dot", n_starts=1, random_state=0)
    >>> opt.components.shape, opt.effective_rank, bool(opt.angle_to_fisher < 1e-3)
    ((2, 6), 2, True)
    """
    mix, scale = _check_common(gmm, temperature, similarity, augmentation)
    d, K = gmm.dim, gmm.n_components
    k = K - 1 if n_components is None else check_n_components(n_components, d)
    n_starts = check_nonnegative_int(n_starts, "n_starts")
    n = _check_samples(n_samples, similarity)
    n_eval = _check_samples(n_eval_samples, similarity)
    max_iter = check_positive_int(max_iter, "max_iter")
    symmetric, constrained = bool(symmetric), bool(constrained)
    rng = _rng(random_state)
    fit_draws = _Draws(mix, similarity, n, rng, matched=True)
    loss_fn = lambda V: _loss(V, fit_draws, scale, symmetric)  # noqa: E731
    param = _parametrize(constrained, similarity)
    # Unconstrained dot: the optimum scales as sqrt(tau); start near it, with logits of order one.
    size = math.sqrt(temperature) if similarity == "dot" and not constrained else 1.0
    tensor = lambda a: torch.as_tensor(size * np.ascontiguousarray(a), dtype=_DTYPE)  # noqa: E731
    closed = np.linalg.eigh((mix.cross_w + mix.cross_w.T) / 2)[1][:, ::-1][:, :k].T
    starts = [rng.standard_normal((k, d)) / math.sqrt(d) for _ in range(n_starts)] + [closed]
    maps = [_minimise(loss_fn, tensor(s), param, max_iter)[0] for s in starts]

    # The best map inside the Fisher subspace: rows in span(white^-1 F) in whitened coordinates.
    F = gmm.fisher_subspace()
    G = torch.as_tensor(np.linalg.qr(np.linalg.solve(mix.white, F))[0], dtype=_DTYPE)  # (d, r)
    r = G.shape[1]
    if constrained and k > r:
        fisher = None  # no k orthonormal rows fit in an r-dimensional subspace
    elif constrained and k == r:
        fisher = G.T.contiguous()  # V = Q G^T for an orthogonal Q: the loss does not see Q
    else:
        fisher = _minimise(loss_fn, tensor(np.eye(k, r)), lambda U: param(U) @ G.T, max_iter)[0]

    eval_draws = _Draws(mix, similarity, n_eval, rng)
    evaluated = [_estimate(V, eval_draws, scale, symmetric) for V in maps]
    losses = np.array([h.mean() for h, _ in evaluated])
    to_input = lambda V: V.numpy() @ mix.white  # noqa: E731  whitened map -> map on x - m
    angles = np.array([float(subspace_angles(to_input(V).T, F).max()) for V in maps])
    i = int(np.nanargmin(losses))
    best, (h, g) = maps[i], evaluated[i]
    s_best = np.linalg.svd(best.numpy(), compute_uv=False)
    if fisher is None:
        fisher_loss = gap = gap_se = math.nan
    else:
        hf, gf = _estimate(fisher, eval_draws, scale, symmetric)
        fisher_loss = float(hf.mean())
        gap_se = _summary(h - hf, None if g is None else g - gf).stderr
        gap = float(h.mean()) - fisher_loss
        # The Fisher map is a candidate too, and kept unless a start beats it beyond the estimate's noise.
        if not gap < -FISHER_MARGIN * gap_se:
            best, h, g = fisher, hf, gf
    loss = _summary(h, g)
    s = np.linalg.svd(best.numpy(), compute_uv=False)
    rank = lambda sv: int(np.sum(sv > _TrainedLinear.collapse_tol * sv.max()))  # noqa: E731  the learners' rule
    return PopulationOptimum(
        components=to_input(best),
        mean=mix.mean.copy(),
        loss=loss.value,
        loss_stderr=loss.stderr,
        angle_to_fisher=float(subspace_angles(to_input(best).T, F).max()),
        singular_values=s,
        effective_rank=rank(s),
        fisher_loss=fisher_loss,
        fisher_gap=float(gap),
        fisher_gap_stderr=float(gap_se),
        start_losses=losses,
        start_angles=angles,
        best_start_rank=rank(s_best),
    )


__all__ = ["DEFAULT_SAMPLES", "FISHER_MARGIN", "PopulationLoss", "PopulationOptimum", "population_info_nce", "population_optimum"]
