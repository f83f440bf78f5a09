"""Real data with no download: scikit-learn's bundled data sets, a two-view digits set, and users' files.

Everything returns plain numpy arrays. User files (``.npz``, ``.npy``, ``.csv``, ``.parquet``)
hold features and, optionally, labels, group ids (rows of a group are views of one object),
explicit positive-pair indices or a second view, row-paired with the first:

- ``.npz``: arrays ``X`` (n, d, required), ``y`` (n,), ``X2`` (n, d2), ``pairs`` (m, 2 integer
  row indices ``[anchor, positive]``) and ``groups`` (n,). Any other key is an error (a typo
  such as ``labels`` would otherwise be silently ignored). Read with ``allow_pickle=False``.
- ``.npy``: one 2-D numeric array, the features only.
- ``.csv`` (comma-separated, UTF-8, one header row) and ``.parquet`` (needs the optional
  ``pyarrow``: ``pip install 'contrastive-gmm[parquet]'``): the column ``label`` holds the
  labels, ``group`` the group ids, columns whose name starts with ``view2_`` form the second
  view, and every other column is a numeric feature. The names are arguments
  (``label_column``, ``group_column``, ``view2_prefix``). Labels that are all integers are
  returned as integers, other labels as strings. A table cannot hold pair indices: give rows
  of one pair the same ``group`` instead.

A file that cannot be used raises :class:`DataFileError` (a ValueError) with one sentence
that starts with the file's path and says what to fix: a missing key or column, a missing or
non-numeric value (with its line and column), mismatched rows, an unknown suffix.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection

import numpy as np
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    check_choice,
    check_index_pairs,
    check_labels,
    check_matrix,
    check_path,
)

REAL_DATASETS = ("digits", "wine", "breast_cancer")
DIGIT_VIEWS = ("checkerboard", "halves")
FILE_SUFFIXES = (".npz", ".npy", ".csv", ".parquet")
NPZ_KEYS = ("X", "y", "X2", "pairs", "groups")
_MISSING = {"", "na", "nan", "null", "none", "n/a"}
_PARQUET_HINT = "install it with `pip install 'contrastive-gmm[parquet]'` (or `pip install pyarrow`), or save the data as .csv or .npz"


class DataFileError(ValueError):
    """A user's data file cannot be used; the message starts with the path and says what to fix."""


@dataclass(frozen=True, eq=False)
class DataFile:
    """The arrays of a user's data file (see the module docstring for the layout).

    Attributes
    ----------
    X : (n, d) float64 array
        Features.
    y : (n,) array or None
        Labels (integers when every label is an integer, else strings).
    X2 : (n, d2) float64 array or None
        A second view, row-paired with ``X`` (positives for InfoNCE when ``d2 == d``, the
        other modality for CLIP).
    pairs : (m, 2) int64 array or None
        Explicit positive pairs ``[anchor row, positive row]``.
    groups : (n,) array or None
        Group ids: rows with the same id are views of one object.
    columns : tuple of str
        Every column (or array key) the file has, for error messages.
    path : str
        Where it was read from.
    feature_names : tuple of str or None
        Tables only: the names of ``X``'s columns, in order (None for array files).
    view2_names : tuple of str or None
        Tables only: the names of ``X2``'s columns without the second-view prefix
        (``view2_a`` is the second view's feature ``a``), so a second view written as the
        main columns of another table has the same names.
    """

    X: np.ndarray
    y: np.ndarray | None = None
    X2: np.ndarray | None = None
    pairs: np.ndarray | None = None
    groups: np.ndarray | None = None
    columns: tuple[str, ...] = ()
    path: str = ""
    feature_names: tuple[str, ...] | None = None
    view2_names: tuple[str, ...] | None = None

    @property
    def n_samples(self) -> int:
        """Number of rows."""
        return self.X.shape[0]


# ---------------------------------------------------------------------------- bundled data
def load_real_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and integer labels of a data set bundled with scikit-learn (no download).

    ``"digits"`` (1797 x 64 pixel intensities 0..16, 10 classes), ``"wine"`` (178 x 13, 3
    classes) or ``"breast_cancer"`` (569 x 30, 2 classes).

    Examples
    --------
    >>> X, y = load_real_dataset("digits")
    >>> X.shape, len(np.unique(y)), X.dtype
    ((1797, 64), 10, dtype('float64'))
    """
    from sklearn import datasets

    check_choice(name, "name", REAL_DATASETS)
    loader = {"digits": datasets.load_digits, "wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def load_digits_views(split: str = "checkerboard") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two row-paired views of each bundled 8 x 8 digit, for CLIP; returns ``(X1, X2, y)``.

    ``"checkerboard"`` (default): view 1 holds the 32 pixels with even row + column, view 2
    the 32 with odd row + column: two interleaved half-resolution samplings of the same
    digit, like two sensors offset by one pixel. Each view sees the whole digit.
    ``"halves"``: the left and right 8 x 4 halves. Each half sees only part of the digit (even
    LDA per half reaches only 0.64 / 0.77 held-out NMI, against 0.84 per checkerboard view),
    and the halves of one digit share the strokes that cross the cut, which CLIP keeps.
    Measured with ``benchmarks/real_data.py --views halves`` (k = 9, 5 seeds): CLIP on
    same-object pairs loses to per-view PCA (NMI -0.06 / -0.01) and on same-class pairs wins
    only narrowly in the left half (+0.04), hence the checkerboard default. Even on the
    checkerboard, same-object CLIP (0.63) stays below per-view PCA (0.68 / 0.72): two
    samplings of one digit share its style (stroke width, slant, ink) as well as its class.

    Examples
    --------
    >>> X1, X2, y = load_digits_views()
    >>> X1.shape, X2.shape, y.shape
    ((1797, 32), (1797, 32), (1797,))
    """
    from sklearn.datasets import load_digits

    check_choice(split, "split", DIGIT_VIEWS)
    digits = load_digits()
    images = np.asarray(digits.images, dtype=np.float64)
    n = images.shape[0]
    if split == "checkerboard":
        even = (np.add.outer(np.arange(8), np.arange(8)) % 2 == 0).ravel()
        flat = images.reshape(n, 64)
        return flat[:, even], flat[:, ~even], np.asarray(digits.target, dtype=np.int64)
    return images[:, :, :4].reshape(n, 32), images[:, :, 4:].reshape(n, 32), np.asarray(digits.target, dtype=np.int64)


# ---------------------------------------------------------------------------- checks
def _fail(path: str, message: str) -> DataFileError:
    return DataFileError(f"{path}: {message}")


def _first_bad(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _float_matrix(arr: np.ndarray, name: str, path: str, column_names: list[str] | None = None) -> np.ndarray:
    """A finite 2-D float64 array with at least one row and column, or a DataFileError saying where it is not."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise _fail(path, f"{name} must be numeric; got dtype {arr.dtype}.")
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise _fail(path, f"{name} must be a 2-D array with at least one row and one column (n_samples, n_features); got shape {arr.shape}.")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = _first_bad(bad)
        where = f"column {column_names[col]!r}" if column_names else f"column {col}"
        raise _fail(path, f"{name} has a missing or non-finite value (NaN or infinity) at row {row}, {where} ({int(bad.sum())} in all).")
    return arr


def _keys_vector(arr: np.ndarray, name: str, n: int, path: str) -> np.ndarray:
    """Labels or group ids: 1-D, one per row, no missing value; integers stay integers."""
    arr = np.asarray(arr)
    try:
        arr = check_labels(arr, n, name)
    except ValueError as exc:
        raise _fail(path, str(exc)) from None
    if arr.dtype.kind == "f":  # check_labels has already refused NaN
        if np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)  # 1.0, 2.0 from a float column are integer labels
    elif arr.dtype.kind not in "biuUS":
        raise _fail(path, f"{name} must hold numbers or strings; got dtype {arr.dtype}.")
    return arr


def _assemble(
    path: str,
    arrays: dict[str, np.ndarray | None],
    columns: tuple[str, ...],
    feature_names: list[str] | None = None,
    view2_names: list[str] | None = None,
    view2_prefix: str = "",
) -> DataFile:
    """Validate every array against ``X``'s row count and build the :class:`DataFile`."""
    X = _float_matrix(arrays["X"], "X", path, feature_names)
    n = X.shape[0]
    X2 = arrays.get("X2")
    if X2 is not None:
        X2 = _float_matrix(X2, "X2 (the second view)", path, view2_names)
        if X2.shape[0] != n:
            raise _fail(path, f"the second view X2 must be row-paired with X; got {X2.shape[0]} rows and {n}.")
    y = arrays.get("y")
    y = None if y is None else _keys_vector(y, "y (labels)", n, path)
    groups = arrays.get("groups")
    groups = None if groups is None else _keys_vector(groups, "groups", n, path)
    pairs = arrays.get("pairs")
    if pairs is not None:
        try:
            pairs = check_index_pairs(pairs, n)
        except (ValueError, TypeError) as exc:
            raise _fail(path, str(exc)) from None
    names = None if feature_names is None else tuple(feature_names)
    names2 = None if view2_names is None or X2 is None else tuple(c[len(view2_prefix):] or c for c in view2_names)
    return DataFile(X=X, y=y, X2=X2, pairs=pairs, groups=groups, columns=columns, path=path, feature_names=names, view2_names=names2)


# ---------------------------------------------------------------------------- formats
def _read_npz(path: str) -> DataFile:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise _fail(path, "is a single .npy array, not an .npz archive; rename it to .npy.")
            keys = tuple(archive.files)
            unknown = [k for k in keys if k not in NPZ_KEYS]
            if unknown:
                raise _fail(path, f"unexpected array {unknown[0]!r}; an .npz data file may hold only {', '.join(NPZ_KEYS)} (X required).")
            if "X" not in keys:
                raise _fail(path, f"missing the array 'X' (the features); it has {', '.join(keys) or 'no arrays'}.")
            arrays = {k: archive[k] for k in keys}
    except DataFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt archive can raise almost anything (zip, zlib, struct, pickle refusal)
        raise _fail(path, f"cannot be read as an .npz archive ({type(exc).__name__}: {_one_line(exc)}).") from None
    return _assemble(path, arrays, keys)


def _read_npy(path: str) -> DataFile:
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - see _read_npz
        raise _fail(path, f"cannot be read as a .npy array ({type(exc).__name__}: {_one_line(exc)}).") from None
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise _fail(path, "is an .npz archive, not a single .npy array; rename it to .npz.")
    return _assemble(path, {"X": arr}, ("X",))


def _parse_numbers(values: np.ndarray, column: str, path: str, where: Callable[[int], str]) -> np.ndarray:
    """A table column as float64; strings are parsed and a missing or non-numeric cell is reported with its line."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    try:  # fast path: numpy parses the whole column at once
        out = values.astype(np.float64)
        if not np.isnan(out).any():
            return out
    except (ValueError, TypeError):
        pass
    # Slow path, only for a column with a problem: find the first bad cell to name its line.
    out = np.empty(len(values), dtype=np.float64)
    for i, cell in enumerate(values):
        text = "" if cell is None else str(cell).strip()
        if text.lower() in _MISSING or (isinstance(cell, float) and math.isnan(cell)):
            raise _fail(path, f"missing value in column {column!r} at {where(i)}.")
        try:
            out[i] = float(text)
        except ValueError:
            raise _fail(path, f"column {column!r} must be numeric; found {text[:40]!r} at {where(i)}.") from None
    return out


def _parse_keys(values: np.ndarray, column: str, path: str, where: Callable[[int], str]) -> np.ndarray:
    """A label or group column: integers if every value is one, else strings; no missing value."""
    if values.dtype.kind in "biuf":
        return values
    texts = ["" if v is None else str(v).strip() for v in values]
    for i, text in enumerate(texts):
        if text.lower() in _MISSING:
            raise _fail(path, f"missing value in column {column!r} at {where(i)}.")
    try:
        return np.array([int(t) for t in texts], dtype=np.int64)
    except (ValueError, OverflowError):
        return np.array(texts, dtype=str)


def _from_columns(
    path: str,
    names: list[str],
    get: Callable[[str], np.ndarray],
    label_column: str | None,
    group_column: str | None,
    view2_prefix: str,
    where: Callable[[int], str],
    required: Collection[str] = (),
) -> DataFile:
    """Split a table's columns by the naming convention and validate them; ``required`` see :func:`load_data_file`."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        if not name:
            raise _fail(path, f"column {i + 1} of the header has no name.")
        if name in seen:
            raise _fail(path, f"the header names column {name!r} twice.")
        seen.add(name)
    # A column the user named but the table lacks would silently change what the file means
    # (no labels, or a label column read as a feature), so it is an error naming that column.
    for role, column in (("label_column", label_column), ("group_column", group_column)):
        if role in required and column not in seen:
            raise _fail(path, f"has no column {column!r} (asked for as the {role.split('_')[0]} column); its columns are {_list(names)}.")
    special = {label_column, group_column} - {None}
    view2 = [c for c in names if view2_prefix and c.startswith(view2_prefix) and c not in special]
    if "view2_prefix" in required and not view2:
        raise _fail(path, f"has no column starting with {view2_prefix!r} (asked for as the second-view prefix); its columns are {_list(names)}.")
    features = [c for c in names if c not in special and c not in view2]
    if not features:
        raise _fail(path, f"has no feature column (columns: {', '.join(names)}); every column except {label_column!r}, {group_column!r} and {view2_prefix}* is a feature.")
    arrays: dict[str, np.ndarray | None] = {
        "X": np.column_stack([_parse_numbers(get(c), c, path, where) for c in features]),
        "X2": np.column_stack([_parse_numbers(get(c), c, path, where) for c in view2]) if view2 else None,
        "y": _parse_keys(get(label_column), label_column, path, where) if label_column in names else None,
        "groups": _parse_keys(get(group_column), group_column, path, where) if group_column in names else None,
    }
    return _assemble(path, arrays, tuple(names), features, view2, view2_prefix)


def _read_csv(path: str, **convention: object) -> DataFile:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = csv.reader(handle)
            header = next(rows, None)
            if header is None:
                raise _fail(path, "is empty; a .csv data file needs a header row and at least one data row.")
            names = [h.strip() for h in header]
            body: list[list[str]] = []
            lines: list[int] = []
            for row in rows:
                if not any(cell.strip() for cell in row):
                    continue  # blank lines carry no row
                if len(row) != len(names):
                    raise _fail(path, f"line {rows.line_num} has {len(row)} fields but the header has {len(names)}.")
                body.append(row)
                lines.append(rows.line_num)
    except DataFileError:
        raise
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _fail(path, f"cannot be read as UTF-8 comma-separated text ({type(exc).__name__}: {_one_line(exc)}).") from None
    if not body:
        raise _fail(path, "has a header but no data rows.")
    table = np.array(body, dtype=str)
    index = {name: i for i, name in enumerate(names)}
    return _from_columns(path, names, lambda c: table[:, index[c]], where=lambda i: f"line {lines[i]}", **convention)


def _read_parquet(path: str, **convention: object) -> DataFile:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise _fail(path, f"reading .parquet files needs the optional package pyarrow; {_PARQUET_HINT}.") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises its own error classes for corrupt files
        raise _fail(path, f"cannot be read as a Parquet file ({type(exc).__name__}: {_one_line(exc)}).") from None
    if table.num_rows == 0:
        raise _fail(path, "has no rows.")
    names = [str(c) for c in table.column_names]

    def get(column: str) -> np.ndarray:
        values = table.column(names.index(column)).to_numpy(zero_copy_only=False)
        return values if values.dtype.kind in "biufUS" else np.asarray(values, dtype=object)

    return _from_columns(path, names, get, where=lambda i: f"row {i}", **convention)


def _list(names: list[str], limit: int = 8) -> str:
    """Up to ``limit`` column names for a one-line message."""
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def load_data_file(
    path: str | os.PathLike,
    *,
    label_column: str | None = "label",
    group_column: str | None = "group",
    view2_prefix: str = "view2_",
    required: Collection[str] = (),
) -> DataFile:
    """Read a user's data file (``.npz``, ``.npy``, ``.csv`` or ``.parquet``) into validated arrays.

    See the module docstring for each format's layout. Raises :class:`DataFileError` (a
    ValueError whose message starts with the path) for anything that cannot be used.
    ``required`` names the conventions among ``"label_column"``, ``"group_column"`` and
    ``"view2_prefix"`` that must match a column (those a user chose explicitly): by default
    a table without a ``label`` column simply has no labels, but a label column the user
    asked for and the table lacks is an error naming it, as is any of them for an array
    file, which has no columns.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.csv")
    >>> _ = open(path, "w").write("a,b,label,view2_c\\n1,2,cat,5\\n3,4,dog,6\\n")
    >>> data = load_data_file(path)
    >>> data.X.tolist(), data.y.tolist(), data.X2.tolist()
    ([[1.0, 2.0], [3.0, 4.0]], ['cat', 'dog'], [[5.0], [6.0]])
    """
    text = check_path(path)
    suffix = Path(text).suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise _fail(text, f"unsupported file type {suffix or '(no suffix)'!r}; use one of {', '.join(FILE_SUFFIXES)}.")
    if not os.path.isfile(text):
        raise _fail(text, "no such file.")
    unknown = sorted(set(required) - {"label_column", "group_column", "view2_prefix"})
    if unknown:
        raise ValueError(f"required may hold only 'label_column', 'group_column' and 'view2_prefix'; got {unknown[0]!r}.")
    if required and suffix in (".npz", ".npy"):
        role = next(r for r in ("label_column", "group_column", "view2_prefix") if r in required)
        what = {
            "label_column": f"the label column {label_column!r}",
            "group_column": f"the group column {group_column!r}",
            "view2_prefix": f"the second-view prefix {view2_prefix!r}",
        }[role]
        where = "labels are its array 'y', groups 'groups', a second view 'X2'" if suffix == ".npz" else "it holds features only"
        raise _fail(text, f"{what} applies to tables (.csv, .parquet), but a {suffix} file has no columns ({where}).")
    if suffix == ".npz":
        return _read_npz(text)
    if suffix == ".npy":
        return _read_npy(text)
    convention = dict(label_column=label_column, group_column=group_column, view2_prefix=view2_prefix, required=tuple(required))
    return _read_csv(text, **convention) if suffix == ".csv" else _read_parquet(text, **convention)


def check_output_path(path: str | os.PathLike, *, two_views: bool = False, name: str = "path") -> Path:
    """Check, before any work, that :func:`write_embedding` can write to ``path``; returns it as a Path.

    Refuses an unknown suffix, ``.npy`` for two views' embeddings (it holds one array) and
    ``.parquet`` without pyarrow, with a ValueError naming ``name`` (the CLI passes its option).

    >>> check_output_path("z.xlsx", name="--out")
    Traceback (most recent call last):
    ...
    ValueError: --out: unsupported output type '.xlsx' for z.xlsx; use one of .npz, .npy, .csv, .parquet.
    """
    out = Path(check_path(path, name))
    suffix = out.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise ValueError(f"{name}: unsupported output type {suffix or '(no suffix)'!r} for {out}; use one of {', '.join(FILE_SUFFIXES)}.")
    if suffix == ".npy" and two_views:
        raise ValueError(f"{name}: a .npy file holds one array; write the two views' embeddings to .npz or .csv instead of {out}.")
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError(f"{name}: writing .parquet files needs the optional package pyarrow; {_PARQUET_HINT}.") from None
    return out


def write_embedding(path: str | os.PathLike, Z: ArrayLike, *, Z2: ArrayLike | None = None, y: ArrayLike | None = None) -> Path:
    """Write an embedding in the data-file layout, so :func:`load_data_file` reads it back.

    ``.npz``: arrays ``X`` (= ``Z``), ``X2`` (= ``Z2``) and ``y``. ``.csv``: columns ``z0..``,
    ``view2_z0..`` and ``label``, full float precision. ``.npy``: ``Z`` only (an error when
    ``Z2`` is given). ``.parquet``: as ``.csv``, with pyarrow. Returns the path written.

    Examples
    --------
    >>> import os, tempfile
    >>> path = write_embedding(os.path.join(tempfile.mkdtemp(), "z.csv"), np.eye(2), y=[3, 4])
    >>> load_data_file(path).X.tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    out = check_output_path(path, two_views=Z2 is not None)
    suffix = out.suffix.lower()
    Z = check_matrix(Z, "Z", min_samples=1).astype(np.float64, copy=False)
    Z2 = None if Z2 is None else check_matrix(Z2, "Z2", min_samples=1).astype(np.float64, copy=False)
    if Z2 is not None and Z2.shape[0] != Z.shape[0]:
        raise ValueError(f"Z2 must be row-paired with Z; got {Z2.shape[0]} and {Z.shape[0]} rows.")
    y = None if y is None else check_labels(y, Z.shape[0])
    if suffix == ".npz":
        arrays = {"X": Z, **({"X2": Z2} if Z2 is not None else {}), **({"y": y} if y is not None else {})}
        with open(out, "wb") as handle:
            np.savez(handle, **arrays)
        return out
    if suffix == ".npy":
        with open(out, "wb") as handle:
            np.save(handle, Z, allow_pickle=False)
        return out
    columns = {f"z{j}": Z[:, j] for j in range(Z.shape[1])}
    if Z2 is not None:
        columns.update({f"view2_z{j}": Z2[:, j] for j in range(Z2.shape[1])})
    if y is not None:
        columns["label"] = y
    if suffix == ".parquet":
        import pyarrow as pa  # check_output_path made sure it is installed
        import pyarrow.parquet as pq

        pq.write_table(pa.table(columns), out)
        return out
    # repr() of a Python float round-trips exactly; labels are written as text.
    cells = [[repr(float(v)) for v in col] if np.asarray(col).dtype.kind == "f" else [str(v) for v in col] for col in columns.values()]
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(columns))
        writer.writerows(zip(*cells))
    return out


__all__ = [
    "REAL_DATASETS",
    "DIGIT_VIEWS",
    "FILE_SUFFIXES",
    "DataFileError",
    "DataFile",
    "load_real_dataset",
    "load_digits_views",
    "load_data_file",
    "check_output_path",
    "write_embedding",
]
