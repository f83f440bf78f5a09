"""Positive pairs from weak supervision: the study's augmentation applied to real data.

On a known mixture a positive is another draw from the same component. On real data the
closest thing is another *row* of the same class (labels), or another view of the same object
(groups), or a partner someone wrote down (explicit indices). Every function here returns
row indices as an ``(m, 2)`` integer array ``[[anchor, positive], ...]`` (``pair_indices_*``)
or the paired rows themselves (``pairs_from_*``), so the learners never see the labels.

The noisy variant follows THEORY.md: with probability ``delta`` the partner is a fresh draw
from the whole data set (any row but the anchor, so it may share the anchor's class by
chance), otherwise another row of the anchor's class. The expected fraction of cross-class
pairs is therefore ``delta * (n - n_c) / (n - 1)`` for an anchor of a class of size ``n_c``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    check_index_pairs,
    check_labels,
    check_matrix,
    check_positive_int,
    check_probability,
)
from contrastive_gmm.mixtures.gmm import RandomState, _rng


def _keys(keys: ArrayLike, name: str) -> np.ndarray:
    """1-D key vector (labels or group ids) without missing values."""
    arr = check_labels(keys, None, name)  # 1-D, no missing value
    if arr.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 entries to form a pair; got {arr.shape[0]}.")
    if arr.dtype == object:
        arr = arr.astype(str)
    return arr


def _partner_indices(
    keys: np.ndarray, delta: float, n_pairs_per_sample: int, rng: np.random.Generator, anchors: np.ndarray
) -> np.ndarray:
    """For each anchor row and each repeat: a uniformly random *other* row with the same key (or, w.p. delta, any other row)."""
    n = keys.shape[0]
    _, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    order = np.argsort(inv, kind="stable")  # rows grouped by key
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n) - starts[inv[order]]  # each row's place inside its key's block
    size, start, pos = counts[inv[anchors]], starts[inv[anchors]], position[anchors]
    out = []
    for _ in range(n_pairs_per_sample):
        # An offset in 1..size-1 reaches every other member of the block exactly once: uniform, never itself.
        partner = order[start + (pos + rng.integers(1, size)) % size]
        noisy = rng.random(anchors.shape[0]) < delta
        if noisy.any():
            other = rng.integers(0, n - 1, size=int(noisy.sum()))
            partner[noisy] = other + (other >= anchors[noisy])  # uniform over the n - 1 rows that are not the anchor
        out.append(np.column_stack([anchors, partner]))
    return np.concatenate(out).astype(np.int64)


def pair_indices_from_labels(
    y: ArrayLike, delta: float = 0.0, n_pairs_per_sample: int = 1, random_state: RandomState = None, *, name: str = "y"
) -> np.ndarray:
    """Pair every row with a random other row of its class; a fraction ``delta`` of partners come from any class.

    Returns an ``(n * n_pairs_per_sample, 2)`` array of row indices ``[anchor, positive]``:
    the anchors are ``0..n-1`` repeated ``n_pairs_per_sample`` times, each repeat drawing fresh
    partners. Every class needs at least two rows. ``name`` is what errors call ``y`` (the
    command line names the label column).

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> P = pair_indices_from_labels(y, random_state=0)
    >>> P[:, 0].tolist(), bool(np.all(y[P[:, 0]] == y[P[:, 1]])), bool(np.all(P[:, 0] != P[:, 1]))
    ([0, 1, 2, 3, 4], True, True)
    """
    y = _keys(y, name)
    delta = check_probability(delta, "delta")
    n_pairs_per_sample = check_positive_int(n_pairs_per_sample, "n_pairs_per_sample")
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        lonely = classes[counts < 2]
        raise ValueError(
            f"{name}: every class needs at least 2 rows to pair a row with another of its class; class "
            f"{lonely[0].item()!r} has one ({len(lonely)} such classes). Remove those rows or merge classes."
        )
    return _partner_indices(y, delta, n_pairs_per_sample, _rng(random_state), np.arange(y.shape[0]))


def pair_indices_from_groups(
    groups: ArrayLike, n_pairs_per_sample: int = 1, delta: float = 0.0, random_state: RandomState = None, *, name: str = "groups"
) -> np.ndarray:
    """Pair every row with a random other row of its group (several views of the same object).

    Rows whose group has a single member have no positive and are left out as anchors (an
    object seen once is normal in grouped data); at least one group must have two rows.
    ``delta`` replaces that fraction of partners by any other row, as for labels. ``name`` is
    what errors call ``groups``.

    Examples
    --------
    >>> P = pair_indices_from_groups(["a", "a", "b", "c", "c"], random_state=0)
    >>> P.tolist()
    [[0, 1], [1, 0], [3, 4], [4, 3]]
    """
    groups = _keys(groups, name)
    delta = check_probability(delta, "delta")
    n_pairs_per_sample = check_positive_int(n_pairs_per_sample, "n_pairs_per_sample")
    _, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    anchors = np.flatnonzero(counts[inv] >= 2)
    if anchors.size == 0:
        raise ValueError(f"{name}: no group has two or more rows, so there is no positive pair; each object needs several views.")
    return _partner_indices(groups, delta, n_pairs_per_sample, _rng(random_state), anchors)


def pairs_from_indices(X: ArrayLike, pairs: ArrayLike, X2: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows a list of index pairs names: ``(X[pairs[:, 0]], X2[pairs[:, 1]])`` (``X2`` defaults to ``X``).

    With a second view ``X2`` (row-paired with ``X``), the positive of an anchor in ``X`` is
    taken from the other view: cross-view pairs for CLIP.

    Examples
    --------
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> A, B = pairs_from_indices(X, [[0, 2], [1, 0]])
    >>> A.tolist(), B.tolist()
    ([[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [0.0, 1.0]])
    """
    X = check_matrix(X, "X", min_samples=1)
    P = check_index_pairs(pairs, X.shape[0])
    if X2 is None:
        return X[P[:, 0]], X[P[:, 1]]
    X2 = check_matrix(X2, "X2", min_samples=1)
    if X2.shape[0] != X.shape[0]:
        raise ValueError(f"X2 must be row-paired with X (one row per object); got {X2.shape[0]} and {X.shape[0]} rows.")
    return X[P[:, 0]], X2[P[:, 1]]


def pairs_from_labels(
    X: ArrayLike,
    y: ArrayLike,
    delta: float = 0.0,
    n_pairs_per_sample: int = 1,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row-paired views ``(X_anchor, X_pos)`` for :class:`~contrastive_gmm.InfoNCE` from class labels.

    See :func:`pair_indices_from_labels`; the learner sees the pairs, never ``y``.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> X, y = cg.load_real_dataset("wine")
    >>> A, B = cg.pairs_from_labels(X, y, delta=0.3, n_pairs_per_sample=2, random_state=0)
    >>> A.shape, B.shape
    ((356, 13), (356, 13))
    """
    X = check_matrix(X, "X")
    y = check_labels(y, X.shape[0])
    P = pair_indices_from_labels(y, delta, n_pairs_per_sample, random_state)
    return X[P[:, 0]], X[P[:, 1]]  # indices made here: pairs_from_indices would check X and P again


def pairs_from_groups(
    X: ArrayLike,
    groups: ArrayLike,
    n_pairs_per_sample: int = 1,
    delta: float = 0.0,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row-paired views ``(X_anchor, X_pos)`` from group ids (rows of a group are views of one object).

    Examples
    --------
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> A, B = pairs_from_groups(X, [7, 7, 9, 9], random_state=0)
    >>> B.tolist()
    [[2.0, 3.0], [0.0, 1.0], [6.0, 7.0], [4.0, 5.0]]
    """
    X = check_matrix(X, "X")
    groups = check_labels(groups, X.shape[0], "groups")
    P = pair_indices_from_groups(groups, n_pairs_per_sample, delta, random_state)
    return X[P[:, 0]], X[P[:, 1]]


__all__ = [
    "pair_indices_from_labels",
    "pair_indices_from_groups",
    "pairs_from_indices",
    "pairs_from_labels",
    "pairs_from_groups",
]
