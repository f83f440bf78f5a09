"""Metrics that compare a learned map with the truth: principal angles, clustering, linear probes."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from contrastive_gmm._validation import (
    SIMILARITIES,
    InputTypeError,
    check_choice,
    check_classes,
    check_float_array,
    check_labels,
    check_matrix,
    check_n_components,
    check_paired,
    check_positive_int,
)


def _basis(A: ArrayLike, name: str) -> np.ndarray:
    M = check_float_array(A, name)
    if M.ndim == 1:
        M = M[:, None]
    if M.ndim != 2 or M.shape[0] < 1 or M.shape[1] < 1:
        raise ValueError(f"{name} must be a d x k matrix whose columns span a subspace; got shape {M.shape}.")
    if not np.any(M):
        raise ValueError(f"{name} is all zeros, so it spans no subspace; it needs at least one non-zero column.")
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
    y_true = check_labels(y_true, None, "y_true")
    if len(y_true) == 0:
        raise ValueError("y_true must hold at least one label; got none.")
    y_pred = check_labels(y_pred, len(y_true), "y_pred")
    C = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(-C)
    return float(C[rows, cols].sum() / len(y_true))


def cluster_scores(Z: ArrayLike, y: ArrayLike, n_clusters: int | None = None, random_state: int = 0) -> dict[str, float]:
    """k-means on embeddings ``Z``; returns NMI, ARI and Hungarian accuracy against labels ``y``.

    ``y`` needs at least two classes; ``n_clusters`` (default: the number of classes) is at
    most the number of samples.
    """
    Z = check_matrix(Z, "Z")
    y = check_labels(y, Z.shape[0])
    classes = check_classes(y, "y")
    k = len(classes) if n_clusters is None else check_n_components(n_clusters, Z.shape[0], "n_clusters")
    pred = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(Z)
    return {
        "nmi": float(normalized_mutual_info_score(y, pred)),
        "ari": float(adjusted_rand_score(y, pred)),
        "accuracy": clustering_accuracy(y, pred),
    }


def linear_probe_accuracy(
    Z_train: ArrayLike, y_train: ArrayLike, Z_test: ArrayLike, y_test: ArrayLike
) -> float:
    """Test accuracy of a logistic-regression probe trained on embedded training data.

    ``y_train`` needs at least two classes; ``Z_test`` has the width of ``Z_train``.
    """
    Z_train, Z_test = check_matrix(Z_train, "Z_train"), check_matrix(Z_test, "Z_test", min_samples=1)
    if Z_test.shape[1] != Z_train.shape[1]:
        raise ValueError(f"Z_test must have the same number of features as Z_train ({Z_train.shape[1]}); got {Z_test.shape[1]}.")
    y_train = check_labels(y_train, Z_train.shape[0], "y_train")
    check_classes(y_train, "y_train")
    y_test = check_labels(y_test, Z_test.shape[0], "y_test")
    probe = LogisticRegression(max_iter=2000).fit(Z_train, y_train)
    return float(probe.score(Z_test, y_test))


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
    >>> model = cg.PairCCA(2).fit(X, X_pos)
    >>> Xt, yt = gmm.sample(1000, random_state=1)
    >>> s = score_map(model, gmm.fisher_subspace(), X_test=Xt, y_test=yt)
    >>> bool(s["max_angle"] < 10 and s["nmi"] > 0.5)
    True
    """
    if not hasattr(model, "transform"):
        raise TypeError(
            f"model must be a fitted linear map with transform() (a contrastive_gmm learner, PCA, LDA); "
            f"got {type(model).__name__}."
        )
    for data, labels, names in ((X_test, y_test, ("X_test", "y_test")), (X_train, y_train, ("X_train", "y_train"))):
        if (data is None) != (labels is None):
            given, missing = names if labels is None else names[::-1]
            raise ValueError(f"{missing} is missing: {names[0]} and {names[1]} must be given together; got only {given}.")
    if X_train is not None and X_test is None:
        raise ValueError("X_test and y_test are missing: the probe trained on X_train is scored on them.")
    out: dict[str, float] = {}
    if target is not None:
        basis = learned_subspace(model)
        target = _basis(target, "target")
        if target.shape[0] != basis.shape[0]:
            raise ValueError(
                f"target must have one row per input feature of the model ({basis.shape[0]}); got {target.shape[0]} rows."
            )
        angles = subspace_angles(basis, target)
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
        raise TypeError(f"model must be a fitted linear map; cannot read one from {type(model).__name__}: it has no subspace(), scalings_ or components_.")
    return np.linalg.qr(W)[0]


__all__ = [
    "subspace_angles",
    "subspace_distance",
    "clustering_accuracy",
    "cluster_scores",
    "linear_probe_accuracy",
    "score_map",
    "learned_subspace",
    "retrieval_accuracy",
    "energy_outside",
]


def retrieval_accuracy(
    Zx: ArrayLike,
    Zy: ArrayLike,
    ks: Sequence[int] = (1, 5),
    similarity: str = "cosine",
    labels: ArrayLike | None = None,
    chunk: int = 1024,
) -> dict[str, float]:
    """Cross-modal retrieval on held-out pairs: is row i of ``Zy`` among the top-k matches of row i of ``Zx``, and back?

    Returns ``x_to_y_top{k}`` and ``y_to_x_top{k}`` for each k (chance is k / n). With
    ``labels``, also ``x_to_y_same_component`` / ``y_to_x_same_component``: the top-1 match has
    the query's component (chance ~ sum pi_k^2), which is what a shared component can support.
    Scores are computed in row chunks, so no n x n matrix is held.

    Examples
    --------
    >>> Z = np.eye(4)
    >>> retrieval_accuracy(Z, Z, ks=(1,))["x_to_y_top1"]
    1.0
    """
    Zx, Zy = check_paired(Zx, Zy, names=("Zx", "Zy"))
    check_choice(similarity, "similarity", SIMILARITIES)
    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__"):
        raise InputTypeError(f"ks must be a sequence of integers >= 1; got {ks!r}.")
    ks = [check_positive_int(k, "ks") for k in ks]
    chunk = check_positive_int(chunk, "chunk")
    if similarity == "cosine":
        Zx = Zx / np.maximum(np.linalg.norm(Zx, axis=1, keepdims=True), 1e-300)
        Zy = Zy / np.maximum(np.linalg.norm(Zy, axis=1, keepdims=True), 1e-300)
    y = None if labels is None else check_labels(labels, Zx.shape[0], "labels")
    out: dict[str, float] = {}
    for name, Q, D in (("x_to_y", Zx, Zy), ("y_to_x", Zy, Zx)):
        ranks, same = [], []
        for start in range(0, Q.shape[0], chunk):
            S = Q[start : start + chunk] @ D.T
            rows = np.arange(start, min(start + chunk, Q.shape[0]))
            true = S[rows - start, rows]
            ranks.append((S > true[:, None]).sum(axis=1))  # 0 = the true partner is the best match
            if y is not None:
                same.append(y[S.argmax(axis=1)] == y[rows])
        rank = np.concatenate(ranks)
        for k in ks:
            out[f"{name}_top{k}"] = float(np.mean(rank < k))
        if y is not None:
            out[f"{name}_same_component"] = float(np.mean(np.concatenate(same)))
    return out


def energy_outside(components: ArrayLike, subspace: ArrayLike) -> float:
    """Fraction of a map's energy outside a subspace: ``||W (I - P)||_F^2 / ||W||_F^2``.

    ``components`` is the k x d map (rows are weight vectors in input space) and ``subspace`` a
    d x r basis (orthonormalised here). 0 means every weight vector lies inside the subspace.

    Examples
    --------
    >>> energy_outside(np.array([[1.0, 1.0]]), np.array([[1.0], [0.0]]))
    0.5
    """
    W = check_float_array(components, "components", ndim=2)
    Q = np.linalg.qr(check_float_array(subspace, "subspace", ndim=2))[0]
    if W.shape[1] != Q.shape[0]:
        raise ValueError(f"components must be (k, {Q.shape[0]}) to match the subspace; got {W.shape}.")
    if not np.any(W):
        raise ValueError("components must not be all zero: a map with no energy has no fraction outside.")
    outside = W - (W @ Q) @ Q.T
    return float(np.sum(outside**2) / np.sum(W**2))
