"""The shared shape of every learner: a centring vector and a k x d linear map."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from contrastive_gmm._validation import (
    check_labels,
    check_matrix,
    check_n_components,
    check_paired,
    check_sample_weight,
)
from contrastive_gmm.moments import is_chunkable, is_dask


def weighted_rows(X: ArrayLike, y: ArrayLike | None, sample_weight: ArrayLike | None) -> tuple[Any, Any, np.ndarray | None]:
    """``fit``'s ``sample_weight`` validated, with the rows of weight 0 dropped from ``X`` and ``y``.

    Why drop them: a zero weight then is exactly the row left out (scikit-learn's convention),
    for the trained learners and labelled fits too, where a row of weight 0 would otherwise
    still be drawn as a same-class partner. ``y`` (positives, labels or a second view) loses the
    same rows. Without weights, ``X`` and ``y`` come back as given.

    >>> X = np.arange(8.0).reshape(4, 2)
    >>> A, y, w = weighted_rows(X, np.array([0, 0, 1, 1]), [1, 0, 2, 1])
    >>> A[:, 0].tolist(), y.tolist(), w.tolist()
    ([0.0, 4.0, 6.0], [0, 1, 1], [1.0, 2.0, 1.0])
    """
    if sample_weight is None:
        return X, y, None
    X = check_matrix(X, "X")
    w = check_sample_weight(sample_weight, X.shape[0])
    keep = w > 0
    if keep.all():
        return X, y, w
    if y is not None:
        y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)  # pandas: select rows by position
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have one row per row of X ({X.shape[0]}); got shape {y.shape}.")
        y = y[keep]
    return X[keep], y, w[keep]


def stream_views(
    X: Any, y: Any, sample_weight: ArrayLike | None, *, same_width: bool, names: tuple[str, str] = ("X", "y")
) -> tuple[Any, Any, np.ndarray | None] | None:
    """``fit``'s views left unread when they should be streamed; None for input that is simply loaded.

    Streamed: a memory-mapped array, any row-sliceable 2-D array-like that is not an in-memory
    numpy array (HDF5, zarr), or a Dask array, when the other view is one of these or numpy.
    Only their shapes are checked here (every chunk is checked for NaN and inf as it is read,
    :func:`~contrastive_gmm.moments.iter_chunks`); rows of weight 0 stay and add nothing.
    Labels (a 1-D ``y``) are never streamed: pairing rows within a class needs them all.
    """

    def streamable(A: Any) -> bool:
        return is_dask(A) or (is_chunkable(A) and (type(A) is not np.ndarray))

    def readable(A: Any) -> bool:
        return is_dask(A) or is_chunkable(A)

    if not (streamable(X) or streamable(y)) or not (readable(X) and readable(y)):
        return None
    if len(y.shape) != 2:
        return None
    (n, dx), (ny, dy) = X.shape, y.shape
    if n != ny:
        raise ValueError(
            f"{names[0]} and {names[1]} must be row-paired (row i of one is the positive of row i of the other); "
            f"got {n} and {ny} rows."
        )
    if n < 2 or dx < 1 or dy < 1:
        raise ValueError(f"{names[0]} and {names[1]} need at least 2 rows and 1 column each; got shapes {X.shape} and {y.shape}.")
    if same_width and dx != dy:
        raise ValueError(f"{names[0]} and {names[1]} must have the same number of features; got {dx} and {dy}.")
    return X, y, check_sample_weight(None if sample_weight is None else np.asarray(sample_weight), n)


def paired_views(
    X: ArrayLike, second: ArrayLike | None, rng: np.random.Generator, owner: str, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``fit``'s two arguments as two row-paired views ``(X, X_pos)``, and the weight of each pair.

    ``second`` is either the positives (2-D, the shape of ``X``: row i of it is the positive of
    row i of ``X``) or class labels (1-D, one per row): each row is then paired with a random
    other row of its class, drawn with ``rng`` (:func:`~contrastive_gmm.pair_indices_from_groups`
    with the classes as groups: rows alone in their class have no partner and are left out). Labels make the learners
    scikit-learn supervised transformers: ``Pipeline`` and ``GridSearchCV`` pass ``y`` there.
    ``weights`` (one per row of ``X``, or None) become the pairs' weights: a pair weighs what its
    anchor (its row of ``X``) weighs; partners are drawn whatever their weight.

    Examples
    --------
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> A, B, w = paired_views(X, np.array([0, 0, 0, 1, 1, 2]), np.random.default_rng(0), "InfoNCE")
    >>> A.shape, bool(np.all((A[:, 0] < 6) == (B[:, 0] < 6))), w  # 5 rows have a partner of their class
    ((5, 2), True, None)
    """
    if second is None:
        raise ValueError(
            f"{owner} requires y to be passed, but the target y is None: call fit(X, X_pos) with row-paired "
            "positives, or fit(X, y) with class labels."
        )
    if np.asarray(second).ndim != 1:  # np.ndim would dispatch to the argument's own __array_function__
        return (*check_paired(X, second), weights)
    from contrastive_gmm.data.pairs import (
        pair_indices_from_groups,  # pairs needs the mixture module; keep _base light
    )

    X = check_matrix(X, "X")
    y = check_labels(second, X.shape[0], "y")
    try:
        P = pair_indices_from_groups(y, random_state=rng)
    except ValueError:  # no class has two rows: say it in terms of this learner's labels
        raise ValueError(
            f"{owner} builds positive pairs from the labels y, so some class needs at least 2 rows; got "
            f"{len(np.unique(y))} class(es), each with 1 row."
        ) from None
    return X[P[:, 0]], X[P[:, 1]], None if weights is None else weights[P[:, 0]]


def warn_if_beyond_classes(n_components: int, y: ArrayLike | None, owner: str, name: str = "n_components") -> None:
    """Warn when labels ``y`` (1-D) are given and ``n_components`` exceeds the number of classes - 1.

    K classes have K - 1 discriminative directions (the Fisher subspace); any more are fitted to
    within-class noise, which dilutes distances in the embedding. ``name`` is what the message
    calls ``n_components`` (the command line's ``--n-components``).
    """
    if y is None or np.asarray(y).ndim != 1:
        return
    n_classes = len(np.unique(np.asarray(y)))
    if n_components > n_classes - 1:
        warnings.warn(
            f"{owner}: {name}={n_components} is more than the number of classes - 1 = {n_classes - 1}; only "
            f"{n_classes - 1} direction(s) can separate {n_classes} classes, the rest follow within-class noise.",
            UserWarning,
            stacklevel=3,
        )


class LinearProjection(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class: after ``fit``, ``transform(X) = (X - mean_) @ components_.T``.

    Subclasses set ``mean_`` (d,), ``components_`` (k, d) and ``n_features_in_`` in ``fit``.
    The output columns are named as scikit-learn names them (the class name and an index:
    ``infonce0, infonce1, ...``), so ``set_output(transform="pandas")`` works; float32 input gives
    float32 output.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> X, X_pos, _, _ = cg.GMM.random(3, 5, random_state=0).sample_pairs(500, random_state=0)
    >>> model = cg.PairCCA(2).fit(X, X_pos)
    >>> model.get_feature_names_out().tolist(), model.transform(X.astype("float32")).dtype
    (['paircca0', 'paircca1'], dtype('float32'))
    """

    #: Whether ``fit`` needs its second argument (positives or labels); scikit-learn's tags read it.
    _requires_y: bool = True

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn's estimator tags
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self._requires_y
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self) -> int:
        """Output width, which scikit-learn's ``get_feature_names_out`` reads."""
        return self.components_.shape[0]

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Centre ``X`` with the fitted mean and project it with the learned map; shape (n, k)."""
        check_is_fitted(self, "components_")
        X = check_matrix(X, "X", min_samples=1)
        if X.shape[1] != self.n_features_in_:
            # scikit-learn's wording, which its estimator checks (and users' habits) expect.
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (the width it was fitted with)."
            )
        # float64 arithmetic (the mean can be large next to the spread), returned in the input's precision.
        return ((X - self.mean_) @ self.components_.T).astype(X.dtype, copy=False)

    def subspace(self) -> np.ndarray:
        """Orthonormal d x k basis of the subspace the map projects onto (its row space)."""
        check_is_fitted(self, "components_")
        u, s, _ = np.linalg.svd(self.components_.T, full_matrices=False)
        keep = s > s.max() * 1e-12 if s.size else s.astype(bool)
        return u[:, keep]


__all__ = ["weighted_rows", "stream_views", "paired_views", "warn_if_beyond_classes", "LinearProjection", "TwoViewProjection"]


class TwoViewProjection(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class: a linear map per view, called as scikit-learn's CCA is.

    ``fit(X, y)`` takes the second view ``y`` (n, d_y), row-paired with ``X`` (a 1-D ``y`` is one
    column, as scikit-learn's CCA reads it); ``transform(X)`` gives the X scores and
    ``transform(X, y)`` the pair ``(X scores, y scores)``. The X scores' columns are named
    ``cca0, cca1, ...`` (the class name and an index), as scikit-learn's CCA names them; float32
    input gives float32 scores.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(3, 6, 5, random_state=0)
    >>> X, Y, _ = mm.sample(500, random_state=0)
    >>> model = cg.CCA(2).fit(X, y=Y)
    >>> model.transform(X).shape, [s.shape for s in model.transform(X, Y)], model.get_feature_names_out().tolist()
    ((500, 2), [(500, 2), (500, 2)], ['cca0', 'cca1'])
    """

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn's estimator tags
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True  # y is a second view of any width
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self) -> int:
        """Width of the X scores, which scikit-learn's ``get_feature_names_out`` reads."""
        return self.x_components_.shape[0]

    def _check_widths(self, X: ArrayLike, y: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
        check_is_fitted(self, "x_components_")
        X = check_matrix(X, "X", min_samples=1)
        if X.shape[1] != self.x_components_.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.x_components_.shape[1]} features as input."
            )
        if y is None:
            return X, None
        y = check_matrix(_as_view(y), "y", min_samples=1)
        if y.shape[1] != self.y_components_.shape[1]:
            raise ValueError(
                f"y has {y.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.y_components_.shape[1]} features as input for its second view."
            )
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X and y must be row-paired; got {X.shape[0]} and {y.shape[0]} rows.")
        return X, y

    def transform(self, X: ArrayLike, y: ArrayLike | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """X scores ``(X - x_mean_) @ x_components_.T``; with ``y``, the pair ``(X scores, y scores)``."""
        X, y = self._check_widths(X, y)
        x_scores = ((X - self.x_mean_) @ self.x_components_.T).astype(X.dtype, copy=False)
        if y is None:
            return x_scores
        return x_scores, ((y - self.y_mean_) @ self.y_components_.T).astype(y.dtype, copy=False)

    def fit_transform(
        self, X: ArrayLike, y: ArrayLike | None = None, **fit_params: object
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Fit on the pairs and return ``(X scores, y scores)`` (scikit-learn's CCA returns the same pair)."""
        return self.fit(X, y, **fit_params).transform(X, y)

    def x_subspace(self) -> np.ndarray:
        """Orthonormal basis (dx, k) of the x map's row space."""
        check_is_fitted(self, "x_components_")
        return np.linalg.qr(self.x_components_.T)[0]

    def y_subspace(self) -> np.ndarray:
        """Orthonormal basis (dy, k) of the y map's row space."""
        check_is_fitted(self, "y_components_")
        return np.linalg.qr(self.y_components_.T)[0]


def _as_view(y: ArrayLike) -> ArrayLike:
    """A 1-D second view as one column (scikit-learn's CCA reads a 1-D ``y`` so); anything else unchanged."""
    arr = y if hasattr(y, "ndim") else np.asarray(y)
    return np.asarray(arr).reshape(-1, 1) if arr.ndim == 1 else y


def _check_two_view(
    X: ArrayLike, y: ArrayLike, n_components: object, estimator: object = None, sample_weight: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """A two-view ``fit``'s arguments validated: ``(X, Y, weights, k)``, rows of weight 0 dropped (:func:`weighted_rows`)."""
    if y is None:
        name = type(estimator).__name__ if estimator is not None else "This learner"
        # scikit-learn's wording for a missing target, which its checks (and users) recognise.
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None: fit needs both views, so call fit(X, y) "
            "with y the second view, row-paired with X."
        )
    X, y, w = weighted_rows(X, y, sample_weight)
    X, Y = check_paired(X, _as_view(y), names=("X", "y"), same_width=False)
    if estimator is None:
        return X, Y, w, check_n_components(n_components, min(X.shape[1], Y.shape[1]))
    from contrastive_gmm.learners.rank import resolve_two_view_n_components  # rank imports the mixtures; keep base light

    return X, Y, w, resolve_two_view_n_components(estimator, X, Y, n_components=n_components, sample_weight=w)
