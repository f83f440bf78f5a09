"""Benchmark: speed and scale. How fast is the library's InfoNCE next to what users write by hand?

Four sections, each one table, every method run side by side in this one process (memory in
one child process per fit, so each peak is its own):

(a) time to accuracy on d = 128, K = 8, n = 50000 non-isotropic pairs: default ``cg.InfoNCE``
    (random start) and its options, against a hand-written PyTorch loop (centred data, cosine
    InfoNCE at tau 0.5, Adam, batch 1024, 50 epochs, random init) at lr 1e-3 and 1e-2 with
    ``--threads`` torch threads, and at lr 1e-3 with the 1 thread InfoNCE's CPU loop uses, with
    pair CCA and sklearn's LDA (which sees the labels) as the floor. Targets: InfoNCE's angle
    <= the hand loop's + 0.5 degrees in <= 1/5 of its time, and within 10x of LDA's fit time.
(b) fit time as n grows (1e4..1e6, d = 32) and as d grows (32..1024, n = 20000).
(c) peak memory of one fit (d = 512): resident set (the child's own high-water mark) above the loaded data,
    and the peak of numpy's allocations (tracemalloc).
(d) GPU: the same fit with ``device="cuda"`` and a chunked loss on a large batch, when a GPU
    is present; skipped with a note otherwise.

Timings on a shared machine vary; compare ratios within one run.

Usage: python benchmarks/speed.py [--sections abcd] [--threads 2] [--quick] [--full]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from threadpoolctl import threadpool_limits

import contrastive_gmm as cg


def angle(model_or_basis, gmm: cg.GMM) -> float:
    """Largest principal angle (degrees) to the mixture's true Fisher subspace."""
    basis = model_or_basis if isinstance(model_or_basis, np.ndarray) else cg.learned_subspace(model_or_basis)
    return float(cg.subspace_angles(basis, gmm.fisher_subspace()).max())


def timed(fit):
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def hand_loop(X: np.ndarray, Xp: np.ndarray, k: int, lr: float, gmm: cg.GMM, epochs: int = 50,
              batch_size: int = 1024, temperature: float = 0.5, seed: int = 0) -> dict:
    """What a user writes: centre, nn.Linear, cosine InfoNCE through cross_entropy, Adam, fixed epochs.

    The angle is recorded after every epoch (outside the timed region) to find when the loop
    first came within 0.5 degrees of where it ended.
    """
    torch.manual_seed(seed)
    mean = (X.mean(0) + Xp.mean(0)) / 2
    A = torch.tensor(X - mean, dtype=torch.float32)
    B = torch.tensor(Xp - mean, dtype=torch.float32)
    encoder = torch.nn.Linear(X.shape[1], k, bias=False)
    opt = torch.optim.Adam(encoder.parameters(), lr=lr)
    labels = torch.arange(batch_size)
    elapsed, curve = 0.0, []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(A))
        for i in range(0, len(A) - batch_size + 1, batch_size):
            idx = perm[i : i + batch_size]
            a = F.normalize(encoder(A[idx]), dim=1)
            b = F.normalize(encoder(B[idx]), dim=1)
            logits = a @ b.T / temperature
            loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
            opt.zero_grad()
            loss.backward()
            opt.step()
        elapsed += time.perf_counter() - start
        curve.append((elapsed, angle(encoder.weight.detach().double().numpy().T, gmm)))
    final = curve[-1][1]
    reached = next(t for t, a in curve if a <= final + 0.5)
    return {"seconds": elapsed, "angle": final, "seconds_to_final": reached}


# ------------------------------------------------------------------------------------------ (a)
def section_a(args) -> bool:
    n, d, K = (20000, 64, 8) if args.quick else (50000, 128, 8)
    epochs = 10 if args.quick else 50
    gmm = cg.GMM.random(K, d, random_state=0)
    X, Xp, z, _ = gmm.sample_pairs(n, random_state=1)
    k = K - 1
    print(f"\n(a) Time to accuracy: d = {d}, K = {K}, n = {n} pairs (largest angle to the true Fisher subspace)\n")
    rows = []
    lda, t = timed(lambda: LinearDiscriminantAnalysis().fit(X, z))
    t_lda = t
    rows.append(("LDA (sklearn, sees labels)", t, angle(lda, gmm), ""))
    pcca, t = timed(lambda: cg.PairCCA(k).fit(X, Xp))
    rows.append(("pair CCA (closed form)", t, angle(pcca, gmm), ""))
    defaults = []
    for seed in range(3):
        m, t = timed(lambda: cg.InfoNCE(k, random_state=seed).fit(X, Xp))
        defaults.append((t, angle(m, gmm), m.n_iter_))
    t_info, a_info = float(np.mean([r[0] for r in defaults])), float(np.mean([r[1] for r in defaults]))
    sd = float(np.std([r[1] for r in defaults]))
    rows.append(("cg.InfoNCE default (3 seeds)", t_info, a_info,
                 f"± {sd:.2f} deg, {np.mean([r[2] for r in defaults]):.0f} epochs"))
    for label, params in [("  init='pair_cca'", {"init": "pair_cca"}),
                          ("  dtype='float64'", {"dtype": "float64"}),
                          ("  average=False (cool-down schedule)", {"average": False})]:
        m, t = timed(lambda: cg.InfoNCE(k, random_state=0, **params).fit(X, Xp))
        rows.append((label, t, angle(m, gmm), f"{m.n_iter_} epochs"))
    hands = []
    runs = [(1e-3, args.threads), (1e-2, args.threads)] + ([(1e-3, 1)] if args.threads != 1 else [])
    for lr, threads in runs:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)  # the last run: the thread count InfoNCE's loop uses on CPU
        h = hand_loop(X, Xp, k, lr, gmm, epochs=epochs)
        torch.set_num_threads(before)
        h["label"] = f"lr {lr:g}, {threads} thread{'s' if threads > 1 else ''}"
        hands.append(h)
        rows.append((f"hand loop, {h['label']}, {epochs} ep", h["seconds"], h["angle"],
                     f"within 0.5 deg of its end after {h['seconds_to_final']:.1f} s"))
    print(f"{'method':<44}{'fit s':>9}{'angle':>9}   notes")
    print("-" * 100)
    for name, t, a, note in rows:
        print(f"{name:<44}{t:>9.2f}{a:>9.2f}   {note}")
    ok = True
    print()
    for h in hands:
        good = a_info <= h["angle"] + 0.5 and t_info <= h["seconds"] / 5
        ok &= good
        print(f"InfoNCE vs hand loop {h['label']}: angle {a_info:.2f} vs {h['angle']:.2f} (+0.5 allowed), "
              f"time ratio 1/{h['seconds'] / t_info:.1f} (<= 1/5 needed): {'ok' if good else 'MISS'}")
    good = t_info <= 10 * t_lda
    ok &= good
    print(f"InfoNCE vs LDA fit time: {t_info / t_lda:.1f}x (<= 10x needed): {'ok' if good else 'MISS'}")
    if args.quick:
        print("(--quick: a smoke test of the script on a smaller problem; the targets apply to the full run.)")
        return True
    return ok


# ------------------------------------------------------------------------------------------ (b)
def section_b(args) -> None:
    K = 8
    ns = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    ds = [32, 128] if args.quick else [32, 128, 512, 1024]
    print("\n(b) Fit time (s) and largest angle (degrees) as n grows (d = 32) and as d grows (n = 20000), K = 8\n")
    header = f"{'n':>9}{'d':>6}{'InfoNCE s':>11}{'angle':>8}{'epochs':>8}{'pair CCA s':>12}{'angle':>8}{'LDA s':>8}{'angle':>8}"
    print(header)
    print("-" * len(header))
    grid = [(n, 32) for n in ns] + [(20000, d) for d in ds if d != 32]
    for n, d in grid:
        gmm = cg.GMM.random(K, d, random_state=0)
        X, Xp, z, _ = gmm.sample_pairs(n, random_state=1)
        X, Xp = X.astype(np.float32), Xp.astype(np.float32)  # how large data usually arrive
        info, t_info = timed(lambda: cg.InfoNCE(K - 1, random_state=0).fit(X, Xp))
        pcca, t_pcca = timed(lambda: cg.PairCCA(K - 1).fit(X, Xp))
        lda, t_lda = timed(lambda: LinearDiscriminantAnalysis().fit(X, z))
        print(f"{n:>9}{d:>6}{t_info:>11.2f}{angle(info, gmm):>8.2f}{info.n_iter_:>8}"
              f"{t_pcca:>12.2f}{angle(pcca, gmm):>8.2f}{t_lda:>8.2f}{angle(lda, gmm):>8.2f}", flush=True)
        del X, Xp, z


# ------------------------------------------------------------------------------------------ (c)
def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise KeyError(field)


def _memory_child(method: str, paths: tuple[str, str], k: int, threads: int, queue) -> None:
    torch.set_num_threads(threads)
    threadpool_limits(threads)
    X, Xp = np.load(paths[0]), np.load(paths[1])
    try:
        # Reset this process's high-water mark to its current size (Linux >= 4.0). getrusage's
        # maxrss would not do: it keeps the parent's peak across the fork and exec that start us.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        loaded, peak_of = _status_mib("VmRSS"), lambda: _status_mib("VmHWM")
    except OSError:
        loaded, peak_of = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, (
            lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    tracemalloc.start()
    model = cg.PairCCA(k) if method == "pair CCA" else cg.InfoNCE(k, random_state=0)
    model.fit(X, Xp)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    queue.put((peak_of() - loaded, traced_peak))


def section_c(args) -> None:
    d, K = 512, 8
    # Both above two 65536-row chunks: from there the moments' working set is constant, so a line
    # through the two points extrapolates honestly to n = 1e6 (--full measures n = 1e6 directly).
    ns = [50_000] if args.quick else ([150_000, 300_000, 1_000_000] if args.full else [150_000, 300_000])
    print(f"\n(c) Peak memory of one fit, d = {d}, float32 input (one child process per fit)\n")
    header = f"{'method':<12}{'n':>10}{'data MiB':>10}{'peak RSS above the data, MiB':>30}{'numpy peak (tracemalloc), MiB':>32}"
    print(header)
    print("-" * len(header))
    ctx = mp.get_context("spawn")
    gmm = cg.GMM.random(K, d, random_state=0)
    measured = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in ns:
            paths = (os.path.join(tmp, "X.npy"), os.path.join(tmp, "Xp.npy"))
            X, Xp, _, _ = gmm.sample_pairs(n, random_state=1)
            np.save(paths[0], X.astype(np.float32))
            np.save(paths[1], Xp.astype(np.float32))
            del X, Xp
            data_mib = 2 * n * d * 4 / 2**20
            for method in ("pair CCA", "InfoNCE"):
                queue = ctx.Queue()
                child = ctx.Process(target=_memory_child, args=(method, paths, K - 1, args.threads, queue))
                child.start()
                above, traced = queue.get()
                child.join()
                measured[(method, n)] = above
                print(f"{method:<12}{n:>10}{data_mib:>10.0f}{above:>30.0f}{traced:>32.0f}", flush=True)
    big = 2 * 1_000_000 * d * 4 / 2**30
    if len(ns) < 2:
        print(f"\n1e6 x {d} float32 pairs are {big:.1f} GiB of data (run without --quick to extrapolate the overheads).")
        return
    # Overhead = constant (chunked moments, d x d matrices) + per-row part (InfoNCE's whitened copy).
    parts = []
    for method in ("pair CCA", "InfoNCE"):
        (n0, n1), (m0, m1) = ns[-2:], (measured[(method, ns[-2])], measured[(method, ns[-1])])
        slope = max(0.0, (m1 - m0) / (n1 - n0))
        parts.append(f"{method} ~{big + (m1 + slope * (1_000_000 - n1)) / 1024:.1f} GiB")
    print(f"\n1e6 x {d} float32 pairs are {big:.1f} GiB of data; extrapolating each overhead linearly in n from "
          f"the two largest runs, a fit at n = 1e6 needs: {', '.join(parts)}. No n x n matrix is formed.")


# ------------------------------------------------------------------------------------------ (d)
def section_d(args) -> None:
    print("\n(d) GPU\n")
    if not torch.cuda.is_available():
        print("No CUDA device here: GPU section skipped (it runs the same fits with device='cuda' when one is present).")
        return
    gmm = cg.GMM.random(8, 128, random_state=0)
    X, Xp, _, _ = gmm.sample_pairs(50000, random_state=1)
    cg.InfoNCE(7, random_state=0, device="cuda", max_epochs=1).fit(X[:2048], Xp[:2048])  # warm-up: CUDA context, kernels
    rows = []
    for device in ("cpu", "cuda"):
        m, t = timed(lambda: cg.InfoNCE(7, random_state=0, device=device).fit(X, Xp))
        rows.append((f"cg.InfoNCE d=128 n=50000 on {device}", t, f"angle {angle(m, gmm):.2f}, {m.n_iter_} epochs"))
    n, dim = 65536, 256
    a = torch.randn(n, dim, device="cuda", requires_grad=True)
    b = torch.randn(n, dim, device="cuda", requires_grad=True)
    for chunk in (None, 8192):
        if chunk is None and n * n * 4 * 3 > torch.cuda.get_device_properties(0).total_memory * 0.8:
            rows.append((f"InfoNCELoss n={n} unchunked", float("nan"), "skipped: n x n logits would not fit"))
            continue
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        cg.InfoNCELoss(0.1, chunk_size=chunk)(a, b).backward()
        torch.cuda.synchronize()
        rows.append((f"InfoNCELoss n={n} d={dim} chunk={chunk}", time.perf_counter() - start,
                     f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB"))
    print(f"{'what':<45}{'seconds':>9}   notes")
    print("-" * 90)
    for name, t, note in rows:
        print(f"{name:<45}{t:>9.2f}   {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="abcd", help="which sections to run, e.g. 'ab'")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch and BLAS threads for every method (the reference machine has 2 cores)")
    parser.add_argument("--quick", action="store_true", help="smaller problems: a smoke test of the script")
    parser.add_argument("--full", action="store_true", help="(c) also n = 1e6 at d = 512 (several GiB, minutes)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # The same thread budget for every method: numpy/scipy/sklearn's BLAS too (LDA, the moments).
    threadpool_limits(args.threads)
    print(f"Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"{args.threads} torch and BLAS threads, {os.cpu_count()} CPUs")
    ok = True
    if "a" in args.sections:
        ok = section_a(args)
    if "b" in args.sections:
        section_b(args)
    if "c" in args.sections:
        section_c(args)
    if "d" in args.sections:
        section_d(args)
    if "a" in args.sections:
        print("\n(a): all targets met." if ok else "\n(a): some targets MISSED.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
