"""Metrics that compare a learned map with the truth: principal angles, clustering, linear probes."""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from ._validation import check_labels, check_matrix


def _basis(A: ArrayLike, name: str) -> np.ndarray:
    M = np.asarray(A, dtype=np.float64)
    if M.ndim == 1:
        M = M[:, None]
    if M.ndim != 2 or M.shape[1] < 1:
        raise ValueError(f"{name} must be a d x k matrix whose columns span a subspace; got shape {M.shape}.")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return M


def subspace_angles(A: ArrayLike, B: ArrayLike) -> np.ndarray:
    """Principal angles in degrees between the column spans of ``A`` (d x k) and ``B`` (d x m), largest first.

    Thin wrapper over :func:`scipy.linalg.subspace_angles` that checks shapes and converts to degrees.

    Examples
    --------
    >>> subspace_angles(np.eye(3)[:, :1], np.array([[1.0], [1.0], [0.0]])).round(6)
    array([45.])
    """
    A, B = _basis(A, "A"), _basis(B, "B")
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B must live in the same space; got {A.shape[0]} and {B.shape[0]} rows.")
    return np.degrees(scipy.linalg.subspace_angles(A, B))


def subspace_distance(A: ArrayLike, B: ArrayLike) -> float:
    """Sine of the largest principal angle between the spans of ``A`` and ``B`` (0: equal, 1: orthogonal)."""
    return float(np.sin(np.radians(subspace_angles(A, B).max())))


def clustering_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of points labelled correctly after the best one-to-one matching of clusters to classes (Hungarian).

    Examples
    --------
    >>> clustering_accuracy([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.8
    """
    y_true = np.asarray(y_true)
    y_pred = check_labels(y_pred, len(y_true), "y_pred")
    C = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(-C)
    return float(C[rows, cols].sum() / len(y_true))


def cluster_scores(Z: ArrayLike, y: ArrayLike, n_clusters: int | None = None, random_state: int = 0) -> dict[str, float]:
    """k-means on embeddings ``Z``; returns NMI, ARI and Hungarian accuracy against labels ``y``."""
    Z = check_matrix(Z, "Z")
    y = check_labels(y, Z.shape[0])
    k = len(np.unique(y)) if n_clusters is None else n_clusters
    pred = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(Z)
    return {
        "nmi": float(normalized_mutual_info_score(y, pred)),
        "ari": float(adjusted_rand_score(y, pred)),
        "accuracy": clustering_accuracy(y, pred),
    }


def linear_probe_accuracy(
    Z_train: ArrayLike, y_train: ArrayLike, Z_test: ArrayLike, y_test: ArrayLike
) -> float:
    """Test accuracy of a logistic-regression probe trained on embedded training data."""
    Z_train, Z_test = check_matrix(Z_train, "Z_train"), check_matrix(Z_test, "Z_test", min_samples=1)
    probe = LogisticRegression(max_iter=2000).fit(Z_train, check_labels(y_train, Z_train.shape[0], "y_train"))
    return float(probe.score(Z_test, check_labels(y_test, Z_test.shape[0], "y_test")))


def score_map(
    model: object,
    target: ArrayLike | None = None,
    X_train: ArrayLike | None = None,
    y_train: ArrayLike | None = None,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
) -> dict[str, float]:
    """Score a fitted linear map: angles to ``target`` and, given held-out data, clustering and probe metrics.

    ``model`` needs ``transform`` and either ``subspace()`` or ``components_`` / ``scalings_``.
    Returns a dict with ``max_angle`` and ``sin_max_angle`` (degrees / sine, when ``target`` is
    given), ``nmi``, ``ari``, ``accuracy`` (k-means on ``X_test``) and ``probe_accuracy``.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(3, 8, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(3000, random_state=0)
    >>> model = cg.SpectralContrastive(2).fit(X, X_pos)
    >>> Xt, yt = gmm.sample(1000, random_state=1)
    >>> s = score_map(model, gmm.fisher_subspace(), X_test=Xt, y_test=yt)
    >>> bool(s["max_angle"] < 10 and s["nmi"] > 0.5)
    True
    """
    out: dict[str, float] = {}
    if target is not None:
        angles = subspace_angles(learned_subspace(model), target)
        out["max_angle"] = float(angles.max())
        out["sin_max_angle"] = float(np.sin(np.radians(angles.max())))
    if X_test is not None and y_test is not None:
        Z_test = model.transform(X_test)
        out.update(cluster_scores(Z_test, y_test))
        if X_train is not None and y_train is not None:
            out["probe_accuracy"] = linear_probe_accuracy(model.transform(X_train), y_train, Z_test, y_test)
    return out


def learned_subspace(model: object) -> np.ndarray:
    """Orthonormal basis (d x k) of the subspace a fitted model projects onto.

    Works for this package's learners (``subspace()``), scikit-learn's PCA (``components_``)
    and LinearDiscriminantAnalysis (``scalings_``, truncated to its output width).
    """
    if hasattr(model, "subspace"):
        return model.subspace()
    if hasattr(model, "scalings_"):
        n_classes = len(model.classes_)
        k = model.n_components or min(n_classes - 1, model.scalings_.shape[0])
        W = model.scalings_[:, :k]
    elif hasattr(model, "components_"):
        W = np.asarray(model.components_).T
    else:
        raise TypeError(f"cannot read a linear map from {type(model).__name__}: it has no subspace(), scalings_ or components_.")
    return np.linalg.qr(W)[0]


__all__ = [
    "subspace_angles",
    "subspace_distance",
    "clustering_accuracy",
    "cluster_scores",
    "linear_probe_accuracy",
    "score_map",
    "learned_subspace",
]
