"""Input checks shared by every public entry point, so each error reads the same everywhere."""

from __future__ import annotations

import numbers
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse

#: The similarities the losses and retrieval know: cosine of unit-normalised embeddings, or the plain dot product.
SIMILARITIES = ("cosine", "dot")
#: The type of a ``similarity`` parameter.
Similarity = Literal["cosine", "dot"]


class InputTypeError(TypeError, ValueError):
    """A value of the wrong type (a string where an array or a number is expected, complex data, ...).

    A TypeError, and also a ValueError so that code which caught the ValueError these inputs
    used to raise keeps working (scikit-learn's InvalidParameterError does the same).
    """


def _describe(value: Any) -> str:
    """A short ``repr`` of a bad value for an error message, e.g. ``'abc' (str)``."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({type(value).__name__})"


def _first_index(mask: np.ndarray) -> str:
    """Where the first True of ``mask`` is: ``row 2, column 1`` for a matrix, ``index 3`` otherwise."""
    where = tuple(int(i) for i in np.argwhere(mask)[0])
    if len(where) == 2:
        return f"row {where[0]}, column {where[1]}"
    return f"index {where[0] if len(where) == 1 else where}"


def check_numeric(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as a real numeric numpy array (any shape; NaN not checked), or raise naming ``name``.

    None is a ValueError (the argument is missing); a string, a mapping, complex numbers or
    non-numeric objects are an :class:`InputTypeError`; ragged nested lists are a ValueError.
    Booleans and integers are returned as they are (callers convert to float).
    """
    if value is None:
        raise ValueError(f"{name} is required but None was given.")
    if isinstance(value, (str, bytes)):
        raise InputTypeError(f"{name} must be a numeric array; got the string {_describe(value)}.")
    if sparse.issparse(value):  # before the dict test: a dok_matrix is a dict
        raise InputTypeError(
            f"{name} must be a dense array; got a sparse {type(value).__name__} (sparse input is not supported; "
            "convert it with .toarray())."
        )
    if isinstance(value, dict):
        raise InputTypeError(f"{name} must be a numeric array; got a {type(value).__name__}.")
    try:
        arr = np.asarray(value)
    except ValueError:
        raise ValueError(
            f"{name} must be a rectangular array (the same number of values in every row); got nested "
            "sequences of different lengths."
        ) from None
    kind = arr.dtype.kind
    if kind == "c":
        # The closing words are scikit-learn's, which its estimator checks look for.
        raise InputTypeError(f"{name} must hold real numbers; got complex values (dtype {arr.dtype}): Complex data not supported.")
    if kind in "biuf":
        return arr
    if kind in "OUS":
        try:
            return arr.astype(np.float64)
        except (ValueError, TypeError) as exc:
            bad = next((v for v in arr.ravel() if not _is_real(v)), None)
            raise InputTypeError(
                f"{name} must be numeric; found the non-numeric value {_describe(bad)} (dtype {arr.dtype}): {exc}"
            ) from None
    raise InputTypeError(f"{name} must be numeric; got dtype {arr.dtype}.")


def _is_real(v: Any) -> bool:
    try:
        float(v)
    except (ValueError, TypeError):
        return False
    return not isinstance(v, complex)


def check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    """Raise a ValueError naming ``name`` and the first bad entry if ``arr`` holds NaN or infinity."""
    if arr.dtype.kind in "biu":
        return arr
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum()):  # fast path, as scikit-learn's: a finite sum means finite entries
            return arr
    finite = np.isfinite(arr)
    if not finite.all():
        bad = ~finite
        raise ValueError(
            f"{name} must be finite but contains NaN or infinity ({int(bad.sum())} value(s), the first at "
            f"{_first_index(bad)}); remove or impute them."
        )
    return arr


def check_float_array(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 array (of ``ndim`` dimensions, if given), or raise naming ``name``."""
    arr = check_numeric(value, name)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got a {arr.ndim}-D array of shape {arr.shape}.")
    return check_finite(arr.astype(np.float64, copy=False), name)


def check_matrix(X: ArrayLike, name: str = "X", min_samples: int = 2) -> np.ndarray:
    """Return ``X`` as a finite 2-D float array with at least ``min_samples`` rows and one column.

    float32 stays float32; other numeric types become float64. Raises ValueError naming ``name``
    for None, NaN/inf, 1-D or 3-D input, too few rows or no column, and :class:`InputTypeError`
    for a string, complex numbers or non-numeric values.
    """
    arr = check_numeric(X, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got a "
            f"{arr.ndim}-D array of shape {arr.shape}. Reshape your data with "
            f"X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample."
        )
    # "n sample(s) (shape=...) while a minimum of m is required" is scikit-learn's wording, which
    # its estimator checks look for.
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"{name} has {arr.shape[0]} sample(s) (shape={arr.shape}) while a minimum of {min_samples} is "
            "required (one row per sample)."
        )
    if arr.shape[1] < 1:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required (one column per feature)."
        )
    if arr.dtype not in (np.float64, np.float32):
        arr = arr.astype(np.float64)
    return check_finite(arr, name)


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


def check_labels(y: ArrayLike, n_samples: int | None, name: str = "y") -> np.ndarray:
    """Validate a 1-D label vector with one entry per sample (any length when ``n_samples`` is None).

    Labels may be numbers or strings; a missing label (None, NaN) is a ValueError naming the row.
    """
    if y is None:
        raise ValueError(f"{name} is required but None was given.")
    if isinstance(y, (str, bytes)):
        raise InputTypeError(f"{name} must be an array of labels (one per sample); got the string {_describe(y)}.")
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels; got shape {arr.shape}.")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(f"{name} must have one label per sample ({n_samples}); got {arr.shape[0]}.")
    if arr.dtype.kind == "f":
        missing = ~np.isfinite(arr)
    elif arr.dtype == object:
        missing = np.array([v is None or (isinstance(v, float) and not np.isfinite(v)) for v in arr], dtype=bool)
    else:
        missing = np.zeros(arr.shape, dtype=bool)
    if missing.any():
        raise ValueError(
            f"{name} contains NaN or None (a missing value) at row {int(np.argmax(missing))}; every sample needs one."
        )
    return arr


def check_classes(y: np.ndarray, name: str = "y", min_classes: int = 2) -> np.ndarray:
    """Return the distinct labels of ``y``; ValueError naming ``name`` when there are fewer than ``min_classes``."""
    classes = np.unique(y)
    if len(classes) < min_classes:
        found = "no class" if len(classes) == 0 else f"{len(classes)} class(es) ({', '.join(repr(c.item()) for c in classes[:3])})"
        raise ValueError(f"{name} must hold at least {min_classes} classes here; got {found}.")
    return classes


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


def check_n_components(n_components: Any, max_value: int, name: str = "n_components", *, allow_auto: bool = False) -> Any:
    """Check that ``n_components`` is an integer in ``1..max_value`` (returned as an int).

    ``allow_auto``: the string ``"auto"`` is accepted too and returned as it is, for the caller
    to estimate (:func:`~contrastive_gmm.learners.rank.resolve_n_components`); any other string
    is an :class:`InputTypeError` saying so.
    """
    if allow_auto and isinstance(n_components, str):
        if n_components != "auto":
            raise InputTypeError(f"{name} must be an integer or 'auto' (estimated from the pairs); got {n_components!r}.")
        return n_components
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


def check_reg(value: Any, name: str = "reg") -> float | str:
    """Check a covariance regularisation: ``"auto"`` (Ledoit-Wolf shrinkage) or a finite number > 0 (a ridge)."""
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"{name} must be 'auto' or a finite number > 0; got {value!r}.")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be 'auto' or a positive number; got {value!r} ({type(value).__name__}).")
    return check_positive(value, name)


def check_positive_int(value: Any, name: str) -> int:
    """Check that ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1; got {value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value}.")
    return int(value)


def check_nonnegative_int(value: Any, name: str) -> int:
    """Check that ``value`` is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(f"{name} must be an integer >= 0; got {_describe(value)}.")
    if value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value}.")
    return int(value)


def check_probability(value: Any, name: str) -> float:
    """Check that ``value`` is a real number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1]; got {value!r} ({type(value).__name__}).")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1]; got {value}.")
    return float(value)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of the allowed strings (:class:`InputTypeError` when it is not a string)."""
    if not isinstance(value, str):
        raise InputTypeError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)} (a string); got {_describe(value)}."
        )
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}.")
    return value


def check_path(path: Any, name: str = "path") -> str:
    """Return a file name given as ``str`` or ``os.PathLike`` as a ``str``; :class:`InputTypeError` otherwise."""
    if isinstance(path, str):
        return path
    if hasattr(path, "__fspath__"):
        text = path.__fspath__()
        if isinstance(text, str):
            return text
    raise InputTypeError(f"{name} must be a file name (a str or pathlib.Path); got {_describe(path)}.")


def check_spd(cov: ArrayLike, dim: int | None = None, name: str = "covariance") -> np.ndarray:
    """Check a symmetric positive-definite matrix (optionally of size ``dim``)."""
    C = check_numeric(cov, name).astype(np.float64)
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
    w = check_numeric(weights, "weights").astype(np.float64)
    if w.shape != (n_components,):
        raise ValueError(f"weights must have one entry per component ({n_components}); got shape {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"weights must be finite and non-negative; got {w}.")
    if not np.isclose(w.sum(), 1.0, atol=1e-8):
        raise ValueError(f"weights must sum to 1; they sum to {w.sum():.6g}.")
    return w / w.sum()


def check_sample_weight(sample_weight: ArrayLike | None, n_samples: int) -> np.ndarray | None:
    """Validate per-row weights: a 1-D float64 copy of ``n_samples`` finite, non-negative numbers, not all 0.

    None stays None (every row weighs 1). The input is never modified: the copy is what the
    learners use (scikit-learn checks that a fit leaves ``sample_weight`` as it was). A scalar
    is one weight for every row, as scikit-learn reads it.

    >>> check_sample_weight([1, 2, 0], 3).tolist()
    [1.0, 2.0, 0.0]
    >>> check_sample_weight(None, 3) is None
    True
    """
    if sample_weight is None:
        return None
    w = check_numeric(sample_weight, "sample_weight").astype(np.float64)  # astype copies
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.ndim != 1 or w.shape[0] != n_samples:
        # "sample_weight.shape == ... expected (n,)" is scikit-learn's wording, which its checks look for.
        raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n_samples},): one weight per row of X.")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"sample_weight must be finite; got a non-finite weight at {_first_index(~np.isfinite(w))}.")
    if np.any(w < 0):
        raise ValueError(f"sample_weight must be non-negative; got {w[w < 0][0]:g} at {_first_index(w < 0)}.")
    if not w.sum() > 0:
        raise ValueError("sample_weight is zero for every row: at least one row must have a positive weight.")
    return w


__all__ = [
    "SIMILARITIES",
    "InputTypeError",
    "check_numeric",
    "check_finite",
    "check_float_array",
    "check_matrix",
    "check_paired",
    "check_labels",
    "check_classes",
    "check_index_pairs",
    "check_n_components",
    "check_positive",
    "check_reg",
    "check_positive_int",
    "check_nonnegative_int",
    "check_probability",
    "check_choice",
    "check_path",
    "check_spd",
    "check_weights",
    "check_sample_weight",
]
