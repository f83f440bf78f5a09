"""Streaming closed forms: chunked moments, ``partial_fit``, memory-mapped, row-sliceable and Dask input, streamed training.

Tolerances. The closed forms fitted from chunks compute the same float64 sums as one fit, in another
order and about another reference point: they agree to ~1e-12 degrees (measured), so they are held to
1e-6 degrees, far below the 0.5-1.4 degrees that leaving out one tenth of the rows moves these fits
(measured) and the 40-76 degrees that ignoring the weights moves them. float32 input takes float32
products chunk by chunk, whose rounding (~6e-8 relative, summed over <= 3000 rows) moved these subspaces
by 9e-5 to 2.4e-4 degrees and their components by 3e-6 relative (measured, chunks of 256 against one of
3000 rows): they are held to 1e-2 degrees and 1e-4 relative. The trained learners' streamed
path whitens each float32 batch instead of a whitened float32 copy: measured differences are 3e-5 to
5e-5 degrees, held to 1e-2 degrees, while another seed moves the same fits by 2-40 degrees.
"""

from __future__ import annotations

import gc
import threading
import time
import warnings

import dask
import dask.array as da
import numpy as np
import psutil
import pytest
from sklearn.covariance import ledoit_wolf, ledoit_wolf_shrinkage

import contrastive_gmm as cg
import contrastive_gmm.learners.closed_form as closed_form
import contrastive_gmm.learners.training as training
import contrastive_gmm.moments as moments
from contrastive_gmm.linalg import covariance_regularisation
from contrastive_gmm.moments import (
    PairedMoments,
    accumulate,
    fourth_moment_sum,
    iter_chunks,
    ledoit_wolf_from_sums,
    moment_regularisation,
)

EXACT_DEG = 1e-6  # the same float64 sums in another order (see the module docstring)
FLOAT32_DEG = 1e-2  # float32 products and batches (see the module docstring)
N = 3000

# Pairs whose 2-D pair-CCA subspace the weights move by 76 degrees, and two views whose CCA (PLS-SVD)
# subspace they move by 39 (72) degrees (measured): a fit that drops the weights cannot pass.
_GMM = cg.GMM.random(4, 8, random_state=2)
_X, _XP, _Z, _ = _GMM.sample_pairs(N, random_state=0)
_W = np.where(_Z <= 1, 6.0, 1.0)
_MM = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
_A, _B, _ZAB = _MM.sample(N, random_state=0)
_WAB = np.where(_ZAB <= 1, 6.0, 1.0)


def _angle(A: np.ndarray, B: np.ndarray) -> float:
    return float(cg.subspace_angles(A, B).max())


def _make(name: str, reg: float | str = "auto"):
    return {"PairCCA": lambda: cg.PairCCA(2, reg=reg), "CCA": lambda: cg.CCA(2, reg=reg), "PLSSVD": lambda: cg.PLSSVD(2)}[name]()


def _data(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (_X, _XP, _W) if name == "PairCCA" else (_A, _B, _WAB)


def _assert_same_fit(got, want, tol_deg: float = EXACT_DEG, rtol: float = 1e-7) -> None:
    """Same subspaces (largest principal angle), components, means and shrinkage."""
    if hasattr(want, "x_components_"):
        assert _angle(got.x_subspace(), want.x_subspace()) < tol_deg
        assert _angle(got.y_subspace(), want.y_subspace()) < tol_deg
        names = ["x_components_", "y_components_", "x_mean_", "y_mean_", "x_shrinkage_", "y_shrinkage_", "correlations_",
                 "singular_values_"]
    else:
        assert _angle(got.subspace(), want.subspace()) < tol_deg
        names = ["components_", "mean_", "shrinkage_", "eigenvalues_"]
    for attr in names:
        if hasattr(want, attr):
            a, b = np.asarray(getattr(got, attr)), np.asarray(getattr(want, attr))
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(float(np.abs(b).max()), 1e-12), err_msg=attr)


def _memmap(tmp_path, name: str, array: np.ndarray) -> np.memmap:
    path = tmp_path / f"{name}.npy"
    np.save(path, array)
    return np.load(path, mmap_mode="r")


# --------------------------------------------------------------------------------------------- 1. partial_fit


_CASES = [("PairCCA", "auto"), ("PairCCA", 1e-3), ("CCA", "auto"), ("CCA", 1e-3), ("PLSSVD", None)]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("name", "reg"), _CASES)
def test_partial_fit_over_ten_chunks_equals_one_fit(name, reg, weighted):
    X, Y, W = _data(name)
    w = W if weighted else None
    full = _make(name, reg).fit(X, Y, sample_weight=w)
    model = _make(name, reg)
    for i, rows in enumerate(np.array_split(np.arange(N), 10)):
        model.partial_fit(X[rows], Y[rows], sample_weight=None if w is None else w[rows])
        # Valid after every call: fitted attributes set, the rows seen so far counted.
        assert model.n_samples_seen_ == rows[-1] + 1
        assert model.transform(X[:5]).shape == (5, 2)
        if i == 0:  # the first call is a fit on its chunk
            _assert_same_fit(model, _make(name, reg).fit(X[rows], Y[rows], sample_weight=None if w is None else w[rows]))
    _assert_same_fit(model, full)


@pytest.mark.parametrize("name", ["PairCCA", "CCA"])
def test_fit_then_partial_fit_continues_and_fit_starts_over(name):
    X, Y, _ = _data(name)
    full = _make(name).fit(X, Y)
    _assert_same_fit(_make(name).fit(X[:1000], Y[:1000]).partial_fit(X[1000:], Y[1000:]), full)
    restarted = _make(name).partial_fit(X[:500] + 5.0, Y[:500]).fit(X, Y)
    assert restarted.n_samples_seen_ == N
    _assert_same_fit(restarted, full)


def test_partial_fit_after_a_large_fit_needs_a_numeric_reg(monkeypatch):
    # A "large" fit keeps no fourth-order sums: reg="auto" cannot update its shrinkage, a number can.
    monkeypatch.setattr(closed_form, "_CHEAP_FOURTH", 0)
    first = cg.PairCCA(2).fit(_X[:1000], _XP[:1000])
    assert not first.moments_.fourth
    with pytest.raises(ValueError, match="after a large fit"):
        first.partial_fit(_X[1000:], _XP[1000:])
    numeric = cg.PairCCA(2, reg=1e-3).fit(_X[:1000], _XP[:1000]).partial_fit(_X[1000:], _XP[1000:])
    _assert_same_fit(numeric, cg.PairCCA(2, reg=1e-3).fit(_X, _XP))


# ------------------------------------------------------------------------------------------- 2. PairedMoments


def _views(width_y: int = 3, n: int = 1000):
    """Two views far from the origin (the reference point must absorb the offset), and integer weights."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)) * [1.0, 2.0, 3.0, 0.5] + 1e3
    Y = (X - 1e3) @ rng.normal(size=(4, width_y)) + rng.normal(size=(n, width_y)) - 500.0
    return X, Y, rng.integers(0, 4, size=n).astype(float)


_SPLITS = [0, 1, 100, 337, 600, 1000]  # uneven chunks, one of a single row


def _chunked(X, Y, w, *, fourth=False, ref=None, splits=_SPLITS) -> PairedMoments:
    m = PairedMoments(fourth=fourth)
    for a, b in zip(splits[:-1], splits[1:]):
        m.update(X[a:b], Y[a:b], None if w is None else w[a:b], ref=ref)
    return m


def _close(a, b, rtol=1e-10):
    a, b = np.asarray(a), np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * float(np.abs(b).max()))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_two_view_moments_equal_numpy(weighted):
    X, Y, w = _views()
    w = w if weighted else None
    mx, my, Sxx, Syy, Sxy = _chunked(X, Y, w).two_view()
    joint = np.cov(np.hstack([X, Y]), rowvar=False, aweights=w, bias=True)  # sum w (z - m)(z - m)^T / sum w
    _close(mx, np.average(X, axis=0, weights=w))
    _close(my, np.average(Y, axis=0, weights=w))
    _close(Sxx, joint[:4, :4])
    _close(Syy, joint[4:, 4:])
    _close(Sxy, joint[:4, 4:])
    for got, want in zip(accumulate(X, Y, w, rows=37).two_view(), (mx, my, Sxx, Syy, Sxy)):  # another chunking
        _close(got, want, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_pooled_moments_equal_numpy(weighted):
    X, Y, w = _views(width_y=4)
    w = w if weighted else None
    m = _chunked(X, Y, w)
    mean, cov, cross = m.pooled()
    stacked, w2 = np.vstack([X, Y]), None if w is None else np.concatenate([w, w])
    ref_mean = np.average(stacked, axis=0, weights=w2)
    ww = np.ones(len(X)) if w is None else w
    C = (X - ref_mean).T @ ((Y - ref_mean) * ww[:, None]) / ww.sum()
    _close(mean, ref_mean)
    _close(cov, np.cov(stacked, rowvar=False, aweights=w2, bias=True))  # the 2n stacked rows
    _close(cross, (C + C.T) / 2)
    assert m.rows == np.count_nonzero(ww) and m.total == pytest.approx(ww.sum())


def test_merged_accumulators_equal_one_and_different_refs_do_not_merge():
    X, Y, w = _views()
    ref = (X[:10].mean(0), Y[:10].mean(0))
    one = _chunked(X, Y, w, fourth=True, ref=ref)
    left = _chunked(X, Y, w, fourth=True, ref=ref, splits=[0, 1, 100, 337])
    right = _chunked(X, Y, w, fourth=True, ref=ref, splits=[337, 600, 1000])
    merged = PairedMoments(fourth=True).merge(left).merge(right)  # into an empty one first
    assert (merged.rows, merged.total) == (one.rows, one.total)
    for got, want in zip(merged.two_view(), one.two_view()):
        _close(got, want, rtol=1e-12)
    centre, scale = X.mean(0) + 0.3, X.std(0)
    assert merged.fourth_sum("x", centre, scale) == pytest.approx(one.fourth_sum("x", centre, scale), rel=1e-12)
    # Without a shared reference point the sums are about different points: refused.
    own_refs = [_chunked(X, Y, w, splits=s) for s in ([0, 337], [337, 1000])]
    with pytest.raises(ValueError, match="reference points"):
        own_refs[0].merge(own_refs[1])
    # Nor can sums without the fourth order join ones that keep them.
    with pytest.raises(ValueError, match="fourth-order"):
        _chunked(X, Y, w, fourth=True, ref=ref, splits=[0, 337]).merge(_chunked(X, Y, w, ref=ref, splits=[337, 1000]))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fourth_sum_equals_numpy_for_any_centre_and_scale(weighted):
    X, Y, w = _views()
    w = w if weighted else None
    ww = np.ones(len(X)) if w is None else w
    m = _chunked(X, Y, w, fourth=True)
    rng = np.random.default_rng(1)
    for view, V in (("x", X), ("y", Y)):
        centre = V.mean(0) + rng.normal(size=V.shape[1])  # chosen after the pass, not the reference
        scale = rng.uniform(0.5, 3.0, size=V.shape[1])
        want = float(ww @ (((V - centre) / scale) ** 2).sum(axis=1) ** 2)
        assert m.fourth_sum(view, centre, scale) == pytest.approx(want, rel=1e-9)
        assert fourth_moment_sum(V, centre, scale, w, rows=37) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("shape", [(40, 10), (300, 12)])
def test_ledoit_wolf_from_sums_is_scikit_learns_on_standardised_data(shape):
    rng = np.random.default_rng(shape[0])
    X = rng.standard_t(5, size=shape) @ rng.normal(size=(shape[1], shape[1])) + 7.0
    Z = (X - X.mean(0)) / X.std(0)
    S, fourth = Z.T @ Z / shape[0], float((np.einsum("ij,ij->i", Z, Z) ** 2).sum())
    got = ledoit_wolf_from_sums(S, fourth, float(shape[0]))
    assert 1e-3 < got < 1  # a real shrinkage, not the 0 or 1 every edge case returns
    assert got == pytest.approx(ledoit_wolf(Z, assume_centered=True)[1], rel=1e-10)
    # Integer weights: the sums of the repeated rows.
    w = rng.integers(1, 4, size=shape[0]).astype(float)
    rep = np.repeat(np.arange(shape[0]), w.astype(int))
    Sw, fw = (Z * w[:, None]).T @ Z / w.sum(), float(w @ np.einsum("ij,ij->i", Z, Z) ** 2)
    assert ledoit_wolf_from_sums(Sw, fw, w.sum()) == pytest.approx(ledoit_wolf_shrinkage(Z[rep], assume_centered=True), rel=1e-10)
    assert ledoit_wolf_from_sums(np.eye(shape[1]), 1.0, 1.0) == 0.0  # already the target


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_moment_regularisation_equals_the_in_memory_covariance_regularisation(weighted):
    X, Y, w = _views(n=60)  # few rows: a shrinkage well above rounding
    w = w if weighted else None
    centre = X.mean(0) + 0.25  # any centre: pair CCA uses the pooled mean of both views
    want = covariance_regularisation("auto", X, centre, w)
    assert want[1] > 1e-3
    from_sums = moment_regularisation("auto", _chunked(X, Y, w, fourth=True, splits=[0, 7, 60]), "x", centre)
    second_pass = moment_regularisation("auto", _chunked(X, Y, w, splits=[0, 7, 60]), "x", centre, X, w)
    for got in (from_sums, second_pass):
        assert got[0] == want[0] and got[1] == pytest.approx(want[1], rel=1e-8)
    assert moment_regularisation(0.1, PairedMoments(), "x", centre) == (0.1, 0.0)  # a number reads nothing


# ------------------------------------------------------------------------------------ 3. memory-mapped input


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", ["PairCCA", "CCA"])
def test_memmapped_float32_fit_equals_the_in_memory_fit(name, weighted, tmp_path, monkeypatch):
    X, Y, W = _data(name)
    X, Y, w = X.astype(np.float32), Y.astype(np.float32), W if weighted else None
    want = _make(name).fit(X, Y, sample_weight=w)  # in memory: one chunk of all 3000 rows
    mx, my = _memmap(tmp_path, "x", X), _memmap(tmp_path, "y", Y)
    assert isinstance(mx, np.memmap) and not mx.flags.writeable  # read-only: nothing may write to it
    monkeypatch.setattr(moments, "CHUNK_ELEMENTS", 1)
    assert moments.chunk_rows(X.shape[1]) == 256  # 12 chunks of the 3000 rows
    got = _make(name).fit(mx, my, sample_weight=w)
    _assert_same_fit(got, want, tol_deg=FLOAT32_DEG, rtol=1e-4)
    assert got.n_samples_seen_ == N
    # A large fit takes the Ledoit-Wolf scalar from a second chunked pass over the memory map.
    monkeypatch.setattr(closed_form, "_CHEAP_FOURTH", 0)
    second = _make(name).fit(mx, my, sample_weight=w)
    assert not second.moments_.fourth
    _assert_same_fit(second, want, tol_deg=FLOAT32_DEG, rtol=1e-4)


class _Rows:
    """A row-sliceable 2-D array that is not a numpy array (an HDF5 or zarr dataset's interface), recording each read."""

    def __init__(self, a: np.ndarray) -> None:
        self.a, self.shape, self.dtype, self.reads = a, a.shape, a.dtype, []

    def __getitem__(self, key):
        self.reads.append(key)
        return self.a[key]


@pytest.mark.parametrize("name", ["PairCCA", "CCA", "PLSSVD"])
def test_a_row_sliceable_source_is_read_chunk_by_chunk(name, monkeypatch):
    X, Y, _ = _data(name)
    monkeypatch.setattr(moments, "CHUNK_ELEMENTS", 1)  # 256 rows a chunk
    rx, ry = _Rows(X), _Rows(Y)
    got = _make(name).fit(rx, ry)
    _assert_same_fit(got, _make(name).fit(X, Y))
    for source in (rx, ry):
        assert all(isinstance(k, slice) and k.stop - k.start <= 256 for k in source.reads)
        covered = sorted({(k.start, min(k.stop, N)) for k in source.reads})  # every row, in chunks of 256
        assert covered == [(s, min(s + 256, N)) for s in range(0, N, 256)]


# -------------------------------------------------------------------------------------------------- 4. Dask


@pytest.mark.parametrize("weights", [None, "numpy", "dask"])
@pytest.mark.parametrize("name", ["PairCCA", "CCA"])
def test_dask_fit_equals_the_numpy_fit(name, weights):
    X, Y, W = _data(name)
    w = {None: None, "numpy": W, "dask": da.from_array(W, chunks=1000)}[weights]
    # Row blocks that differ between the views, and X split by columns too: both are rechunked.
    dX, dY = da.from_array(X, chunks=(700, 3)), da.from_array(Y, chunks=(450, Y.shape[1]))
    with dask.config.set(scheduler="threads"):
        got = _make(name).fit(dX, dY, sample_weight=w)
    _assert_same_fit(got, _make(name).fit(X, Y, sample_weight=None if weights is None else W))
    assert got.n_samples_seen_ == N


def test_dask_fit_with_a_second_pass_for_the_shrinkage(monkeypatch):
    monkeypatch.setattr(closed_form, "_CHEAP_FOURTH", 0)  # dask_fourth_moment_sum instead of the sums
    got = cg.CCA(2).fit(da.from_array(_A, chunks=500), da.from_array(_B, chunks=500), sample_weight=_WAB)
    assert not got.moments_.fourth
    _assert_same_fit(got, cg.CCA(2).fit(_A, _B, sample_weight=_WAB))


@pytest.fixture(scope="module")
def dask_client():
    """Two worker processes on the two cores; not the default scheduler (tests opt in), closed at the end."""
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():  # the scheduler's HTTP routes take another port when 8787 is busy, and say so
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _planted_pairs(n: int, d: int, rows: int, seed: int = 0):
    """Pairs ``s + e`` sharing a signal in a known 3-D subspace, generated block by block where they are computed."""
    basis = 2.0 * np.linalg.qr(np.random.default_rng(seed).normal(size=(d, 3)))[0].T  # 3 x d, orthogonal rows
    rng = da.random.default_rng(seed)
    s = rng.standard_normal((n, 3), chunks=(rows, 3)) @ basis
    return s + rng.standard_normal((n, d), chunks=(rows, d)), s + rng.standard_normal((n, d), chunks=(rows, d)), basis.T


def test_fit_on_a_distributed_cluster_equals_the_numpy_fit(dask_client):
    from distributed import get_task_stream

    X, Xp, _ = _planted_pairs(20_000, 8, 2_500)
    w = da.random.default_rng(1).uniform(0.5, 2.0, size=20_000, chunks=2_500)
    with dask.config.set(scheduler=dask_client.get), get_task_stream(dask_client) as tasks:
        got = cg.PairCCA(3).fit(X, Xp)
        got_w = cg.PairCCA(3).fit(X, Xp, sample_weight=w)
    assert len(tasks.data) > 0  # the sums were computed by the workers
    Xn, Xpn, wn = dask.compute(X, Xp, w, scheduler=dask_client.get)
    _assert_same_fit(got, cg.PairCCA(3).fit(Xn, Xpn))
    _assert_same_fit(got_w, cg.PairCCA(3).fit(Xn, Xpn, sample_weight=wn))


def _peak_rss_growth(fn) -> tuple[object, float]:
    """``fn()`` and how far this process's resident memory rose above its start while it ran, in MiB."""
    proc = psutil.Process()
    gc.collect()
    base = proc.memory_info().rss
    peak, stop = [base], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = fn()
    finally:
        stop.set()
        sampler.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    return out, (peak[0] - base) / 2**20


def test_a_cluster_fit_never_brings_the_data_to_the_client(dask_client):
    # 1e6 x 40 float64 a view: 305 MiB each, 610 MiB together, generated on the workers. One view in the
    # client would be 305 MiB; what reaches it is d x d sums (the fit is large, so the Ledoit-Wolf scalar
    # takes a second Dask pass). ~10-20 s on two loaded cores.
    n, d = 1_000_000, 40
    X, Xp, planted = _planted_pairs(n, d, 125_000)
    with dask.config.set(scheduler=dask_client.get):
        cg.PairCCA(3).fit(X[:2_000], Xp[:2_000])  # imports and first-call allocations, before measuring
        model, growth = _peak_rss_growth(lambda: cg.PairCCA(3).fit(X, Xp))
    assert growth < 200, f"the client's memory grew by {growth:.0f} MiB"
    assert model.n_samples_seen_ == n and not model.moments_.fourth
    assert _angle(model.subspace(), planted) < 2  # 0.3-0.5 degrees measured: the planted subspace is found


# ------------------------------------------------------------------------------------- 5. streamed training


def _spy_streamed(monkeypatch) -> list:
    """Force the streamed path (no whitened copy) and count the batches it embeds."""
    calls = []
    embed = training.StreamedView.embed

    def counting(self, idx, V):
        calls.append(len(idx))
        return embed(self, idx, V)

    monkeypatch.setattr(training, "WHITENED_COPY_BYTES", 0)
    monkeypatch.setattr(training.StreamedView, "embed", counting)
    return calls


_TRAINED = {
    "InfoNCE": (lambda: cg.InfoNCE(2, max_epochs=10, batch_size=256, random_state=0), (_X[:2000], _XP[:2000])),
    "SimCLR": (lambda: cg.SimCLR(2, max_epochs=10, batch_size=256, random_state=0), (_X[:2000], _XP[:2000])),
    "CLIP": (lambda: cg.CLIP(2, max_epochs=10, batch_size=256, random_state=0), (_A[:2000], _B[:2000])),
}


@pytest.mark.parametrize("name", list(_TRAINED))
def test_streamed_training_equals_the_whitened_copy(name, monkeypatch):
    make, data = _TRAINED[name]
    copied = make().fit(*data)
    calls = _spy_streamed(monkeypatch)
    streamed = make().fit(*data)
    assert len(calls) > 0 and max(calls) == 256  # batch by batch, through StreamedView
    assert streamed.n_iter_ == copied.n_iter_
    if name == "CLIP":
        assert _angle(streamed.x_subspace(), copied.x_subspace()) < FLOAT32_DEG
        assert _angle(streamed.y_subspace(), copied.y_subspace()) < FLOAT32_DEG
    else:
        assert _angle(streamed.subspace(), copied.subspace()) < FLOAT32_DEG
        np.testing.assert_allclose(streamed.mean_, copied.mean_, rtol=1e-12)


def test_infonce_trains_on_a_read_only_memory_map(tmp_path, monkeypatch):
    X, Xp = _X[:2000].astype(np.float32), _XP[:2000].astype(np.float32)
    make = _TRAINED["InfoNCE"][0]
    want = make().fit(X, Xp)
    mx, mxp = _memmap(tmp_path, "x", X), _memmap(tmp_path, "xp", Xp)
    assert not mx.flags.writeable
    _assert_same_fit(make().fit(mx, mxp), want)  # the copied path: the same float32 values, the same arithmetic
    calls = _spy_streamed(monkeypatch)
    got = make().fit(mx, mxp)
    assert len(calls) > 0
    assert _angle(got.subspace(), want.subspace()) < FLOAT32_DEG


# ------------------------------------------------------------------------------------------- 6. error cases


@pytest.mark.parametrize("name", ["PairCCA", "CCA", "PLSSVD"])
def test_partial_fit_refuses_another_width(name):
    X, Y, _ = _data(name)
    model = _make(name).partial_fit(X[:100], Y[:100])
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[100:200, :-1], Y[100:200, :-1] if name == "PairCCA" else Y[100:200])
    assert model.n_samples_seen_ == 100  # the refused chunk added nothing


def test_n_components_auto_needs_the_pairs_in_memory(tmp_path):
    with pytest.raises(ValueError, match="integer n_components"):
        cg.PairCCA("auto").partial_fit(_X[:100], _XP[:100])
    with pytest.raises(ValueError, match="integer n_components"):
        cg.CCA("auto").partial_fit(_A[:100], _B[:100])
    mx, mxp = _memmap(tmp_path, "x", _X), _memmap(tmp_path, "xp", _XP)
    with pytest.raises(ValueError, match="n_components='auto'"):
        cg.PairCCA("auto").fit(mx, mxp)
    with pytest.raises(ValueError, match="n_components='auto'"):
        cg.CCA("auto").fit(da.from_array(_A, chunks=500), da.from_array(_B, chunks=500))


def test_nan_in_a_memmapped_chunk_names_its_row(tmp_path, monkeypatch):
    monkeypatch.setattr(moments, "CHUNK_ELEMENTS", 1)  # row 900 is in the fourth chunk of 256 rows
    bad = _XP.copy()
    bad[900, 2] = np.nan
    mx, mxp = _memmap(tmp_path, "x", _X), _memmap(tmp_path, "xp", bad)
    with pytest.raises(ValueError, match=r"X_pos must be finite .*the first at row 900, column 2\)"):
        cg.PairCCA(2).fit(mx, mxp)
    with pytest.raises(ValueError, match=r"first at row 900, column 2\)"):
        list(iter_chunks(mxp, rows=100))
    with pytest.raises(ValueError, match="finite"):
        cg.PairCCA(2).fit(da.from_array(_X, chunks=500), da.from_array(bad, chunks=500))


def test_unequal_or_too_few_rows_raise(tmp_path):
    mx, mxp = _memmap(tmp_path, "x", _X), _memmap(tmp_path, "xp", _XP[:-1])
    with pytest.raises(ValueError, match="row-paired"):
        cg.PairCCA(2).fit(mx, mxp)
    with pytest.raises(ValueError, match="row-paired"):
        cg.CCA(2).fit(da.from_array(_A, chunks=500), da.from_array(_B[:-1], chunks=500))
    with pytest.raises(ValueError, match="row-paired"):
        cg.CCA(2).partial_fit(_A[:100], _B[:99])
    with pytest.raises(ValueError, match="at least 2 rows"):
        cg.PairCCA(2).fit(_memmap(tmp_path, "one", _X[:1]), _memmap(tmp_path, "one_pos", _XP[:1]))


def test_moments_refuse_what_they_cannot_finish():
    X, Y, w = _views()
    with pytest.raises(ValueError, match="same width"):
        _chunked(X, Y, w).pooled()  # 4 and 3 features
    for finish in (lambda m: m.two_view(), lambda m: m.means, lambda m: m.scale("x")):
        with pytest.raises(ValueError, match="no rows"):
            finish(PairedMoments())
        with pytest.raises(ValueError, match="no rows"):
            finish(PairedMoments().update(X, Y, np.zeros(len(X))))  # only rows of weight 0
    with pytest.raises(ValueError, match="fourth=False"):
        _chunked(X, Y, w).fourth_sum("x", X.mean(0), X.std(0))
    with pytest.raises(ValueError, match="features"):
        PairedMoments().update(X[:10], Y[:10]).update(X[10:20, :3], Y[10:20])


# ------------------------------------------------------------------------------- bugs the tests above missed at first


def test_pooled_on_an_empty_accumulator_raises_value_error():
    with pytest.raises(ValueError, match="no rows"):
        PairedMoments().pooled()


def test_partial_fit_over_dask_chunks_equals_one_fit():
    model = cg.PairCCA(2)
    for rows in np.array_split(np.arange(N), 3):
        model.partial_fit(da.from_array(_X[rows], chunks=500), da.from_array(_XP[rows], chunks=500))
    _assert_same_fit(model, cg.PairCCA(2).fit(_X, _XP))


def test_a_refused_streamed_chunk_leaves_the_moments_unchanged(tmp_path, monkeypatch):
    monkeypatch.setattr(moments, "CHUNK_ELEMENTS", 1)
    model = cg.PairCCA(2).partial_fit(_X[:1000], _XP[:1000])
    bad = _X[1000:2000].copy()
    bad[900, 2] = np.nan
    with pytest.raises(ValueError, match="first at row 900"):
        model.partial_fit(_memmap(tmp_path, "bad", bad), _memmap(tmp_path, "bad_pos", _XP[1000:2000]))
    assert model.moments_.rows == model.n_samples_seen_ == 1000
