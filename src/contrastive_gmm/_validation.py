"""Input checks shared by every public entry point, so each error reads the same everywhere."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_array, check_random_state


def check_matrix(X: ArrayLike, name: str = "X", min_samples: int = 2) -> np.ndarray:
    """Return ``X`` as a finite 2-D float array with at least ``min_samples`` rows.

    Raises ValueError naming ``name`` for NaN/inf, 1-D or 3-D input, or too few rows.
    """
    if X is None:
        raise ValueError(f"{name} is required but None was given.")
    arr = np.asarray(X) if not hasattr(X, "__array__") else X
    if getattr(arr, "ndim", 2) != 2:
        ndim = np.ndim(arr)
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got a "
            f"{ndim}-D array of shape {np.shape(arr)}. Reshape 1-D data with "
            f"X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample."
        )
    return check_array(
        X,
        dtype=[np.float64, np.float32],
        ensure_min_samples=min_samples,
        input_name=name,
    )


def check_paired(
    X: ArrayLike, Y: ArrayLike, names: tuple[str, str] = ("X", "X_pos"), same_width: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two row-paired views: both finite 2-D, same row count (and width if asked)."""
    A = check_matrix(X, names[0])
    B = check_matrix(Y, names[1])
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            f"{names[0]} and {names[1]} must be row-paired (row i of one is the positive of "
            f"row i of the other); got {A.shape[0]} and {B.shape[0]} rows."
        )
    if same_width and A.shape[1] != B.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of features; got "
            f"{A.shape[1]} and {B.shape[1]}."
        )
    dtype = np.result_type(A.dtype, B.dtype)
    return A.astype(dtype, copy=False), B.astype(dtype, copy=False)


def check_labels(y: ArrayLike, n_samples: int, name: str = "y") -> np.ndarray:
    """Validate a 1-D label vector with one entry per sample."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels; got shape {arr.shape}.")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} must have one label per sample ({n_samples}); got {arr.shape[0]}.")
    return arr


def check_index_pairs(pairs: ArrayLike, n_samples: int, name: str = "pairs") -> np.ndarray:
    """Validate positive-pair row indices: an integer (m, 2) array, m >= 1, every entry in ``0..n_samples-1``.

    Row ``t`` says that row ``pairs[t, 0]`` and row ``pairs[t, 1]`` are a positive pair.
    """
    arr = np.asarray(pairs)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be an integer array of row indices; got dtype {arr.dtype}.")
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n_pairs, 2) with n_pairs >= 1 (anchor row, positive row); got shape {arr.shape}.")
    if np.issubdtype(arr.dtype, np.floating):
        # Integral floats (a CSV or MATLAB round trip) are accepted; 1.5 is not an index.
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise TypeError(f"{name} must hold whole-number row indices; found non-integer values.")
    idx = arr.astype(np.int64)
    bad = (idx < 0) | (idx >= n_samples)
    if np.any(bad):
        raise ValueError(
            f"{name} must index rows 0..{n_samples - 1}; found {idx[bad][0]} "
            f"({int(bad.any(axis=1).sum())} of {len(idx)} pairs out of range)."
        )
    return idx


def check_n_components(n_components: Any, max_value: int, name: str = "n_components") -> int:
    """Check that ``n_components`` is an integer in ``1..max_value``."""
    if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {n_components!r} ({type(n_components).__name__}).")
    if not 1 <= int(n_components) <= max_value:
        raise ValueError(f"{name} must be between 1 and {max_value} here; got {n_components}.")
    return int(n_components)


def check_positive(value: Any, name: str) -> float:
    """Check that ``value`` is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number; got {value!r} ({type(value).__name__}).")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value}.")
    return float(value)


def check_positive_int(value: Any, name: str) -> int:
    """Check that ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1; got {value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value}.")
    return int(value)


def check_probability(value: Any, name: str) -> float:
    """Check that ``value`` is a real number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1]; got {value!r} ({type(value).__name__}).")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1]; got {value}.")
    return float(value)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of the allowed strings."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}.")
    return value


def check_spd(cov: ArrayLike, dim: int | None = None, name: str = "covariance") -> np.ndarray:
    """Check a symmetric positive-definite matrix (optionally of size ``dim``)."""
    C = np.asarray(cov, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"{name} must be a square 2-D matrix; got shape {C.shape}.")
    if dim is not None and C.shape[0] != dim:
        raise ValueError(f"{name} must be {dim} x {dim} to match the means' width; got {C.shape}.")
    if not np.all(np.isfinite(C)):
        raise ValueError(f"{name} contains NaN or infinity.")
    scale = max(np.abs(C).max(), np.finfo(float).tiny)
    if not np.allclose(C, C.T, atol=1e-10 * scale, rtol=1e-8):
        raise ValueError(f"{name} must be symmetric; max |C - C^T| = {np.abs(C - C.T).max():.3g}.")
    C = (C + C.T) / 2
    min_eig = np.linalg.eigvalsh(C)[0]
    if min_eig <= 1e-12 * scale:
        raise ValueError(
            f"{name} must be positive definite; its smallest eigenvalue is {min_eig:.3g}."
        )
    return C


def check_weights(weights: ArrayLike | None, n_components: int) -> np.ndarray:
    """Check mixture weights: ``n_components`` non-negative numbers summing to 1 (None: uniform)."""
    if weights is None:
        return np.full(n_components, 1.0 / n_components)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_components,):
        raise ValueError(f"weights must have one entry per component ({n_components}); got shape {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"weights must be finite and non-negative; got {w}.")
    if not np.isclose(w.sum(), 1.0, atol=1e-8):
        raise ValueError(f"weights must sum to 1; they sum to {w.sum():.6g}.")
    return w / w.sum()


__all__ = [
    "check_matrix",
    "check_paired",
    "check_labels",
    "check_index_pairs",
    "check_n_components",
    "check_positive",
    "check_positive_int",
    "check_probability",
    "check_choice",
    "check_spd",
    "check_weights",
    "check_random_state",
]
