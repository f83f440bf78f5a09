"""Closed-form learners: pair CCA (the spectral contrastive optimum), spectral-on-means, and the oracle.

Second moments are accumulated in chunks, so no n x n matrix (and no second copy of the
data in float64) is ever formed.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from ._base import LinearProjection, paired_views, warn_if_beyond_classes
from ._validation import check_matrix, check_n_components, check_reg
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


#: The learners' default ``reg``: Ledoit-Wolf shrinkage of the covariance, estimated from the data.
REG_AUTO = "auto"
#: The ridge kept under ``reg="auto"``: it only guards the solvers when the shrinkage estimate is 0.
_AUTO_RIDGE = 1e-6


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


def covariance_regularisation(reg: float | str, X: np.ndarray, mean: np.ndarray) -> tuple[float, float]:
    """A learner's ``reg`` as ``(ridge, shrinkage)`` for :func:`ridge`, estimated from the rows ``X``.

    ``"auto"``: the Ledoit-Wolf intensity (:func:`sklearn.covariance.ledoit_wolf_shrinkage`) of
    ``X`` centred at ``mean`` and scaled to unit variance (as scikit-learn's LDA does with
    ``shrinkage="auto"``), plus a 1e-6 ridge; a number: that ridge alone, no shrinkage.

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
        from sklearn.covariance import ledoit_wolf_shrinkage

        centred = np.asarray(X, dtype=np.float64) - mean
        scale = centred.std(axis=0)
        scale[scale == 0] = 1.0  # a constant feature stays 0 (StandardScaler's rule)
        return _AUTO_RIDGE, float(ledoit_wolf_shrinkage(centred / scale, assume_centered=True))
    return float(reg), 0.0


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
    vals, vecs = np.linalg.eigh((diff_cov + diff_cov.T) / 2)
    top = float(vals.max())
    if not top > 0:
        return np.eye(len(vals))
    return (vecs / np.sqrt(np.maximum(vals, top * 1e-12))) @ vecs.T


def within_covariance(X: np.ndarray, labels: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Within-class covariance ``cov - sum_c pi_c (m_c - mean)(m_c - mean)^T`` of ``X`` (``cov``, ``mean``: X's own)."""
    classes, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    sums = np.zeros((len(classes), X.shape[1]))
    np.add.at(sums, codes, X)
    centred = sums / counts[:, None] - mean
    return cov - (centred * (counts / counts.sum())[:, None]).T @ centred


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
    reg : "auto" or float
        Regularisation of ``Cov(x)``: ``"auto"`` (default) shrinks its correlations by
        the Ledoit-Wolf intensity estimated from the data (:func:`covariance_regularisation`); a
        number is a ridge relative to the mean eigenvalue (``1e-6``: the sample covariance).
    pair_whiten : bool
        Scale the directions so that a row minus its positive has identity covariance in the
        embedding (:func:`pair_scaling`; LDA's within-class whitening for same-class pairs), so
        that k-means or a nearest-neighbour rule weighs each direction by its signal. ``False``:
        each direction has unit variance on the data. The subspace is the same either way.
    random_state : int, numpy Generator or None
        Seed of the same-class partners when ``fit`` gets class labels instead of positives.

    Attributes
    ----------
    components_ : ndarray (k, d)
        Generalized eigenvectors, scaled as ``pair_whiten`` says.
    eigenvalues_ : ndarray (k,)
        The canonical correlations of the pair, decreasing.
    mean_ : ndarray (d,)
        Pooled mean of both views.
    shrinkage_ : float
        The Ledoit-Wolf intensity used (0 when ``reg`` is a number).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.SpectralContrastive(n_components=3).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    def __init__(
        self, n_components: int = 2, reg: float | str = REG_AUTO, pair_whiten: bool = True, random_state: RandomState = None
    ) -> None:
        self.n_components = n_components
        self.reg = reg
        self.pair_whiten = pair_whiten
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: ArrayLike) -> "SpectralContrastive":
        """Estimate the map from ``X`` and its row-paired positives ``y = X_pos`` (or class labels, see :func:`paired_views`)."""
        X, X_pos = paired_views(X, y, _rng(self.random_state), type(self).__name__)
        k = check_n_components(self.n_components, X.shape[1])
        warn_if_beyond_classes(k, y, type(self).__name__)
        reg = check_reg(self.reg)
        self.mean_, cov, cross = pair_moments(X, X_pos)
        reg, self.shrinkage_ = covariance_regularisation(reg, X, self.mean_)
        self.eigenvalues_, vecs = top_generalized_eigvecs(cross, ridge(cov, reg, self.shrinkage_), k)
        self.components_ = vecs.T
        if self.pair_whiten:
            self.components_ = pair_scaling(self.components_ @ (cov - cross) @ vecs) @ self.components_
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
    "covariance_regularisation",
    "pair_scaling",
    "within_covariance",
    "REG_AUTO",
    "top_generalized_eigvecs",
]
