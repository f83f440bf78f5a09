"""How many discriminative directions the pairs carry: pair correlations against a shuffled-pairs null.

The pair-CCA eigenvalues (the generalised eigenvalues of the symmetrised pair cross-covariance
against the pooled covariance, what :class:`~contrastive_gmm.PairCCA` computes) are the pair
correlations of the directions: about ``(1 - delta)`` times a Fisher ratio on the K - 1 Fisher
directions, about 0 on the rest. Pairing each anchor with the positive of a random other row
keeps both views' marginals (so the pooled covariance, and the whitening, do not change) and
breaks the pairing, so its eigenvalues show how large a pair correlation chance alone makes.
:func:`estimate_n_components` counts the leading eigenvalues above that null;
:func:`estimate_two_view_n_components` does the same for the canonical correlations of two
views (CCA, CLIP, SigLIP, PLS-SVD). :func:`resolve_n_components` is what the learners' ``fit``
calls for ``n_components="auto"``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    check_labels,
    check_n_components,
    check_paired,
    check_positive_int,
    check_probability,
    check_reg,
    check_sample_weight,
)
from contrastive_gmm.linalg import covariance_regularisation, inv_sqrt, pair_moments, ridge, two_view_moments
from contrastive_gmm.mixtures.gmm import RandomState, _rng

#: Shuffles of the pairing per estimate: the smallest p-value is 1 / 100, and a 64-dimensional
#: digits estimate takes well under a second.
N_PERMUTATIONS = 99

#: The estimates' default ``reg``: a ridge of 0.1 x the mean variance, not the learners' Ledoit-Wolf
#: shrinkage. Why: on raw digits (near-constant border pixels, which a tiny ridge whitens up to
#: heavy-tailed coordinates) ``reg="auto"`` found 9 directions for 13 of 20 same-class pairings (8
#: or 10 for the rest); a 0.1 ridge found 9 for all 20, and K - 1 on the mixtures as before. The
#: regularisation changes the power, never the false-positive rate (it depends on the marginals only).
RANK_REG = 0.1


@dataclass(frozen=True, eq=False)  # arrays: compare fields with numpy, not ==
class RankEstimate:
    """The estimated number of shared directions, with the spectrum and the null it was read against.

    Attributes
    ----------
    n_components : int
        How many leading eigenvalues of ``spectrum`` lie strictly above ``null_threshold``
        (0 when none does).
    spectrum : ndarray (m,)
        The observed pair (or canonical) correlations, decreasing.
    null_spectra : ndarray (n_permutations, m)
        The same spectrum for each shuffled pairing, each row decreasing.
    null_threshold : float
        The ``ceil((1 - alpha)(n_permutations + 1))``-th smallest of the shuffled pairings' largest
        eigenvalues (``null_spectra[:, 0]``): an eigenvalue above it has a permutation p-value of at
        most ``alpha``.
    p_values : ndarray (m,)
        ``(1 + #{null maxima >= eigenvalue}) / (n_permutations + 1)`` per eigenvalue.
    alpha : float
        The family-wise false-positive rate asked for.
    """

    n_components: int
    spectrum: np.ndarray
    null_spectra: np.ndarray
    null_threshold: float
    p_values: np.ndarray
    alpha: float

    @property
    def null_max(self) -> np.ndarray:
        """The largest eigenvalue of each shuffled pairing, shape (n_permutations,): the max-statistic's null."""
        return self.null_spectra[:, 0]

    def null_quantiles(self, q: float | ArrayLike) -> np.ndarray:
        """Quantiles ``q`` (in [0, 1]) of each null eigenvalue over the shuffles: shape ``(len(q), m)`` (``(m,)`` for a scalar ``q``)."""
        return np.quantile(self.null_spectra, q, axis=0)


def _check_test_params(n_permutations: Any, alpha: Any) -> tuple[int, float, int]:
    """``(n_permutations, alpha, m)``: m is the order statistic of the null maxima the threshold is."""
    B = check_positive_int(n_permutations, "n_permutations")
    alpha = check_probability(alpha, "alpha")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1; got {alpha}.")
    # p = (1 + #{null >= lambda}) / (B + 1) <= alpha  <=>  lambda > the m-th smallest null maximum.
    m = math.ceil((1 - alpha) * (B + 1) - 1e-9)  # the 1e-9: (1 - 0.05) * 100 is 95.00000000000001
    if m > B:
        raise ValueError(
            f"n_permutations={B} is too few for alpha={alpha}: the smallest p-value a permutation test can give is "
            f"1 / (n_permutations + 1), so n_permutations must be at least {math.ceil(1 / alpha - 1 - 1e-9)}."
        )
    return B, alpha, m


def _read_against_null(spectrum: np.ndarray, null_spectra: np.ndarray, alpha: float, m: int) -> RankEstimate:
    maxima = np.sort(null_spectra[:, 0])
    threshold = float(maxima[m - 1])
    p_values = (1 + (maxima[None, :] >= spectrum[:, None]).sum(axis=1)) / (len(maxima) + 1)
    above = spectrum > threshold
    # The spectrum decreases, so the leading run above the threshold is every eigenvalue above it.
    k = int(np.argmin(above)) if not above.all() else len(spectrum)
    return RankEstimate(k, spectrum, null_spectra, threshold, p_values, alpha)


def estimate_n_components(
    X: ArrayLike,
    X_pos: ArrayLike,
    *,
    n_permutations: int = N_PERMUTATIONS,
    alpha: float = 0.05,
    reg: float | str = RANK_REG,
    random_state: RandomState = None,
    sample_weight: ArrayLike | None = None,
) -> RankEstimate:
    """Count the pair-CCA directions whose pair correlation stands above chance, without labels.

    The spectrum is pair CCA's (:class:`~contrastive_gmm.PairCCA`'s ``eigenvalues_`` at the same
    ``reg``, every one of them): the eigenvalues of ``W cross W`` with ``cross`` the symmetrised cross-covariance
    of the pairs, ``W = ridge(cov)^{-1/2}`` and ``cov`` the pooled covariance of both views,
    regularised by ``reg`` (:func:`~contrastive_gmm.linalg.ridge`). The null shuffles the pairing: row i of ``X``
    is paired with row ``perm(i)`` of ``X_pos``. That keeps both marginals, hence ``cov`` and
    ``W``, so each shuffle only recomputes the d x d cross product of the whitened views.

    The test is a max-statistic permutation test. Each shuffle contributes its largest
    eigenvalue; the threshold is the ``(1 - alpha)`` quantile of those maxima (the
    ``ceil((1 - alpha)(n_permutations + 1))``-th smallest), and the estimate is the number of
    leading observed eigenvalues strictly above it. When the positives carry no information
    about their anchors (row i of ``X_pos`` independent of row i of ``X``, rows exchangeable),
    the observed pairing is one more draw from the shuffles' distribution, so the estimate is
    0 with probability at least ``1 - alpha``: ``alpha`` is the family-wise false-positive rate
    over all d directions. With r real directions, the (r + 1)-th eigenvalue is compared with
    the null's *largest*, which is conservative: extra directions are found less often than
    ``alpha``. A direction whose pair correlation is real but weak (heavy augmentation noise,
    few pairs) can be missed; more pairs raise the power, more shuffles only refine the
    threshold.

    Parameters
    ----------
    X, X_pos : array-like (n, d)
        Row-paired views: row i of ``X_pos`` is the positive of row i of ``X``.
    n_permutations : int
        Shuffled pairings drawn; at least ``1 / alpha - 1``.
    alpha : float in (0, 1)
        Family-wise false-positive rate.
    reg : "auto" or float
        Regularisation of the pooled covariance, as for :class:`~contrastive_gmm.PairCCA`; by
        default a ridge of 0.1 (:data:`RANK_REG`, which says why).
    random_state : int, numpy Generator or None
        Seed of the shuffles.
    sample_weight : array-like (n,) or None
        Weight of each pair (frequencies, as for the learners' ``fit``). A shuffle keeps each
        anchor's weight and moves the positives.

    Returns
    -------
    RankEstimate

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(2000, random_state=0)
    >>> est = cg.estimate_n_components(X, X_pos, random_state=0)
    >>> est.n_components  # K - 1 = 3 Fisher directions
    3
    >>> bool(est.spectrum[2] > est.null_threshold > est.spectrum[3])
    True
    """
    X, X_pos = check_paired(X, X_pos)
    w = check_sample_weight(sample_weight, X.shape[0])
    B, alpha, m = _check_test_params(n_permutations, alpha)
    reg = check_reg(reg)
    rng = _rng(random_state)
    mean, cov, cross = pair_moments(X, X_pos, weights=w)
    ridge_, shrinkage = covariance_regularisation(reg, X, mean, w)
    W = inv_sqrt(ridge(cov, ridge_, shrinkage))
    A = (X.astype(np.float64) - mean) @ W
    if w is not None:
        A *= w[:, None]  # the anchors carry the weights, so a shuffle keeps them
    # A^T stored contiguously: the one product each shuffle pays for runs ~1.5x faster.
    At, P = np.ascontiguousarray(A.T), (X_pos.astype(np.float64) - mean) @ W
    n = P.shape[0]
    total = n if w is None else float(w.sum())
    spectrum = np.linalg.eigvalsh(W @ cross @ W)[::-1]
    null = np.empty((B, len(spectrum)))
    for b in range(B):
        M = At @ P[rng.permutation(n)] / total
        null[b] = np.linalg.eigvalsh((M + M.T) / 2)[::-1]
    return _read_against_null(spectrum, null, alpha, m)


def estimate_two_view_n_components(
    X: ArrayLike,
    Y: ArrayLike,
    *,
    n_permutations: int = N_PERMUTATIONS,
    alpha: float = 0.05,
    reg: float | str = RANK_REG,
    random_state: RandomState = None,
    sample_weight: ArrayLike | None = None,
) -> RankEstimate:
    """Count the canonical correlations of two views that stand above chance (a shuffled-``Y`` null).

    The spectrum is :class:`~contrastive_gmm.CCA`'s ``correlations_`` at the same ``reg`` (all
    ``min(dx, dy)`` of them, each view's covariance regularised by ``reg``); the null pairs row i of ``X`` with row
    ``perm(i)`` of ``Y``, which keeps both covariances, so each shuffle recomputes only the
    whitened cross product. The max-statistic test and its false-positive rate are those of
    :func:`estimate_n_components`: with ``Y`` independent of ``X`` row for row, the estimate is
    0 with probability at least ``1 - alpha``.

    Parameters
    ----------
    X, Y : array-like (n, dx), (n, dy)
        Row-paired views.
    n_permutations, alpha, reg, random_state, sample_weight
        As for :func:`estimate_n_components`.

    Returns
    -------
    RankEstimate

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
    >>> X, Y, z = mm.sample(2000, random_state=0)
    >>> cg.estimate_two_view_n_components(X, Y, random_state=0).n_components
    3
    """
    X, Y = check_paired(X, Y, names=("X", "Y"), same_width=False)
    w = check_sample_weight(sample_weight, X.shape[0])
    B, alpha, m = _check_test_params(n_permutations, alpha)
    reg = check_reg(reg)
    rng = _rng(random_state)
    mx, my, Sxx, Syy, Sxy = two_view_moments(X, Y, w)
    (rx, sx), (ry, sy) = covariance_regularisation(reg, X, mx, w), covariance_regularisation(reg, Y, my, w)
    Wx, Wy = inv_sqrt(ridge(Sxx, rx, sx)), inv_sqrt(ridge(Syy, ry, sy))
    A = (X.astype(np.float64) - mx) @ Wx
    if w is not None:
        A *= w[:, None]  # the X rows carry the weights, so a shuffle keeps them
    At, P = np.ascontiguousarray(A.T), (Y.astype(np.float64) - my) @ Wy
    n = P.shape[0]
    total = n if w is None else float(w.sum())
    spectrum = np.linalg.svd(Wx @ Sxy @ Wy, compute_uv=False)
    null = np.empty((B, len(spectrum)))
    for b in range(B):
        null[b] = np.linalg.svd(At @ P[rng.permutation(n)] / total, compute_uv=False)
    return _read_against_null(spectrum, null, alpha, m)


def _no_direction_warning(owner: str, est: RankEstimate) -> None:
    warnings.warn(
        f"{owner}: n_components='auto' found no direction whose pair correlation stands above chance (the largest, "
        f"{est.spectrum[0]:.3g}, is below the shuffled pairs' threshold {est.null_threshold:.3g} at alpha={est.alpha:g}); "
        "fitting 1 component, which is likely noise. More pairs, or less noisy positives, may show the signal.",
        UserWarning,
        stacklevel=4,
    )


def resolve_n_components(
    estimator: Any,
    X: np.ndarray,
    X_pos: np.ndarray,
    y: ArrayLike | None = None,
    *,
    n_components: Any = None,
    sample_weight: np.ndarray | None = None,
) -> int:
    """A learner's ``n_components`` as an int, estimated from the fit's own pairs when it is ``"auto"``.

    Sets ``estimator.n_components_`` (the width fitted, for an integer too) and
    ``estimator.rank_estimate_`` (the :class:`RankEstimate`; None for an integer). Under
    ``"auto"``: :func:`estimate_n_components` on ``(X, X_pos)`` with its defaults (whatever the
    learner's own ``reg``: the count wants the robust ridge of :data:`RANK_REG`) and the
    estimator's ``random_state`` (0 when it has none, so closed forms stay deterministic); with class labels
    ``y`` (1-D) the estimate is capped at K - 1 (K classes have no more discriminative
    directions), and when ``X_pos is X`` (SupCon's labelled fit) the pairs are same-class
    partners drawn from ``y``. When no direction stands above the null a UserWarning says so and
    1 component is fitted (a transform needs one column; the warning says it is likely noise).
    ``n_components`` overrides ``estimator.n_components`` (a value its own checks returned);
    ``sample_weight`` (one per pair, or per row of ``X`` when ``X_pos is X``) weighs the estimate.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(3, 6, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(1000, random_state=0)
    >>> model = cg.PairCCA("auto").fit(X, X_pos)
    >>> model.n_components_, model.components_.shape, model.rank_estimate_.n_components
    (2, (2, 6), 2)
    """
    value = estimator.n_components if n_components is None else n_components
    k = check_n_components(value, X.shape[1], allow_auto=True)
    if k != "auto":
        estimator.n_components_, estimator.rank_estimate_ = k, None
        return k
    owner = type(estimator).__name__
    labels = y if y is not None and np.asarray(y).ndim == 1 else None
    rng = _rng(getattr(estimator, "random_state", 0))
    if labels is not None and X_pos is X:
        from contrastive_gmm.data.pairs import pair_indices_from_groups

        idx = pair_indices_from_groups(check_labels(labels, X.shape[0]), random_state=rng)
        X, X_pos = X[idx[:, 0]], X[idx[:, 1]]
        sample_weight = None if sample_weight is None else sample_weight[idx[:, 0]]
    est = estimate_n_components(X, X_pos, random_state=rng, sample_weight=sample_weight)
    k = est.n_components
    if labels is not None:
        k = min(k, len(np.unique(np.asarray(labels))) - 1)
    if k == 0:
        _no_direction_warning(owner, est)
        k = 1
    estimator.n_components_, estimator.rank_estimate_ = k, est
    return k


def resolve_two_view_n_components(
    estimator: Any, X: np.ndarray, Y: np.ndarray, *, n_components: Any = None, sample_weight: np.ndarray | None = None
) -> int:
    """:func:`resolve_n_components` for two-view learners: ``"auto"`` counts canonical correlations above the shuffled-``Y`` null.

    Sets ``n_components_`` and ``rank_estimate_`` on ``estimator`` (an estimator without a
    ``random_state`` shuffles with seed 0).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(3, 6, 5, random_state=0)
    >>> X, Y, _ = mm.sample(1000, random_state=0)
    >>> cg.CCA("auto").fit(X, Y).n_components_
    2
    """
    value = estimator.n_components if n_components is None else n_components
    k = check_n_components(value, min(X.shape[1], Y.shape[1]), allow_auto=True)
    if k != "auto":
        estimator.n_components_, estimator.rank_estimate_ = k, None
        return k
    rng = _rng(getattr(estimator, "random_state", 0))
    est = estimate_two_view_n_components(X, Y, random_state=rng, sample_weight=sample_weight)
    k = est.n_components
    if k == 0:
        _no_direction_warning(type(estimator).__name__, est)
        k = 1
    estimator.n_components_, estimator.rank_estimate_ = k, est
    return k


__all__ = [
    "RankEstimate",
    "estimate_n_components",
    "estimate_two_view_n_components",
    "resolve_n_components",
    "resolve_two_view_n_components",
    "N_PERMUTATIONS",
    "RANK_REG",
]
