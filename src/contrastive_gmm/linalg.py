"""Linear algebra every learner shares: second moments, one inverse square root, shrinkage, generalised eigenvectors.

numpy and scipy only (no torch): the closed forms, the trained learners' whitening and the
real-data recipe all call these, so a regularisation or a null-space rule is written once.
Moments are accumulated in chunks (:mod:`contrastive_gmm.moments`), so no n x n matrix (and
no second float64 copy of the data) is ever formed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from contrastive_gmm._validation import check_matrix
from contrastive_gmm.moments import _AUTO_RIDGE, accumulate, ledoit_wolf_from_sums

_CHUNK = 65536


def inv_sqrt(S: np.ndarray, *, floor: float = 0.0, null: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """The symmetric inverse square root ``S^{-1/2}`` of a symmetric positive semi-definite ``S``: the one every whitening uses.

    ``floor``: eigenvalues below ``floor`` x the largest are raised to it (a direction of no
    variance is left at a finite scale). ``null``: a rule marking eigenvalues whose direction is
    zeroed instead (a direction no data can move stays out of the map). Without either, every
    eigenvalue must be positive.

    Examples
    --------
    >>> inv_sqrt(np.diag([4.0, 0.25])).tolist()
    [[0.5, 0.0], [0.0, 2.0]]
    >>> inv_sqrt(np.diag([4.0, 0.0]), null=lambda vals: vals <= 0).tolist()
    [[0.5, 0.0], [0.0, 0.0]]
    """
    vals, vecs = np.linalg.eigh(S)
    if floor:
        vals = np.maximum(vals, float(vals.max()) * floor)
    if null is None:
        return (vecs / np.sqrt(vals)) @ vecs.T
    zero = null(vals)
    root = np.where(zero, np.inf, np.sqrt(np.where(zero, 1.0, vals)))  # dividing by inf zeroes a null direction
    return (vecs / root) @ vecs.T


def pair_moments(
    X: np.ndarray, X_pos: np.ndarray, chunk: int | None = None, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pooled mean, pooled covariance of both views, and the symmetrised cross-covariance.

    Returns ``(mean, cov, cross)`` in float64, where ``cov`` is the covariance of the 2n
    stacked points and ``cross = (C + C^T) / 2`` with ``C = mean_i (x_i - m)(x_pos_i - m)^T``.
    ``weights`` (n,), non-negative: pair i counts ``weights[i]`` times (every mean above becomes a
    weighted mean), so integer weights give the moments of the pairs repeated.

    >>> X = np.array([[0.0], [2.0]]); X_pos = np.array([[1.0], [3.0]])
    >>> [m.item() for m in pair_moments(X, X_pos, weights=np.array([1.0, 3.0]))]  # pair 1 three times
    [2.0, 1.0, 0.5]
    >>> [m.item() for m in pair_moments(X[[0, 1, 1, 1]], X_pos[[0, 1, 1, 1]])]
    [2.0, 1.0, 0.5]
    """
    return accumulate(X, X_pos, weights, rows=chunk).pooled()


#: The learners' default ``reg``: Ledoit-Wolf shrinkage of the covariance, estimated from the data.
REG_AUTO = "auto"



def ridge(cov: np.ndarray, reg: float, shrinkage: float = 0.0) -> np.ndarray:
    """``(1 - shrinkage) cov + shrinkage diag(cov) + reg mean(diag(cov)) I``: shrunk, and solvable when d > n.

    ``shrinkage`` pulls the correlations towards 0 and keeps every variance (scikit-learn's LDA
    with ``shrinkage``: Ledoit-Wolf on standardised features), so it does not depend on the
    features' units; ``reg`` is a plain ridge relative to the mean variance.

    >>> ridge(np.array([[4.0, 2.0], [2.0, 1.0]]), 0.0, 0.5).tolist()
    [[4.0, 1.0], [1.0, 1.0]]
    """
    d = cov.shape[0]
    level = np.trace(cov) / d
    if not level > 0:
        raise ValueError("the data have zero variance in every feature; nothing can be learned from them.")
    shrunk = (1.0 - shrinkage) * cov
    shrunk[np.diag_indices(d)] = np.diag(cov) + reg * level
    return shrunk


def covariance_regularisation(
    reg: float | str, X: np.ndarray, mean: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """A learner's ``reg`` as ``(ridge, shrinkage)`` for :func:`ridge`, estimated from the rows ``X``.

    ``"auto"``: the Ledoit-Wolf intensity (:func:`ledoit_wolf_intensity`, scikit-learn's
    :func:`sklearn.covariance.ledoit_wolf_shrinkage` with row weights) of ``X`` centred at
    ``mean`` and scaled to unit variance (as scikit-learn's LDA does with ``shrinkage="auto"``),
    plus a 1e-6 ridge; a number: that ridge alone, no shrinkage. ``weights`` (n,): row i counts
    ``weights[i]`` times.

    Why Ledoit-Wolf, on standardised features, and from ``X`` alone: the sample covariance of
    ~1000 rows in 64 dimensions (raw digits) has eigenvalues far below the truth in its weakest
    directions, which whitening then blows up; the shrinkage pulls the correlations back by an
    amount the data estimate (0.08 on digits, 5e-4 to 8e-4 on 20000 mixture pairs, so large samples
    keep their covariance). On standardised features it ignores the units: shrinking towards
    the mean variance instead let wine's proline (variance 1e5) swamp every other feature. The
    intensity comes from the anchors' n rows, not the 2n stacked points: a positive is not
    independent of its anchor (it is often another training row), and 2n would halve it.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 40))
    >>> r, s = covariance_regularisation("auto", X, X.mean(0))
    >>> r, 0.3 < s < 1.0  # 50 rows in 40 dimensions: shrink a lot
    (1e-06, True)
    >>> covariance_regularisation(0.1, X, X.mean(0))
    (0.1, 0.0)
    """
    if isinstance(reg, str):
        centred = np.asarray(X, dtype=np.float64) - mean
        # Each feature's own (weighted) standard deviation, as numpy's std: the mean is the column's, not ``mean``.
        own_mean = np.average(centred, axis=0, weights=weights)
        scale = np.sqrt(np.average((centred - own_mean) ** 2, axis=0, weights=weights))
        scale[scale == 0] = 1.0  # a constant feature stays 0 (StandardScaler's rule)
        centred /= scale
        return _AUTO_RIDGE, ledoit_wolf_intensity(centred, weights)
    return float(reg), 0.0


def ledoit_wolf_intensity(Z: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The Ledoit-Wolf shrinkage intensity of centred rows ``Z`` (n, d), each row counted ``weights[i]`` times.

    scikit-learn's :func:`sklearn.covariance.ledoit_wolf_shrinkage` with ``assume_centered=True``
    takes no weights, so its formula is written here with each sum over rows weighted and the
    row count replaced by ``W = sum(weights)``: integer weights give the intensity of the rows
    repeated. The weights are frequencies, so their total matters (the intensity falls as ``W``
    grows, as it does with more rows): weights that sum to 1 count as one row. Without weights
    it is scikit-learn's value (to rounding). One d x d product (scikit-learn's takes two): the
    sum of the entries of ``(Z**2)^T Z**2`` is the sum of the squared row norms.

    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(30, 5)); Z -= Z.mean(0)
    >>> from sklearn.covariance import ledoit_wolf_shrinkage
    >>> bool(np.isclose(ledoit_wolf_intensity(Z), ledoit_wolf_shrinkage(Z, assume_centered=True)))
    True
    >>> w = np.array([2.0] + [1.0] * 29)  # the first row twice
    >>> bool(np.isclose(ledoit_wolf_intensity(Z, w), ledoit_wolf_intensity(np.vstack([Z[:1], Z]))))
    True
    """
    n, p = Z.shape
    if p == 1:
        return 0.0  # one feature: the shrunk covariance is the same whatever the intensity
    w = np.ones(n) if weights is None else weights
    total = float(w.sum())
    S = (Z * w[:, None]).T @ Z / total
    fourth = float(w @ np.einsum("ij,ij->i", Z, Z) ** 2)  # sum_i w_i ||z_i||^4: the entries of (Z^2)^T W Z^2
    return ledoit_wolf_from_sums(S, fourth, total)


def pair_scaling(diff_cov: np.ndarray) -> np.ndarray:
    """Symmetric ``W`` with ``W diff_cov W = I``: the embedding's coordinates in which a row minus its positive has identity covariance.

    ``diff_cov`` is ``Cov(z - z+) / 2`` of an embedding ``z``. For same-class pairs that is the
    within-class covariance, so ``W`` is LDA's within-class whitening without labels. Why the
    learners apply it: k-means and nearest neighbours weigh every coordinate alike, and an
    embedding of identity covariance gives a direction of mostly within-class noise the same
    weight as the most discriminative one. Eigenvalues are floored at ``1e-12`` x the largest
    (a direction where every pair agrees exactly has no noise to whiten); a zero ``diff_cov``
    (positives equal to their anchors) gives the identity.

    >>> pair_scaling(np.diag([4.0, 0.25])).tolist()
    [[0.5, 0.0], [0.0, 2.0]]
    """
    sym = (diff_cov + diff_cov.T) / 2
    if not float(np.linalg.eigvalsh(sym).max()) > 0:
        return np.eye(len(sym))
    return inv_sqrt(sym, floor=1e-12)


def within_covariance(
    X: np.ndarray, labels: np.ndarray, mean: np.ndarray, cov: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Within-class covariance ``cov - sum_c pi_c (m_c - mean)(m_c - mean)^T`` of ``X`` (``cov``, ``mean``: X's own).

    ``weights`` (n,): row i counts ``weights[i]`` times in each class mean and proportion.
    """
    classes, codes = np.unique(labels, return_inverse=True)
    w = np.ones(X.shape[0]) if weights is None else weights
    sums = np.zeros((len(classes), X.shape[1]))
    np.add.at(sums, codes, X * w[:, None])
    counts = np.bincount(codes, weights=w, minlength=len(classes))
    centred = sums / counts[:, None] - mean
    return cov - (centred * (counts / counts.sum())[:, None]).T @ centred


def top_generalized_eigvecs(A: np.ndarray, B: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` solutions of A v = lambda B v (B positive definite); returns (values, d x k vectors)."""
    d = A.shape[0]
    vals, vecs = scipy.linalg.eigh(A, B, subset_by_index=[d - k, d - 1])
    return vals[::-1], vecs[:, ::-1]


def whitener(cov: np.ndarray, reg: float, shrinkage: float = 0.0) -> np.ndarray:
    """Return the symmetric ``S^{-1/2}`` of ``S = ridge(cov, reg, shrinkage)``, zero on ``cov``'s null space.

    Why zero there: a constant or duplicated feature gives ``cov`` a null direction, which the
    ridge (or the shrinkage) alone would scale up by ``1 / sqrt(reg)``; no data moves a learned
    map along it, so its random initial weight would stay and blow up on new data (InfoNCE's
    weights reached ~190 with a constant column). Null means an eigenvalue of ``cov`` at rounding
    level (``d * eps * largest``, numpy's ``matrix_rank`` rule), so genuinely small variances stay.
    The shrinkage keeps every variance, so a constant feature stays null under it.

    Examples
    --------
    >>> W = whitener(np.diag([4.0, 1.0, 0.0]), 0.0)
    >>> np.round(W, 6).tolist()
    [[0.5, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    >>> W = whitener(np.array([[1.0, 0.9], [0.9, 1.0]]), 0.0, 0.5)  # correlation 0.9 shrunk to 0.45
    >>> bool(np.allclose(W @ np.array([[1.0, 0.45], [0.45, 1.0]]) @ W, np.eye(2)))
    True
    """
    shift = reg * np.trace(cov) / cov.shape[0]  # the ridge added to every eigenvalue (the shrinkage keeps the trace)

    def null(vals: np.ndarray) -> np.ndarray:
        return vals - shift <= cov.shape[0] * np.finfo(np.float64).eps * max(float(vals.max()) - shift, 0.0)

    return inv_sqrt(ridge(cov, reg, shrinkage), null=null)


def cca_directions(Sxx: np.ndarray, Syy: np.ndarray, Sxy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form CCA by whitened SVD: ``svd(Sxx^{-1/2} Sxy Syy^{-1/2})``.

    Returns ``(Wx (k, dx), Wy (k, dy), correlations (k,))`` with ``Wx Sxx Wx^T = I``.
    """
    Wx, Wy = inv_sqrt(Sxx), inv_sqrt(Syy)
    U, s, Vt = np.linalg.svd(Wx @ Sxy @ Wy, full_matrices=False)
    return U[:, :k].T @ Wx, Vt[:k] @ Wy, s[:k]


def pair_whitened_maps(Ax: np.ndarray, Ay: np.ndarray, Sxx: np.ndarray, Syy: np.ndarray, Sxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both maps followed by one k x k map under which ``z_x - z_y`` has identity covariance (see :func:`~contrastive_gmm.learners.closed_form.pair_scaling`).

    The two embeddings share one space, so the difference of a pair's embeddings is defined;
    for same-class pairs its covariance is the within-class one, and this is LDA's scaling
    without labels.
    """
    cross = Ax @ Sxy @ Ay.T
    diff_cov = (Ax @ Sxx @ Ax.T + Ay @ Syy @ Ay.T - cross - cross.T) / 2
    R = pair_scaling(diff_cov)
    return R @ Ax, R @ Ay


def two_view_moments(
    X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Means and covariances of two row-paired views: ``(mx, my, Sxx, Syy, Sxy)`` in float64.

    ``weights`` (n,): pair i counts ``weights[i]`` times, so integer weights give the moments of the
    pairs repeated.
    """
    return accumulate(X, Y, weights).two_view()


def pair_whitening(Z: ArrayLike, Z_pos: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """A k x k map under which the difference of a row and its positive has identity covariance.

    Returns ``(W, mean)`` with ``W`` symmetric, ``(Z - Z_pos) @ W / sqrt(2)`` of identity
    covariance, and ``mean`` the mean of ``Z``: the embedding becomes ``(z - mean) @ W``. For
    same-class pairs ``Cov(x - x+) / 2`` is the within-class covariance, so this is LDA's
    within-class whitening without labels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(500, 2)); Z_pos = Z + rng.normal(size=(500, 2)) * [0.1, 1.0]
    >>> W, _ = pair_whitening(Z, Z_pos)
    >>> bool(np.allclose(np.cov(((Z - Z_pos) @ W).T) / 2, np.eye(2)))
    True
    """
    Z, Z_pos = check_matrix(Z, "Z"), check_matrix(Z_pos, "Z_pos")
    if Z.shape != Z_pos.shape:
        raise ValueError(f"Z and Z_pos must be row-paired with the same width; got {Z.shape} and {Z_pos.shape}.")
    D = (Z - Z_pos) / np.sqrt(2.0)
    if not np.any(D):
        raise ValueError("Z_pos equals Z row for row: the pairs carry no noise, so there is nothing to whiten.")
    # pair_scaling floors the eigenvalues: a direction where every pair agrees has no noise to whiten.
    return pair_scaling(np.cov(D.T, ddof=1).reshape(Z.shape[1], Z.shape[1])), Z.mean(axis=0)


__all__ = [
    "inv_sqrt",
    "pair_moments",
    "REG_AUTO",
    "ridge",
    "covariance_regularisation",
    "ledoit_wolf_intensity",
    "ledoit_wolf_from_sums",
    "pair_scaling",
    "within_covariance",
    "top_generalized_eigvecs",
    "whitener",
    "cca_directions",
    "pair_whitened_maps",
    "two_view_moments",
    "pair_whitening",
]
