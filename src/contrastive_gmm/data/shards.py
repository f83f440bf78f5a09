"""Data sets stored as shards: many ``.npz`` files, each holding row-paired views ``X`` and ``X2``.

Embedding sets too large for one file (or one machine) are usually written as shards. This
module finds them (:func:`expand_shards`, a glob), reads their shapes from the archive headers
without loading them (:func:`shard_shapes`), and gives them either as lazy Dask arrays, one
block per shard, for the closed forms' Dask reduction (:func:`dask_views`), or, for one process
of a ``torch.distributed`` fit, as the rows of the shards that process is assigned
(:func:`read_shards`, :func:`rank_shards`). Each shard is an ``.npz`` archive with ``X`` (n_i, d)
and ``X2`` (n_i, d2), row i of one the positive of row i of the other; every shard has the same
widths.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> rng = np.random.default_rng(0)
>>> for i, rows in enumerate((5, 3)):
...     np.savez(folder / f"part{i}.npz", X=rng.normal(size=(rows, 4)), X2=rng.normal(size=(rows, 2)))
>>> paths = expand_shards(str(folder / "part*.npz"))
>>> [shape for shape in shard_shapes(paths)]
[((5, 4), (5, 2)), ((3, 4), (3, 2))]
>>> X, X2 = read_shards(paths)
>>> X.shape, X2.shape
((8, 4), (8, 2))
"""

from __future__ import annotations

import glob
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from contrastive_gmm.data.datasets import DataFileError

#: The arrays of a shard: the first view and its row-paired second view.
SHARD_KEYS = ("X", "X2")


def is_glob(pattern: str) -> bool:
    """True when ``pattern`` holds a glob wildcard (``*``, ``?`` or ``[``): it names shards, not one file."""
    return any(c in pattern for c in "*?[")


def expand_shards(pattern: str) -> list[Path]:
    """The ``.npz`` shard files ``pattern`` matches, sorted by name (DataFileError when none, or another kind).

    >>> expand_shards("/nonexistent/part*.npz")
    Traceback (most recent call last):
    ...
    contrastive_gmm.data.datasets.DataFileError: no shard file matches '/nonexistent/part*.npz'.
    """
    paths = sorted(Path(p) for p in glob.glob(pattern))
    if not paths:
        raise DataFileError(f"no shard file matches {pattern!r}.")
    others = [p for p in paths if p.suffix.lower() != ".npz" or not p.is_file()]
    if others:
        raise DataFileError(f"shards must be .npz files holding X and X2; {str(others[0])!r} (matched by {pattern!r}) is not.")
    return paths


def _header(archive: zipfile.ZipFile, key: str, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of the array ``key`` of an .npz archive, from its .npy header alone."""
    try:
        member = archive.open(f"{key}.npy")
    except KeyError:
        raise DataFileError(f"{path}: a shard needs the arrays {' and '.join(SHARD_KEYS)}; {key!r} is missing.") from None
    with member:
        version = np.lib.format.read_magic(member)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(member)
    return shape, dtype


def shard_shapes(paths: Sequence[Path]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Each shard's ``(X.shape, X2.shape)``, read from the headers; DataFileError for a bad or inconsistent shard."""
    return [shapes for shapes, _ in _shard_headers(paths)]


def _shard_headers(paths: Sequence[Path]) -> list[tuple[tuple[tuple[int, ...], tuple[int, ...]], tuple[np.dtype, np.dtype]]]:
    """Each shard's ``((X.shape, X2.shape), (X.dtype, X2.dtype))`` from one read of its headers, checked."""
    out = []
    for path in paths:
        try:
            with zipfile.ZipFile(path) as archive:
                (sx, dx), (sy, dy) = _header(archive, "X", path), _header(archive, "X2", path)
        except DataFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - a corrupt archive can raise almost anything (zip, zlib, struct)
            raise DataFileError(f"{path}: cannot be read as an .npz shard ({type(exc).__name__}: {exc}).") from None
        for key, shape, dtype in (("X", sx, dx), ("X2", sy, dy)):
            if len(shape) != 2 or dtype.kind not in "fiu":
                raise DataFileError(f"{path}: {key} must be a 2-D numeric array; got shape {shape} of {dtype}.")
        if sx[0] != sy[0]:
            raise DataFileError(f"{path}: X and X2 must be row-paired; got {sx[0]} and {sy[0]} rows.")
        if out and (sx[1], sy[1]) != (out[0][0][0][1], out[0][0][1][1]):
            raise DataFileError(
                f"{path}: every shard must have the same widths; this one has {sx[1]} and {sy[1]} features, "
                f"{paths[0]} {out[0][0][0][1]} and {out[0][0][1][1]}."
            )
        out.append(((tuple(sx), tuple(sy)), (dx, dy)))
    return out


def _load(path: Path, key: str) -> np.ndarray:
    """One array of one shard, as float32 or float64 (runs where Dask puts the task)."""
    with np.load(path, allow_pickle=False) as archive:
        a = archive[key]
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def dask_views(paths: Sequence[Path]) -> tuple[Any, Any]:
    """``X`` and ``X2`` of all the shards as lazy Dask arrays, one row block per shard (nothing is read yet).

    Each block is read by the task that needs it, on whichever worker runs it: a cluster's
    workers must see the same files (a shared file system).
    """
    import dask
    import dask.array as da

    headers = _shard_headers(paths)
    views = []
    for v, key in enumerate(SHARD_KEYS):
        # What _load returns: float32 stays float32, anything else becomes float64.
        dtype = np.result_type(*(np.float32 if dtypes[v] == np.float32 else np.float64 for _, dtypes in headers))
        blocks = [
            da.from_delayed(dask.delayed(_load, pure=True)(p, key), shape=shapes[v], dtype=dtype)
            for p, (shapes, _) in zip(paths, headers)
        ]
        views.append(da.concatenate(blocks, axis=0))
    return views[0], views[1]


def rank_shards(paths: Sequence[Path], rank: int, world_size: int) -> list[Path]:
    """The shards process ``rank`` of ``world_size`` reads: every ``world_size``-th one from ``rank`` on.

    >>> rank_shards([Path("a"), Path("b"), Path("c")], 1, 2)
    [PosixPath('b')]
    """
    if len(paths) < world_size:
        raise DataFileError(f"{world_size} processes need at least as many shards; got {len(paths)}.")
    return list(paths[rank::world_size])


def read_shards(paths: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
    """``X`` and ``X2`` of the given shards, loaded and stacked in order (one process's part of a data set)."""
    shard_shapes(paths)  # the same checks as the lazy path, before reading anything
    parts = [(_load(p, "X"), _load(p, "X2")) for p in paths]
    return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])


__all__ = ["SHARD_KEYS", "is_glob", "expand_shards", "shard_shapes", "dask_views", "rank_shards", "read_shards"]
