"""Closed-form learners: pair CCA (the spectral contrastive optimum), spectral-on-means, and the oracle.

Second moments are accumulated in chunks, so no n x n matrix (and no second copy of the
data in float64) is ever formed.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from contrastive_gmm._validation import check_matrix, check_n_components, check_paired, check_reg, check_sample_weight
from contrastive_gmm.learners.base import (
    LinearProjection,
    TwoViewProjection,
    _as_view,
    _check_two_view,
    paired_views,
    stream_views,
    warn_if_beyond_classes,
    weighted_rows,
)
from contrastive_gmm.learners.rank import resolve_n_components
from contrastive_gmm.linalg import (
    REG_AUTO,
    cca_directions,
    pair_moments,
    pair_scaling,
    pair_whitened_maps,
    ridge,
    top_generalized_eigvecs,
)
from contrastive_gmm.mixtures.gmm import GMM, RandomState, _rng
from contrastive_gmm.moments import PairedMoments, accumulate, moment_regularisation


#: A ``fit`` whose rows x width^2 stay under this keeps the fourth-order sums (a ``partial_fit`` can follow it exactly).
_CHEAP_FOURTH = 1 << 27


class _StreamsMoments:
    """Mixin: ``fit`` and ``partial_fit`` through :class:`~contrastive_gmm.moments.PairedMoments`.

    ``fit`` accumulates the moments of all the rows (chunk by chunk: memory-mapped, row-sliceable
    and Dask inputs are never loaded whole), ``partial_fit`` adds a chunk to the moments of the
    earlier calls (scikit-learn's ``IncrementalPCA`` convention), and both finish through the
    subclass's ``_finish(moments, k, reg, source, weights)``, so that ``partial_fit`` over any
    split of the rows gives what ``fit`` on all of them gives (to rounding). ``partial_fit``
    needs an integer ``n_components`` and row-paired views (not labels).
    """

    _same_width: bool = False

    def _reg(self) -> float | str:
        """The validated ``reg`` (0 for PLS-SVD, which has no covariance to shrink)."""
        return check_reg(self.reg) if hasattr(self, "reg") else 0.0

    def _fit_moments(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None) -> "_StreamsMoments":
        reg = self._reg()
        X, Y, w, k = self._inputs(X, y, sample_weight)
        # The fourth-order sums let a later partial_fit update the shrinkage exactly; beyond a small fit
        # they would double its cost, so a large fit takes one O(n d) second pass for its scalar instead.
        fourth = isinstance(reg, str) and X.shape[0] * max(X.shape[1], Y.shape[1]) ** 2 <= _CHEAP_FOURTH
        self.moments_ = accumulate(X, Y, w, fourth=fourth, names=self._names())
        return self._finish(self.moments_, k, reg, (X, Y), w)

    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "_StreamsMoments":
        """Add the row-paired chunk ``(X, y)`` to the moments of the earlier calls and refit from them.

        The fitted attributes are valid after every call; after the last they equal one ``fit``
        on all the chunks' rows (to rounding), whatever the split. ``sample_weight`` as in ``fit``.
        The first call fixes the widths; ``fit`` starts over. Under ``reg="auto"`` the moments keep
        two more d x d sums per view (the Ledoit-Wolf scalar then needs no second pass); a ``fit``
        keeps them only when they are cheap (rows x width^2 up to 2^27), so a ``partial_fit`` after
        a larger ``fit`` raises: feed such data through ``partial_fit`` from the start.
        With class labels (pair CCA's 1-D ``y``) each row is paired within its chunk, so the
        result then equals ``fit`` only in distribution.

        Examples
        --------
        >>> import contrastive_gmm as cg
        >>> gmm = cg.GMM.random(3, 6, random_state=0)
        >>> X, X_pos, _, _ = gmm.sample_pairs(3000, random_state=0)
        >>> model = cg.PairCCA(2)
        >>> for start in range(0, 3000, 1000):
        ...     model = model.partial_fit(X[start : start + 1000], X_pos[start : start + 1000])
        >>> full = cg.PairCCA(2).fit(X, X_pos)
        >>> bool(cg.subspace_angles(model.subspace(), full.subspace()).max() < 1e-6), model.n_samples_seen_
        (True, 3000)
        """
        reg = self._reg()
        if self.n_components == "auto":
            raise ValueError(
                f"{type(self).__name__}.partial_fit needs an integer n_components: 'auto' shuffles all the pairs at "
                "once (estimate_n_components on a first chunk suggests one)."
            )
        k = check_n_components(self.n_components, 10**9)  # the width is checked against the data below
        y_ndim = len(y.shape) if hasattr(y, "shape") else np.ndim(y)
        streamed = stream_views(X, y, sample_weight, same_width=self._same_width)
        if self._same_width and y_ndim == 1:
            # Labels: each row's partner is drawn from its class within this chunk (fit draws from all rows).
            A, labels, w = weighted_rows(X, y, sample_weight)
            A, B, w = paired_views(A, labels, _rng(self.random_state), type(self).__name__, w)
        elif streamed is None:
            A, B = check_paired(X, _as_view(y), names=("X", "y"), same_width=self._same_width)
            w = check_sample_weight(sample_weight, A.shape[0])
        else:
            A, B, w = streamed
        prior = getattr(self, "moments_", None)
        if prior is not None and (A.shape[1], B.shape[1]) != (prior.x.ref.shape[0], prior.y.ref.shape[0]):
            # "X has m features, but ... is expecting d features as input" is scikit-learn's wording.
            raise ValueError(
                f"X has {A.shape[1]} features, but {type(self).__name__} is expecting {prior.x.ref.shape[0]} features "
                f"as input (and y {prior.y.ref.shape[0]}, here {B.shape[1]}): the widths of its earlier fit."
            )
        fourth = isinstance(reg, str) or (prior is not None and prior.fourth)
        if prior is not None and fourth and not prior.fourth:
            raise ValueError(
                f"{type(self).__name__}.partial_fit after a large fit: that fit kept no fourth-order sums, which "
                "reg='auto' needs to update its shrinkage; feed every chunk through partial_fit from the start, or "
                "pass a numeric reg."
            )
        # This chunk's sums on their own first (about the earlier references), merged only once all of it has
        # been read: a chunk refused halfway (NaN in a memory-mapped file, say) leaves the moments as they were.
        chunk = accumulate(A, B, w, fourth=fourth, ref=None if prior is None else (prior.x.ref, prior.y.ref), names=self._names())
        self.moments_ = chunk if prior is None else prior.merge(chunk)
        k = check_n_components(k, min(A.shape[1], B.shape[1]))
        self.n_components_, self.rank_estimate_ = k, None
        return self._finish(self.moments_, k, reg, None, None)

    def _streamed(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None) -> tuple | None:
        """``(X, Y, weights, k)`` with the views unread when they are to be streamed (:func:`stream_views`), else None."""
        streamed = stream_views(X, y, sample_weight, same_width=self._same_width, names=self._names())
        if streamed is None:
            return None
        if self.n_components == "auto":
            raise ValueError(
                "n_components='auto' shuffles the pairs, which needs them in memory; pass an integer for streamed "
                "input (estimate_n_components or estimate_two_view_n_components on a sample suggests one)."
            )
        X, Y, w = streamed
        k = check_n_components(self.n_components, min(X.shape[1], Y.shape[1]))
        self.n_components_, self.rank_estimate_ = k, None
        return X, Y, w, k

    def _names(self) -> tuple[str, str]:
        """How errors name the two views: pair CCA's second is the positives."""
        return ("X", "X_pos") if self._same_width else ("X", "y")

    def _inputs(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None) -> tuple:
        """``fit``'s two views as ``(X, Y, weights, k)``: streamed sources unread, in-memory ones validated."""
        return self._streamed(X, y, sample_weight) or _check_two_view(X, y, self.n_components, self, sample_weight)

    def _finish(self, m: PairedMoments, k: int, reg: float | str, source: tuple | None, weights: np.ndarray | None) -> "_StreamsMoments":
        """Set the fitted attributes from the moments ``m`` (``source``: the views, for a second pass; None after partial_fit)."""
        raise NotImplementedError


class PairCCA(_StreamsMoments, LinearProjection):
    """Pair CCA: the closed form of linear contrastive learning on positive pairs.

    Solves ``C v = lambda Cov(x) v`` with ``C`` the symmetrised cross-covariance of the pairs and
    ``Cov(x)`` the pooled covariance of both views. This is the optimum of the linear spectral
    contrastive loss (HaoChen et al.) and the small-logit limit of InfoNCE; in population it is
    exactly the Fisher subspace (for :class:`~contrastive_gmm.NoisyComponent` pairs too).

    Parameters
    ----------
    n_components : int or "auto"
        Dimension k of the projection (K - 1 recovers the whole Fisher subspace).
        ``"auto"``: as many as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_n_components`), stored in ``n_components_``.
    reg : "auto" or float
        Regularisation of ``Cov(x)``: ``"auto"`` (default) shrinks its correlations by
        the Ledoit-Wolf intensity estimated from the data (:func:`~contrastive_gmm.linalg.covariance_regularisation`); a
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
    >>> model = cg.PairCCA(n_components=3).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    def __init__(
        self, n_components: int = 2, *, reg: float | str = REG_AUTO, pair_whiten: bool = True, random_state: RandomState = None
    ) -> None:
        self.n_components = n_components
        self.reg = reg
        self.pair_whiten = pair_whiten
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "PairCCA":
        """Estimate the map from ``X`` and its row-paired positives ``y = X_pos`` (or class labels, see :func:`paired_views`).

        ``sample_weight`` (n,), non-negative: row i counts ``sample_weight[i]`` times in every
        moment (frequencies: integer weights give the fit on the rows repeated; a weight of 0
        leaves the row out). Under ``reg="auto"`` their total counts as the number of rows.
        ``X`` and ``y`` may be memory-mapped (``np.load(path, mmap_mode="r")``), any row-sliceable
        array (HDF5, zarr) or Dask arrays: the moments are then accumulated chunk by chunk (a Dask
        reduction on the active scheduler), never loading the data whole; see ``partial_fit``
        for chunks you feed yourself.
        """
        return self._fit_moments(X, y, sample_weight)

    _same_width = True

    def _inputs(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None) -> tuple:
        streamed = self._streamed(X, y, sample_weight)
        if streamed is not None:
            return streamed
        X, y, w = weighted_rows(X, y, sample_weight)
        X, X_pos, w = paired_views(X, y, _rng(self.random_state), type(self).__name__, w)
        k = resolve_n_components(self, X, X_pos, y, sample_weight=w)
        warn_if_beyond_classes(k, y, type(self).__name__)
        return X, X_pos, w, k

    def _finish(self, m: PairedMoments, k: int, reg: float | str, source: tuple | None, weights: np.ndarray | None) -> "PairCCA":
        self.mean_, cov, cross = m.pooled()
        # The shrinkage comes from the anchors alone (see covariance_regularisation).
        reg, self.shrinkage_ = moment_regularisation(reg, m, "x", self.mean_, None if source is None else source[0], weights)
        self.eigenvalues_, vecs = top_generalized_eigvecs(cross, ridge(cov, reg, self.shrinkage_), k)
        self.components_ = vecs.T
        if self.pair_whiten:
            self.components_ = pair_scaling(self.components_ @ (cov - cross) @ vecs) @ self.components_
        self.n_features_in_, self.n_samples_seen_ = cov.shape[0], m.rows
        return self


#: The same closed form under the name of its loss (HaoChen et al.'s spectral contrastive loss, whose optimum it is).
SpectralContrastive = PairCCA


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

    def __init__(self, n_components: int = 2, *, random_state: RandomState = None) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "SpectralOnMeans":
        """Estimate the span of the means from ``X`` and its positives ``y = X_pos`` (or class labels, see :func:`paired_views`).

        ``sample_weight`` (n,): as for :meth:`PairCCA.fit`.
        """
        X, y, w = weighted_rows(X, y, sample_weight)
        X, X_pos, w = paired_views(X, y, _rng(self.random_state), type(self).__name__, w)
        k = resolve_n_components(self, X, X_pos, y, sample_weight=w)
        warn_if_beyond_classes(k, y, type(self).__name__)
        self.mean_, cov, cross = pair_moments(X, X_pos, weights=w)
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


__all__ = ["PairCCA", "SpectralContrastive", "SpectralOnMeans", "FisherOracle", "CCA", "PLSSVD"]


class CCA(_StreamsMoments, TwoViewProjection):
    """Closed-form CCA (whitened SVD of the cross-covariance), each view's covariance shrunk (Ledoit-Wolf).

    The population answer of linear CLIP: its top canonical directions with non-zero correlation.
    scikit-learn's :class:`sklearn.cross_decomposition.CCA` (iterative NIPALS) reaches the same
    subspace on well-conditioned data and serves as a cross-check.

    Parameters
    ----------
    n_components : int or "auto"
        Number of canonical directions.
        ``"auto"``: as many canonical correlations as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_two_view_n_components`), stored in ``n_components_``.
    reg : "auto" or float
        Regularisation of each view's covariance, as for
        :class:`~contrastive_gmm.PairCCA` (``"auto"``: Ledoit-Wolf shrinkage).
    pair_whiten : bool
        Follow both maps by one k x k map under which the difference of a pair's scores has
        identity covariance (:func:`pair_whitened_maps`; LDA's scaling for same-class pairs).
        ``False``: scores of unit variance. The subspaces are the same either way.

    Attributes
    ----------
    x_components_, y_components_ : (k, dx), (k, dy) arrays
        Canonical directions, scaled as ``pair_whiten`` says.
    correlations_ : (k,) array
        Canonical correlations, decreasing.
    x_shrinkage_, y_shrinkage_ : float
        The Ledoit-Wolf intensity used for each view (0 when ``reg`` is a number).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
    >>> X, Y, z = mm.sample(5000, random_state=0)
    >>> cca = cg.CCA(3).fit(X, Y)
    >>> bool(cg.subspace_angles(cca.x_subspace(), mm.clip_target(0)).max() < 10)
    True
    """

    def __init__(self, n_components: int = 2, *, reg: float | str = REG_AUTO, pair_whiten: bool = True) -> None:
        self.n_components = n_components
        self.reg = reg
        self.pair_whiten = pair_whiten

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "CCA":
        """Estimate canonical directions from row-paired views ``X`` (n, dx) and ``y`` (n, dy; 1-D: one column).

        ``sample_weight`` (n,), non-negative: row i counts ``sample_weight[i]`` times in every
        moment (frequencies: integer weights give the fit on the rows repeated; a weight of 0
        leaves the row out). Under ``reg="auto"`` their total counts as the number of rows.
        Memory-mapped, row-sliceable and Dask views are streamed (as :meth:`PairCCA.fit`).
        """
        return self._fit_moments(X, y, sample_weight)

    def _finish(self, m: PairedMoments, k: int, reg: float | str, source: tuple | None, weights: np.ndarray | None) -> "CCA":
        self.x_mean_, self.y_mean_, Sxx, Syy, Sxy = m.two_view()
        X, Y = (None, None) if source is None else source
        (rx, self.x_shrinkage_), (ry, self.y_shrinkage_) = (
            moment_regularisation(reg, m, "x", self.x_mean_, X, weights), moment_regularisation(reg, m, "y", self.y_mean_, Y, weights))
        self.x_components_, self.y_components_, self.correlations_ = cca_directions(
            ridge(Sxx, rx, self.x_shrinkage_), ridge(Syy, ry, self.y_shrinkage_), Sxy, k)
        if self.pair_whiten:
            self.x_components_, self.y_components_ = pair_whitened_maps(self.x_components_, self.y_components_, Sxx, Syy, Sxy)
        self.n_features_in_, self.n_samples_seen_ = Sxx.shape[0], m.rows
        return self


class PLSSVD(_StreamsMoments, TwoViewProjection):
    """PLS-SVD: top singular vectors of the unwhitened cross-covariance (follows variance, not Fisher).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
    >>> X, Y, z = mm.sample(2000, random_state=0)
    >>> cg.PLSSVD(2).fit(X, Y).transform(X, Y)[1].shape
    (2000, 2)
    """

    def __init__(self, n_components: int = 2) -> None:
        self.n_components = n_components

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "PLSSVD":
        """Estimate singular directions of the cross-covariance of ``X`` (n, dx) and ``y`` (n, dy; 1-D: one column).

        ``sample_weight`` (n,): row i counts ``sample_weight[i]`` times (as for :meth:`CCA.fit`);
        memory-mapped, row-sliceable and Dask views are streamed.
        """
        return self._fit_moments(X, y, sample_weight)

    def _finish(self, m: PairedMoments, k: int, reg: float | str, source: tuple | None, weights: np.ndarray | None) -> "PLSSVD":
        self.x_mean_, self.y_mean_, _, _, Sxy = m.two_view()
        U, s, Vt = np.linalg.svd(Sxy, full_matrices=False)
        self.x_components_, self.y_components_, self.singular_values_ = U[:, :k].T, Vt[:k], s[:k]
        self.n_features_in_, self.n_samples_seen_ = Sxy.shape[0], m.rows
        return self
