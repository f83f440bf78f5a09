"""Streaming second moments of row-paired views: chunk by chunk, mergeable, exact.

Every closed form (pair CCA, CCA, PLS-SVD) and every trained learner's whitening needs only
means, covariances and one cross-covariance, plus, for the Ledoit-Wolf shrinkage, one
scalar fourth moment. :class:`PairedMoments` accumulates them from chunks of rows (a
memory-mapped file, an HDF5 or zarr dataset, a list of shards, ``partial_fit`` calls) with
memory bounded by the chunk, merges accumulators built elsewhere (Dask blocks, processes),
and finishes into exactly what the in-memory formulas give.

Why sums about a fixed reference point instead of running means: sums merge by addition
(any order, any split: the chunking never changes the answer beyond rounding), and taking the
reference from the first chunk keeps the float64 sums free of the cancellation a large mean
would cause. ``fourth=True`` also keeps ``sum w u^2 u^T`` and ``sum w u^2 (u^2)^T`` (two d x d
matrices per view), from which the Ledoit-Wolf intensity about any centre and scale expands
exactly: that is what a single pass (``partial_fit``) needs. A ``fit`` over the whole source
instead takes a second, O(n d) pass for that scalar (:func:`fourth_moment_sum`), which is
cheaper than two more d x d products per chunk.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> X, Y = rng.normal(size=(100, 3)), rng.normal(size=(100, 2))
>>> m = PairedMoments()
>>> for start in range(0, 100, 30):  # four chunks
...     _ = m.update(X[start : start + 30], Y[start : start + 30])
>>> mx, my, Sxx, Syy, Sxy = m.two_view()
>>> bool(np.allclose(Sxy, (X - X.mean(0)).T @ (Y - Y.mean(0)) / 100))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import numpy as np

from contrastive_gmm._validation import check_finite

#: The ridge kept under ``reg="auto"``: it only guards the solvers when the shrinkage estimate is 0.
_AUTO_RIDGE = 1e-6

#: Elements per view in one chunk of a streamed pass: 8M float64 values, 64 MiB (16384 rows at d = 512).
CHUNK_ELEMENTS = 1 << 23


def chunk_rows(*widths: int) -> int:
    """Rows per chunk for views of these widths: :data:`CHUNK_ELEMENTS` over the widest, at least 256.

    >>> chunk_rows(512, 256), chunk_rows(4)
    (16384, 2097152)
    """
    return max(256, CHUNK_ELEMENTS // max(1, *widths))


def is_dask(X: object) -> bool:
    """True for a ``dask.array.Array`` (checked without importing Dask)."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "chunks") and hasattr(X, "dask")


def is_chunkable(X: object) -> bool:
    """True for a 2-D array-like that slices into numpy rows without loading the rest.

    A numpy array (memory-mapped or not), an HDF5 or zarr dataset, any object with ``shape``,
    ``dtype`` and ``__getitem__``; not lists, pandas frames or Dask arrays (which have their own path).
    """
    if is_dask(X) or hasattr(X, "iloc"):
        return False
    shape = getattr(X, "shape", None)
    return (
        shape is not None and len(shape) == 2 and hasattr(X, "dtype") and hasattr(X, "__getitem__")
        and np.dtype(X.dtype).kind in "fiu"
    )


def iter_chunks(
    *views: Any, weights: np.ndarray | None = None, rows: int | None = None, names: tuple[str, ...] | None = None
) -> Iterator[tuple]:
    """Row-aligned chunks ``(a, b, ..., w)`` of ``views`` as finite float numpy arrays (``w`` None without weights).

    Each chunk is read with plain slicing (``X[start:stop]``), so a memory-mapped file is paged in
    one chunk at a time; float32 stays float32, other numbers become float64. NaN or inf raise
    ValueError naming the view and the first bad row.
    """
    n = views[0].shape[0]
    rows = rows or chunk_rows(*(v.shape[1] for v in views))
    names = names or (("X", "y") if len(views) == 2 else tuple(f"view {i}" for i in range(len(views))))
    for start in range(0, n, rows):
        out = []
        for name, view in zip(names, views):
            a = np.asarray(view[start : start + rows])
            if a.dtype not in (np.float32, np.float64):
                a = a.astype(np.float64)
            try:
                check_finite(a, name)
            except ValueError:
                # The row in the whole source, not in this chunk: the one a user can look up.
                bad = ~np.isfinite(a)
                row, col = (int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{name} must be finite but contains NaN or infinity (the first at row {start + row}, column {col}); "
                    "remove or impute them."
                ) from None
            out.append(a)
        out.append(None if weights is None else weights[start : start + rows])
        yield tuple(out)


@dataclass
class _ViewSums:
    """Weighted sums of one view's rows ``u = x - ref``: order 1 and 2, and optionally 3 and 4."""

    ref: np.ndarray
    s1: np.ndarray
    s2: np.ndarray  # sum w u u^T
    s21: np.ndarray | None = None  # sum w u_j^2 u_l
    s22: np.ndarray | None = None  # sum w u_j^2 u_l^2

    @classmethod
    def empty(cls, ref: np.ndarray, fourth: bool) -> "_ViewSums":
        d = ref.shape[0]
        z = (lambda: np.zeros((d, d))) if fourth else (lambda: None)
        return cls(ref, np.zeros(d), np.zeros((d, d)), z(), z())

    def add(self, other: "_ViewSums") -> None:
        self.s1 += other.s1
        self.s2 += other.s2
        if self.s21 is not None:
            if other.s21 is None:
                raise ValueError("cannot merge moments without fourth-order sums into ones that keep them.")
            self.s21 += other.s21
            self.s22 += other.s22


@dataclass
class PairedMoments:
    """Running weighted moments of two row-paired views ``(x_i, y_i)``, each pair weighing ``w_i``.

    ``update`` adds a chunk of rows, ``merge`` adds another accumulator (same references), and
    the finishers return float64 moments exactly as the in-memory formulas would:
    :meth:`two_view` (each view about its own mean, as CCA needs) and :meth:`pooled` (both views
    in one space about their pooled mean, as pair CCA needs). ``fourth=True`` keeps what
    :meth:`fourth_sum` needs to give the Ledoit-Wolf scalar without a second pass.

    Parameters
    ----------
    fourth : bool
        Also accumulate the third and fourth order sums (two more d x d products a chunk and view).
    """

    fourth: bool = False
    total: float = 0.0
    rows: int = 0
    x: _ViewSums | None = None
    y: _ViewSums | None = None
    sxy: np.ndarray | None = field(default=None, repr=False)  # sum w u v^T

    def _start(self, a: np.ndarray, b: np.ndarray, ref_x: np.ndarray | None, ref_y: np.ndarray | None) -> None:
        # The first chunk's means as the references: the sums then hold deviations, not raw values.
        rx = a.mean(axis=0, dtype=np.float64) if ref_x is None else np.asarray(ref_x, dtype=np.float64)
        ry = b.mean(axis=0, dtype=np.float64) if ref_y is None else np.asarray(ref_y, dtype=np.float64)
        self.x, self.y = _ViewSums.empty(rx, self.fourth), _ViewSums.empty(ry, self.fourth)
        self.sxy = np.zeros((rx.shape[0], ry.shape[0]))

    def update(
        self, a: np.ndarray, b: np.ndarray, w: np.ndarray | None = None, *, ref: tuple[np.ndarray, np.ndarray] | None = None,
        scratch: dict | None = None,
    ) -> "PairedMoments":
        """Add the pairs ``(a[i], b[i])`` (finite 2-D float arrays), pair i weighing ``w[i]`` (None: 1).

        ``ref``: the reference points to use if this is the first chunk (default: its means);
        accumulators that will be merged need the same ones. ``scratch``: a dict the caller keeps
        across chunks of one shape, so the deviations reuse their buffers (a pass saves an
        allocation per chunk and view).
        """
        if b.shape[0] != a.shape[0] or (w is not None and w.shape[0] != a.shape[0]):
            # Checked before any sum changes: a refused chunk leaves the accumulator as it was.
            raise ValueError(
                f"a chunk's views (and weights) must have the same rows; got {a.shape[0]}, {b.shape[0]}"
                + ("" if w is None else f" and {w.shape[0]}") + "."
            )
        if a.shape[0] == 0:
            return self
        if self.x is None:
            self._start(a, b, *(ref or (None, None)))
        elif a.shape[1] != self.x.ref.shape[0] or b.shape[1] != self.y.ref.shape[0]:
            raise ValueError(
                f"this chunk has {a.shape[1]} and {b.shape[1]} features but the earlier ones had "
                f"{self.x.ref.shape[0]} and {self.y.ref.shape[0]}."
            )
        # Deviations in the chunk's own precision: float32 data get float32 products (twice as fast; a
        # chunk's sums then carry float32 rounding, far below the sampling error of the rows), summed into float64.
        u = _deviations(a, self.x.ref, scratch, "x")
        v = _deviations(b, self.y.ref, scratch, "y")
        if w is not None:
            w = w.astype(np.result_type(u.dtype, v.dtype), copy=False)
        wu = u if w is None else u * w[:, None]
        # Column sums as a matrix-vector product (BLAS, several times faster than a reduction), into float64.
        ones = np.ones(a.shape[0], dtype=u.dtype) if w is None else w
        self.x.s1 += (ones @ u).astype(np.float64)
        self.y.s1 += (ones.astype(v.dtype, copy=False) @ v).astype(np.float64)
        self.x.s2 += wu.T @ u  # u.T @ u without weights: numpy's symmetric product (half the work)
        self.y.s2 += (v.T @ v) if w is None else (v * w[:, None]).T @ v
        self.sxy += wu.T @ v
        if self.fourth:
            for sums, c in ((self.x, u), (self.y, v)):
                sq = c * c
                wsq = sq if w is None else sq * w[:, None]
                sums.s21 += wsq.T @ c
                sums.s22 += wsq.T @ sq
        self.total += float(a.shape[0] if w is None else w.sum())
        # Rows of weight 0 add nothing, and the in-memory fits drop them: they are not counted either.
        self.rows += a.shape[0] if w is None else int(np.count_nonzero(w))
        return self

    def merge(self, other: "PairedMoments") -> "PairedMoments":
        """Add another accumulator's sums (built with the same reference points) to this one."""
        if other.x is None:
            return self
        if self.x is None:
            self.x, self.y = _ViewSums.empty(other.x.ref, self.fourth), _ViewSums.empty(other.y.ref, self.fourth)
            self.sxy = np.zeros_like(other.sxy)
        if not (np.array_equal(self.x.ref, other.x.ref) and np.array_equal(self.y.ref, other.y.ref)):
            raise ValueError("moments with different reference points cannot be merged; pass the same ref to update.")
        self.x.add(other.x)
        self.y.add(other.y)
        self.sxy += other.sxy
        self.total += other.total
        self.rows += other.rows
        return self

    def sums(self) -> list[np.ndarray]:
        """Every running sum as a list of float64 arrays (counts last), for a collective sum across processes.

        :meth:`with_sums` puts summed lists back: accumulators built with the same reference points
        in several processes, their :meth:`sums` added elementwise, give the moments of all their rows.
        """
        self._check_started()
        out = []
        for v in (self.x, self.y):
            out += [v.s1, v.s2] + ([v.s21, v.s22] if self.fourth else [])
        return out + [self.sxy, np.array([self.total, float(self.rows)])]

    def with_sums(self, sums: list[np.ndarray]) -> "PairedMoments":
        """This accumulator with its sums replaced by ``sums`` (the layout of :meth:`sums`): in place, returned."""
        self._check_started()
        it = iter(sums)
        for v in (self.x, self.y):
            v.s1, v.s2 = next(it), next(it)
            if self.fourth:
                v.s21, v.s22 = next(it), next(it)
        self.sxy = next(it)
        total, rows = next(it)
        self.total, self.rows = float(total), int(round(rows))
        return self

    def _check_started(self) -> None:
        if self.x is None:
            raise ValueError("no rows have been added to these moments.")

    def _check(self) -> None:
        if self.x is None or not self.total > 0:
            raise ValueError("no rows (or only rows of weight 0) have been added to these moments.")

    @property
    def means(self) -> tuple[np.ndarray, np.ndarray]:
        """Each view's weighted mean."""
        self._check()
        return self.x.ref + self.x.s1 / self.total, self.y.ref + self.y.s1 / self.total

    def _about(self, sums: _ViewSums, c: np.ndarray, other: _ViewSums | None = None, c_other: np.ndarray | None = None) -> np.ndarray:
        """``sum w (u - c)(u - c)^T / W`` (or the cross term with ``other``), c relative to the reference."""
        if other is None:
            out = sums.s2 - np.outer(sums.s1, c) - np.outer(c, sums.s1) + self.total * np.outer(c, c)
            return (out + out.T) / (2 * self.total)
        out = self.sxy - np.outer(sums.s1, c_other) - np.outer(c, other.s1) + self.total * np.outer(c, c_other)
        return out / self.total

    def two_view(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(mx, my, Sxx, Syy, Sxy)``: each view about its own mean (:func:`~contrastive_gmm.linalg.two_view_moments`)."""
        mx, my = self.means
        cx, cy = mx - self.x.ref, my - self.y.ref
        return mx, my, self._about(self.x, cx), self._about(self.y, cy), self._about(self.x, cx, self.y, cy)

    def pooled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, cov, cross)`` of views in one space (:func:`~contrastive_gmm.linalg.pair_moments`).

        The pooled mean and covariance are those of the 2n stacked rows; ``cross`` is the
        symmetrised cross-covariance about the pooled mean.
        """
        self._check()
        if self.x.ref.shape != self.y.ref.shape:
            raise ValueError("pooled moments need two views of the same width.")
        mx, my = self.means
        mean = (mx + my) / 2
        cx, cy = mean - self.x.ref, mean - self.y.ref
        cov = (self._about(self.x, cx) + self._about(self.y, cy)) / 2
        cross = self._about(self.x, cx, self.y, cy)
        return mean, (cov + cov.T) / 2, (cross + cross.T) / 2

    def scale(self, view: str = "x") -> np.ndarray:
        """Each feature's weighted standard deviation in ``view`` (``"x"`` or ``"y"``), 1 for a constant one."""
        mean = self.means[0 if view == "x" else 1]
        sums = self.x if view == "x" else self.y
        var = np.clip(np.diag(self._about(sums, mean - sums.ref)), 0.0, None)
        std = np.sqrt(var)
        std[std == 0] = 1.0  # StandardScaler's rule, as covariance_regularisation
        return std

    def fourth_sum(self, view: str, centre: np.ndarray, scale: np.ndarray) -> float:
        """``sum_i w_i ||(x_i - centre) / scale||^4`` over the view's rows, from the sums kept under ``fourth=True``.

        The square of ``(u - c)^2`` expanded in the sums of ``u = x - ref`` (``c = centre - ref``),
        so the result is exact for any ``centre`` and ``scale`` chosen after the pass.
        """
        self._check()
        sums = self.x if view == "x" else self.y
        if sums.s22 is None:
            raise ValueError("these moments were built with fourth=False; use fourth_moment_sum on the data.")
        c = np.asarray(centre, dtype=np.float64) - sums.ref
        v = 1.0 / np.asarray(scale, dtype=np.float64) ** 2
        m2 = np.diag(sums.s2)
        cv, c2v = c * v, float(v @ (c * c))
        return float(
            v @ sums.s22 @ v
            - 4.0 * v @ sums.s21 @ cv
            + 2.0 * float(v @ m2) * c2v
            + 4.0 * cv @ sums.s2 @ cv
            - 4.0 * float(cv @ sums.s1) * c2v
            + self.total * c2v**2
        )


def _deviations(a: np.ndarray, ref: np.ndarray, scratch: dict | None, key: str) -> np.ndarray:
    """``a - ref`` in ``a``'s precision, written into ``scratch[key]`` when it has the right shape and dtype."""
    r = ref.astype(a.dtype)
    if scratch is None:
        return a - r
    buf = scratch.get(key)
    if buf is None or buf.shape != a.shape or buf.dtype != a.dtype:
        buf = scratch[key] = np.empty_like(a)
    return np.subtract(a, r, out=buf)


def ledoit_wolf_from_sums(S: np.ndarray, fourth: float, total: float) -> float:
    """The Ledoit-Wolf intensity from the second moment ``S = sum w z z^T / W``, ``fourth = sum w ||z||^4`` and ``W``.

    The formula of :func:`~contrastive_gmm.linalg.ledoit_wolf_intensity`, from sums a streamed pass can accumulate
    (:class:`PairedMoments`).

    >>> ledoit_wolf_from_sums(np.eye(2), 8.0, 4.0)  # S is already the target (a multiple of I): no shrinkage
    0.0
    """
    p = S.shape[0]
    if p == 1:
        return 0.0
    trace = float(np.trace(S))
    mu = trace / p
    delta_ = float(np.sum(S * S))
    beta = (fourth / total - delta_) / (p * total)
    delta = (delta_ - 2.0 * mu * trace + p * mu**2) / p
    beta = min(beta, delta)  # never shrink past the target
    return 0.0 if beta <= 0 or delta <= 0 else float(beta / delta)


def fourth_moment_sum(X: Any, centre: np.ndarray, scale: np.ndarray, weights: np.ndarray | None = None, rows: int | None = None) -> float:
    """``sum_i w_i ||(x_i - centre) / scale||^4`` in one chunked pass over the rows of ``X`` (O(n d)).

    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> fourth_moment_sum(X, np.zeros(2), np.ones(2))
    17.0
    """
    out = 0.0
    inv_var = np.asarray(1.0 / np.asarray(scale, dtype=np.float64) ** 2)
    scratch: dict = {}
    for a, w in iter_chunks(X, weights=weights, rows=rows):
        # In the chunk's precision, as the moments; into one reused buffer, squared in place, then a
        # matrix-vector product for ||(x - c) / s||^2: two passes over the chunk instead of four.
        z = _deviations(a, np.asarray(centre, dtype=np.float64), scratch, "z")
        np.square(z, out=z)
        r2 = (z @ inv_var.astype(a.dtype)).astype(np.float64)
        out += float(r2 @ r2 if w is None else w @ (r2 * r2))
    return out


def accumulate(
    X: Any, Y: Any, weights: np.ndarray | None = None, *, fourth: bool = False, rows: int | None = None,
    into: PairedMoments | None = None, ref: tuple[np.ndarray, np.ndarray] | None = None,
    names: tuple[str, str] | None = None,
) -> PairedMoments:
    """The moments of row-paired ``X`` and ``Y`` (numpy, memory-mapped or any row-sliceable array), chunk by chunk.

    ``into``: an accumulator to add to (``partial_fit``); a Dask array goes to :func:`dask_moments`.
    ``ref``: the reference points of a new accumulator (default: the first chunk's means);
    accumulators built in several processes and summed need the same ones (with ``into``, its own).
    ``names``: how errors name the two views (default ``("X", "y")``).
    """
    if into is not None and into.x is not None:
        ref = (into.x.ref, into.y.ref)  # the sums being added to fix the reference points
    if is_dask(X) or is_dask(Y):
        return (into or PairedMoments(fourth=fourth)).merge(dask_moments(X, Y, weights, fourth=fourth, ref=ref))
    m = into or PairedMoments(fourth=fourth)
    scratch: dict = {}
    for a, b, w in iter_chunks(X, Y, weights=weights, rows=rows, names=names):
        m.update(a, b, w, ref=ref, scratch=scratch)
    return m


def _block_moments(a: np.ndarray, b: np.ndarray, w: np.ndarray | None, ref: tuple, fourth: bool) -> PairedMoments:
    """One Dask block pair's moments (runs on a worker)."""
    a, b = np.asarray(a), np.asarray(b)
    a = a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)
    b = b if b.dtype in (np.float32, np.float64) else b.astype(np.float64)
    check_finite(a, "X")
    check_finite(b, "y")
    return PairedMoments(fourth=fourth).update(a, b, None if w is None else np.asarray(w, dtype=np.float64), ref=ref)


def _merge_all(parts: Iterable[PairedMoments]) -> PairedMoments:
    out = None
    for p in parts:
        out = p if out is None else out.merge(p)
    return out


def dask_moments(
    X: Any, Y: Any, weights: Any = None, *, fourth: bool = False, split_every: int = 8,
    ref: tuple[np.ndarray, np.ndarray] | None = None,
) -> PairedMoments:
    """The moments of row-paired Dask arrays as a Dask reduction: only d x d sums reach the caller.

    Runs on whatever scheduler is active (a ``distributed.Client`` makes it a cluster job). Both
    arrays are rechunked to the same row blocks and one column block; each block pair's sums
    are computed where the block lives and merged in a tree (``split_every`` at a time). The
    reference points are ``ref`` (default: the first block's means), so the answer equals the
    numpy one to rounding, and merges into accumulators with the same references.
    """
    import dask
    import dask.array as da

    X, Y = da.asarray(X), da.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(f"X and y must be 2-D Dask arrays; got {X.ndim}-D and {Y.ndim}-D.")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and y must be row-paired; got {X.shape[0]} and {Y.shape[0]} rows.")
    X = X.rechunk({1: -1})
    Y = Y.rechunk({0: X.chunks[0], 1: -1})
    W = None if weights is None else da.asarray(weights).rechunk({0: X.chunks[0]})
    if ref is None:
        ref = dask.compute(X.blocks[0].mean(axis=0, dtype=np.float64), Y.blocks[0].mean(axis=0, dtype=np.float64))
    xs, ys = X.to_delayed().ravel(), Y.to_delayed().ravel()
    ws = [None] * len(xs) if W is None else W.to_delayed().ravel()
    block = dask.delayed(_block_moments, pure=True)
    parts = [block(a, b, w, tuple(ref), fourth) for a, b, w in zip(xs, ys, ws)]
    merge = dask.delayed(_merge_all, pure=True)
    while len(parts) > 1:
        parts = [merge(parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    (out,) = dask.compute(parts[0])
    return out


def dask_fourth_moment_sum(X: Any, centre: np.ndarray, scale: np.ndarray, weights: Any = None) -> float:
    """:func:`fourth_moment_sum` of a Dask array, as a Dask reduction (one float reaches the caller)."""
    import dask.array as da

    X = da.asarray(X)
    z = (X - centre) / scale
    r2 = (z * z).sum(axis=1)
    r4 = r2 * r2 if weights is None else r2 * r2 * da.asarray(weights)
    return float(r4.sum().compute())


def ledoit_wolf_from_moments(m: PairedMoments, view: str, centre: np.ndarray, source: Any = None, weights: Any = None) -> float:
    """The Ledoit-Wolf intensity of ``view``'s rows centred at ``centre`` and scaled to unit variance.

    What :func:`~contrastive_gmm.linalg.covariance_regularisation` computes in memory, from the
    moments: the fourth-order scalar comes from the sums when ``m`` kept them, else from one more
    pass over ``source`` (the view's rows: numpy, memory-mapped or Dask).
    """
    scale = m.scale(view)
    sums = m.x if view == "x" else m.y
    S = m._about(sums, np.asarray(centre, dtype=np.float64) - sums.ref) / np.outer(scale, scale)
    if sums.s22 is not None:
        fourth = m.fourth_sum(view, centre, scale)
    elif is_dask(source):
        fourth = dask_fourth_moment_sum(source, centre, scale, weights)
    else:
        fourth = fourth_moment_sum(source, centre, scale, weights)
    return ledoit_wolf_from_sums(S, fourth, m.total)


def moment_regularisation(
    reg: float | str, m: PairedMoments, view: str, centre: np.ndarray, source: Any = None, weights: Any = None
) -> tuple[float, float]:
    """A learner's ``reg`` as ``(ridge, shrinkage)``, from streamed moments: :func:`~contrastive_gmm.linalg.covariance_regularisation` without the rows in memory.

    ``"auto"``: the ridge ``1e-6`` and :func:`ledoit_wolf_from_moments` of ``view`` about ``centre``;
    a number: that ridge, no shrinkage (nothing is read).
    """
    if isinstance(reg, str):
        return _AUTO_RIDGE, ledoit_wolf_from_moments(m, view, centre, source, weights)
    return float(reg), 0.0


__all__ = [
    "moment_regularisation",
    "CHUNK_ELEMENTS",
    "chunk_rows",
    "is_dask",
    "is_chunkable",
    "iter_chunks",
    "PairedMoments",
    "ledoit_wolf_from_sums",
    "fourth_moment_sum",
    "accumulate",
    "dask_moments",
    "dask_fourth_moment_sum",
    "ledoit_wolf_from_moments",
]
