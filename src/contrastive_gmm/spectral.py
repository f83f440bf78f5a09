"""Closed-form learners: pair CCA (the spectral contrastive optimum), spectral-on-means, and the oracle.

Second moments are accumulated in chunks, so no n x n matrix (and no second copy of the
data in float64) is ever formed.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from ._base import LinearProjection, paired_views, warn_if_beyond_classes
from ._validation import check_matrix, check_n_components, check_positive
from .mixture import GMM, RandomState, _rng

_CHUNK = 65536


def pair_moments(X: np.ndarray, X_pos: np.ndarray, chunk: int = _CHUNK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pooled mean, pooled covariance of both views, and the symmetrised cross-covariance.

    Returns ``(mean, cov, cross)`` in float64, where ``cov`` is the covariance of the 2n
    stacked points and ``cross = (C + C^T) / 2`` with ``C = mean_i (x_i - m)(x_pos_i - m)^T``.
    """
    n, d = X.shape
    mean = (X.sum(axis=0, dtype=np.float64) + X_pos.sum(axis=0, dtype=np.float64)) / (2 * n)
    cov = np.zeros((d, d))
    cross = np.zeros((d, d))
    for start in range(0, n, chunk):
        # astype copies, so centring in place keeps two float64 chunks alive instead of four.
        a = X[start : start + chunk].astype(np.float64)
        a -= mean
        b = X_pos[start : start + chunk].astype(np.float64)
        b -= mean
        cov += a.T @ a + b.T @ b
        cross += a.T @ b
    cov /= 2 * n
    cross = (cross + cross.T) / (2 * n)
    return mean, (cov + cov.T) / 2, cross


def ridge(cov: np.ndarray, reg: float) -> np.ndarray:
    """``cov + reg * mean(diag(cov)) * I``: a scale-free ridge that keeps d > n problems solvable."""
    d = cov.shape[0]
    level = np.trace(cov) / d
    if not level > 0:
        raise ValueError("the data have zero variance in every feature; nothing can be learned from them.")
    return cov + reg * level * np.eye(d)


def top_generalized_eigvecs(A: np.ndarray, B: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` solutions of A v = lambda B v (B positive definite); returns (values, d x k vectors)."""
    d = A.shape[0]
    vals, vecs = scipy.linalg.eigh(A, B, subset_by_index=[d - k, d - 1])
    return vals[::-1], vecs[:, ::-1]


class SpectralContrastive(LinearProjection):
    """Pair CCA: the closed form of linear contrastive learning on positive pairs.

    Solves ``C v = lambda Cov(x) v`` with ``C`` the symmetrised cross-covariance of the pairs and
    ``Cov(x)`` the pooled covariance of both views. This is the optimum of the linear spectral
    contrastive loss (HaoChen et al.) and the small-logit limit of InfoNCE; in population it is
    exactly the Fisher subspace (for :class:`~contrastive_gmm.NoisyComponent` pairs too).

    Parameters
    ----------
    n_components : int
        Dimension k of the projection (K - 1 recovers the whole Fisher subspace).
    reg : float
        Ridge added to ``Cov(x)``, relative to its mean eigenvalue.
    random_state : int, numpy Generator or None
        Seed of the same-class partners when ``fit`` gets class labels instead of positives.

    Attributes
    ----------
    components_ : ndarray (k, d)
        Generalized eigenvectors, normalised so that each has unit variance on the data.
    eigenvalues_ : ndarray (k,)
        The canonical correlations of the pair, decreasing.
    mean_ : ndarray (d,)
        Pooled mean of both views.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.SpectralContrastive(n_components=3).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    def __init__(self, n_components: int = 2, reg: float = 1e-6, random_state: RandomState = None) -> None:
        self.n_components = n_components
        self.reg = reg
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: ArrayLike) -> "SpectralContrastive":
        """Estimate the map from ``X`` and its row-paired positives ``y = X_pos`` (or class labels, see :func:`paired_views`)."""
        X, X_pos = paired_views(X, y, _rng(self.random_state), type(self).__name__)
        k = check_n_components(self.n_components, X.shape[1])
        warn_if_beyond_classes(k, y, type(self).__name__)
        reg = check_positive(self.reg, "reg")
        self.mean_, cov, cross = pair_moments(X, X_pos)
        self.eigenvalues_, vecs = top_generalized_eigvecs(cross, ridge(cov, reg), k)
        self.components_ = vecs.T
        self.n_features_in_ = X.shape[1]
        return self


class SpectralOnMeans(LinearProjection):
    """The vanilla spectral baseline: top eigenvectors of the pair cross-covariance.

    Without labels, ``E[(x - m)(x_pos - m)^T] = (1 - delta) S_B``, so its top eigenvectors span
    the centred means. That is the Fisher subspace only when the within covariance is isotropic;
    it is what spectral methods that ignore the within covariance recover.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, anisotropy=1.0, n_noise_directions=0, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.SpectralOnMeans(n_components=3).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    def __init__(self, n_components: int = 2, random_state: RandomState = None) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: ArrayLike) -> "SpectralOnMeans":
        """Estimate the span of the means from ``X`` and its positives ``y = X_pos`` (or class labels, see :func:`paired_views`)."""
        X, X_pos = paired_views(X, y, _rng(self.random_state), type(self).__name__)
        k = check_n_components(self.n_components, X.shape[1])
        warn_if_beyond_classes(k, y, type(self).__name__)
        self.mean_, cov, cross = pair_moments(X, X_pos)
        if not np.trace(cov) > 0:
            raise ValueError("X and its positives have zero variance in every feature; nothing can be learned from them.")
        d = cross.shape[0]
        vals, vecs = scipy.linalg.eigh(cross, subset_by_index=[d - k, d - 1])
        self.eigenvalues_ = vals[::-1]
        self.components_ = vecs[:, ::-1].T
        self.n_features_in_ = X.shape[1]
        return self


class FisherOracle(LinearProjection):
    """Returns a known mixture's true Fisher subspace, whatever the data: the target every learner aims at.

    ``fit`` only records the width (and the mixture mean); ``components_`` is the orthonormal
    Fisher basis transposed.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(3, 6, random_state=0)
    >>> cg.FisherOracle(gmm).fit().components_.shape
    (2, 6)
    """

    _requires_y = False

    def __init__(self, gmm: GMM | None = None, n_components: int | None = None) -> None:
        self.gmm = gmm
        self.n_components = n_components

    def fit(self, X: ArrayLike | None = None, y: object = None) -> "FisherOracle":
        """Store the oracle's basis; ``X``, if given, must have the mixture's width."""
        if not isinstance(self.gmm, GMM):
            raise TypeError(f"gmm must be a contrastive_gmm.GMM (FisherOracle(gmm)); got {self.gmm!r}.")
        if X is not None:
            X = check_matrix(X, "X", min_samples=1)
            if X.shape[1] != self.gmm.dim:
                raise ValueError(f"X has {X.shape[1]} features but the mixture has dimension {self.gmm.dim}.")
        self.components_ = self.gmm.fisher_subspace(self.n_components).T
        self.mean_ = self.gmm.mean
        self.n_features_in_ = self.gmm.dim
        return self


__all__ = [
    "SpectralContrastive",
    "SpectralOnMeans",
    "FisherOracle",
    "pair_moments",
    "ridge",
    "top_generalized_eigvecs",
]
