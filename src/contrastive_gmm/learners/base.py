"""The shared shape of every learner: a centring vector and a k x d linear map."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from contrastive_gmm._validation import (
    check_labels,
    check_matrix,
    check_n_components,
    check_paired,
)


def paired_views(
    X: ArrayLike, second: ArrayLike | None, rng: np.random.Generator, owner: str
) -> tuple[np.ndarray, np.ndarray]:
    """``fit``'s two arguments as two row-paired views ``(X, X_pos)``.

    ``second`` is either the positives (2-D, the shape of ``X``: row i of it is the positive of
    row i of ``X``) or class labels (1-D, one per row): each row is then paired with a random
    other row of its class, drawn with ``rng`` (:func:`~contrastive_gmm.pair_indices_from_groups`
    with the classes as groups: rows alone in their class have no partner and are left out). Labels make the learners
    scikit-learn supervised transformers: ``Pipeline`` and ``GridSearchCV`` pass ``y`` there.

    Examples
    --------
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> A, B = paired_views(X, np.array([0, 0, 0, 1, 1, 2]), np.random.default_rng(0), "InfoNCE")
    >>> A.shape, bool(np.all((A[:, 0] < 6) == (B[:, 0] < 6)))  # 5 rows have a partner of their class
    ((5, 2), True)
    """
    if second is None:
        raise ValueError(
            f"{owner} requires y to be passed, but the target y is None: call fit(X, X_pos) with row-paired "
            "positives, or fit(X, y) with class labels."
        )
    if np.asarray(second).ndim != 1:  # np.ndim would dispatch to the argument's own __array_function__
        return check_paired(X, second)
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
    return X[P[:, 0]], X[P[:, 1]]


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


__all__ = ["paired_views", "warn_if_beyond_classes", "LinearProjection", "TwoViewProjection"]


class TwoViewProjection(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class: a linear map per view, ``transform(X, Y=None)`` as in scikit-learn's CCA.

    The X scores' columns are named ``cca0, cca1, ...`` (the class name and an index), as scikit-learn's
    CCA names them; float32 input gives float32 scores.
    """

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn's estimator tags
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self) -> int:
        """Width of the X scores, which scikit-learn's ``get_feature_names_out`` reads."""
        return self.x_components_.shape[0]

    def _check_widths(self, X: ArrayLike, Y: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
        check_is_fitted(self, "x_components_")
        X = check_matrix(X, "X", min_samples=1)
        if X.shape[1] != self.x_components_.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.x_components_.shape[1]} features as input.")
        if Y is None:
            return X, None
        Y = check_matrix(Y, "Y", min_samples=1)
        if Y.shape[1] != self.y_components_.shape[1]:
            raise ValueError(f"Y has {Y.shape[1]} features, but {type(self).__name__} is expecting {self.y_components_.shape[1]} features as input.")
        return X, Y

    def transform(self, X: ArrayLike, Y: ArrayLike | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """X scores ``(X - x_mean_) @ x_components_.T``; with ``Y``, the pair ``(X scores, Y scores)``."""
        X, Y = self._check_widths(X, Y)
        x_scores = ((X - self.x_mean_) @ self.x_components_.T).astype(X.dtype, copy=False)
        if Y is None:
            return x_scores
        return x_scores, ((Y - self.y_mean_) @ self.y_components_.T).astype(Y.dtype, copy=False)

    def fit_transform(self, X: ArrayLike, Y: ArrayLike, **fit_params: object) -> tuple[np.ndarray, np.ndarray]:
        """Fit on the pairs and return ``(X scores, Y scores)``."""
        return self.fit(X, Y, **fit_params).transform(X, Y)

    def x_subspace(self) -> np.ndarray:
        """Orthonormal basis (dx, k) of the x map's row space."""
        check_is_fitted(self, "x_components_")
        return np.linalg.qr(self.x_components_.T)[0]

    def y_subspace(self) -> np.ndarray:
        """Orthonormal basis (dy, k) of the y map's row space."""
        check_is_fitted(self, "y_components_")
        return np.linalg.qr(self.y_components_.T)[0]


def _check_two_view(X: ArrayLike, Y: ArrayLike, n_components: object, estimator: object = None) -> tuple[np.ndarray, np.ndarray, int]:
    if Y is None:
        raise ValueError("fit needs both views: call fit(X, Y) with row-paired X and Y.")
    X, Y = check_paired(X, Y, names=("X", "Y"), same_width=False)
    if estimator is None:
        return X, Y, check_n_components(n_components, min(X.shape[1], Y.shape[1]))
    from contrastive_gmm.learners.rank import resolve_two_view_n_components  # rank imports the mixtures; keep base light

    return X, Y, resolve_two_view_n_components(estimator, X, Y, n_components=n_components)
