"""The shared shape of every learner: a centring vector and a k x d linear map."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._validation import check_matrix


class LinearProjection(TransformerMixin, BaseEstimator):
    """Base class: after ``fit``, ``transform(X) = (X - mean_) @ components_.T``.

    Subclasses set ``mean_`` (d,), ``components_`` (k, d) and ``n_features_in_`` in ``fit``.
    """

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Centre ``X`` with the fitted mean and project it with the learned map; shape (n, k)."""
        check_is_fitted(self, "components_")
        X = check_matrix(X, "X", min_samples=1)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} was fitted with "
                f"{self.n_features_in_} features."
            )
        return (X - self.mean_) @ self.components_.T

    def subspace(self) -> np.ndarray:
        """Orthonormal d x k basis of the subspace the map projects onto (its row space)."""
        check_is_fitted(self, "components_")
        u, s, _ = np.linalg.svd(self.components_.T, full_matrices=False)
        keep = s > s.max() * 1e-12 if s.size else s.astype(bool)
        return u[:, keep]


__all__ = ["LinearProjection"]
