"""Benchmark: the library against its peers, time and accuracy, in one process.

Two sections, each a markdown table:

(1) Closed forms vs peers, n = 1e4 .. 1e6, K = 8 components:
    - two views, ``MultimodalGMM.random(8, 128, 96)``, k = 7 (the number of non-zero canonical
      correlations): ``cg.CCA`` (default Ledoit-Wolf shrinkage, and ``reg=1e-6``, the sample
      covariance, which is what the peers compute) against scikit-learn's iterative
      ``CCA`` and cca-zoo's ``CCA``; accuracy is the largest principal angle (degrees) of the
      x-view subspace to the population target ``mm.clip_target(0)``. ``cg.PLSSVD`` against
      scikit-learn's ``PLSSVD(scale=False)`` (the same unscaled problem) and cca-zoo's ``PLS``;
      target: the top-k left singular subspace of the population cross-covariance.
    - pairs, ``GMM.random(8, 128)`` + ``sample_pairs``, k = 7: ``cg.PairCCA`` (no labels) against
      scikit-learn's ``LinearDiscriminantAnalysis`` (labels of the n anchors); target: the true
      Fisher subspace ``gmm.fisher_subspace()``.
    Each fit runs once; when that took under 2 s it counts as the warm-up and the time is the
    median of 3 more. A peer that took more than ``--budget`` seconds (60) at some n, or whose
    time scaled linearly in n would exceed twice that, is skipped at the larger sizes, with a note.
(2) Losses vs plain PyTorch at batch 4096 (forward + backward, CPU, float32, k = 8, 32, 128):
    ``cg.info_nce`` (one-way, symmetric, dot similarity, chunked), ``cg.CLIPLoss`` and
    ``nt_xent_loss`` against the same loss written plainly with ``F.cross_entropy(logits, arange)``;
    median of 7 repeats after 2 warm-ups, the ratio ours / plain, and the differences of the loss
    value and of the gradient (both should be float32 round-off).

cca-zoo is optional (``pip install -e '.[bench]'``); without it its rows say "not installed".
Timings on a shared machine vary; compare ratios within one run.

Usage: python benchmarks/peers.py [--quick] [--threads 2] [--budget 60] [--sections 12]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import sklearn
import torch
import torch.nn.functional as F
from sklearn.cross_decomposition import CCA as SklearnCCA
from sklearn.cross_decomposition import PLSSVD as SklearnPLSSVD
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from threadpoolctl import threadpool_limits

import contrastive_gmm as cg
from contrastive_gmm.losses import nt_xent_loss

try:
    import cca_zoo
    import cca_zoo.linear as cca_zoo_linear
except ImportError:  # an optional peer: its rows say so
    cca_zoo = cca_zoo_linear = None

K = 8  # mixture components, as in the earlier measurement
N_TIMED = 3  # timed repeats after the warm-up, for fits that take under REPEAT_BELOW_S
REPEAT_BELOW_S = 2.0


def max_angle(basis: np.ndarray, target: np.ndarray) -> float:
    """Largest principal angle (degrees) between the column spans of ``basis`` and ``target``."""
    return float(cg.subspace_angles(np.linalg.qr(basis)[0], target).max())


def sklearn_cca_x_basis(model: SklearnCCA) -> np.ndarray:
    # x_rotations_ act on standardised X (scale=True by default): back to the raw coordinates.
    return model.x_rotations_ / model._x_std[:, None]


def time_fit(fit: Callable[[], object]) -> tuple[object, float]:
    """Fit once; a fast fit is then treated as the warm-up and timed N_TIMED more times (median)."""
    start = time.perf_counter()
    model = fit()
    first = time.perf_counter() - start
    if first >= REPEAT_BELOW_S:
        return model, first
    times = []
    for _ in range(N_TIMED):
        start = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - start)
    return model, statistics.median(times)


class Budget:
    """Skips a peer at sizes where it exceeded, or would exceed (time linear in n), ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last: dict[str, tuple[int, float]] = {}

    def why_skip(self, name: str, n: int) -> str | None:
        if name not in self.last:
            return None
        n0, t0 = self.last[name]
        if t0 > self.seconds:
            return f"skipped (>{self.seconds:.0f} s at n={n0})"
        if t0 * n / n0 > 2 * self.seconds:  # linear in n: more than twice the budget expected
            return f"skipped ({t0:.0f} s at n={n0}: >{2 * self.seconds:.0f} s expected)"
        return None

    def record(self, name: str, n: int, seconds: float) -> None:
        self.last[name] = (n, seconds)


def fmt_n(n: int) -> str:
    return f"{n:.0e}".replace("e+0", "e")


# ------------------------------------------------------------------------------------------ (1)
def section_closed_forms(args) -> None:
    ns = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    budget = Budget(args.budget)
    mm = cg.MultimodalGMM.random(K, 128, 96, random_state=0)
    k = mm.target_dim()
    cca_target = mm.clip_target(0)
    pls_target = np.linalg.svd(mm.cross_covariance(0, 1))[0][:, :k]
    gmm = cg.GMM.random(K, 128, random_state=0)
    fisher = gmm.fisher_subspace()

    zoo_missing = "cca-zoo not installed (pip install -e '.[bench]')"
    # (group, method, fit, subspace of the fitted model, target, the row ratios refer to)
    two_view = [
        ("CCA", "cg.CCA (Ledoit-Wolf)", lambda X, Y: cg.CCA(k).fit(X, Y), lambda m: m.x_subspace(), None),
        ("CCA", "cg.CCA (reg=1e-6)", lambda X, Y: cg.CCA(k, reg=1e-6).fit(X, Y), lambda m: m.x_subspace(), None),
        ("CCA", "sklearn CCA", lambda X, Y: SklearnCCA(k).fit(X, Y), sklearn_cca_x_basis, "cg.CCA (reg=1e-6)"),
        ("CCA", "cca-zoo CCA", (lambda X, Y: cca_zoo_linear.CCA(k).fit([X, Y])) if cca_zoo else None,
         lambda m: m.weights_[0], "cg.CCA (reg=1e-6)"),
        ("PLS-SVD", "cg.PLSSVD", lambda X, Y: cg.PLSSVD(k).fit(X, Y), lambda m: m.x_components_.T, None),
        ("PLS-SVD", "sklearn PLSSVD(scale=False)", lambda X, Y: SklearnPLSSVD(k, scale=False).fit(X, Y),
         lambda m: m.x_weights_, "cg.PLSSVD"),
        ("PLS-SVD", "cca-zoo PLS", (lambda X, Y: cca_zoo_linear.PLS(k).fit([X, Y])) if cca_zoo else None,
         lambda m: m.weights_[0], "cg.PLSSVD"),
    ]
    pairs = [
        ("pairs", "cg.PairCCA (no labels)", lambda X, Xp, z: cg.PairCCA(k).fit(X, Xp), lambda m: m.subspace(), None),
        ("pairs", "sklearn LDA (labels)", lambda X, Xp, z: LinearDiscriminantAnalysis().fit(X, z),
         cg.learned_subspace, "cg.PairCCA (no labels)"),
    ]
    targets = {"CCA": cca_target, "PLS-SVD": pls_target, "pairs": fisher}

    print(f"\n## (1) Closed forms vs peers: K = {K}, k = {k}; two views d = 128/96 "
          f"(`MultimodalGMM.random(8, 128, 96)`), pairs d = 128 (`GMM.random(8, 128)`)\n")
    print("Angle: largest principal angle (degrees) to the population target (CCA: `clip_target(0)`; "
          "PLS-SVD: top-k left singular subspace of Cov(x, y); pairs: `fisher_subspace()`). "
          "Ratio: the peer's time / ours (the row named in the note).\n")
    print("| n | problem | method | fit s | angle | ratio vs ours | note |")
    print("|---:|---|---|---:|---:|---:|---|")
    for n in ns:
        t0 = time.perf_counter()
        X, Y, _ = mm.sample(n, random_state=1)
        gen = time.perf_counter() - t0
        results: dict[str, float] = {}
        for group, name, fit, basis, ref in two_view:
            run_row(n, group, name, lambda f=fit: f(X, Y), basis, targets[group], ref, results, budget,
                    None if fit else zoo_missing)
        del X, Y
        t0 = time.perf_counter()
        P, Pp, z, _ = gmm.sample_pairs(n, random_state=1)
        gen += time.perf_counter() - t0
        for group, name, fit, basis, ref in pairs:
            run_row(n, group, name, lambda f=fit: f(P, Pp, z), basis, targets[group], ref, results, budget, None)
        del P, Pp, z
        print(f"| {fmt_n(n)} | | (sampling both data sets: {gen:.1f} s) | | | | |", flush=True)


def run_row(n, group, name, fit, basis, target, ref, results, budget, missing) -> None:
    if missing is not None:
        print(f"| {fmt_n(n)} | {group} | {name} | | | | {missing} |", flush=True)
        return
    skip = budget.why_skip(name, n)
    if skip is not None:
        print(f"| {fmt_n(n)} | {group} | {name} | | | | {skip} |", flush=True)
        return
    model, seconds = time_fit(fit)
    budget.record(name, n, seconds)
    results[name] = seconds
    ratio = f"{seconds / results[ref]:.1f}x" if ref in results else ""
    note = f"vs {ref}" if ratio else ""
    print(f"| {fmt_n(n)} | {group} | {name} | {seconds:.3f} | {max_angle(basis(model), target):.2f} | {ratio} | {note} |",
          flush=True)


# ------------------------------------------------------------------------------------------ (2)
def plain_one_way(a, b, tau):
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / tau
    return F.cross_entropy(logits, torch.arange(len(a)))


def plain_symmetric(a, b, tau):
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / tau
    labels = torch.arange(len(a))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def plain_dot(a, b, tau):
    return F.cross_entropy(a @ b.T / tau, torch.arange(len(a)))


def plain_nt_xent(a, b, tau):
    z = F.normalize(torch.cat([a, b]), dim=1)
    n = len(a)
    logits = (z @ z.T / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    return F.cross_entropy(logits, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))


def time_loss(loss_fn, a, b, repeats: int = 7, warmup: int = 2) -> tuple[float, float, torch.Tensor]:
    """Median seconds of forward + backward; the loss value and the gradient w.r.t. ``a``."""
    times = []
    for i in range(warmup + repeats):
        a.grad = b.grad = None
        start = time.perf_counter()
        value = loss_fn(a, b)
        value.backward()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times), float(value.detach()), a.grad.clone()


def section_losses(args) -> None:
    batch = 4096
    ks = [8, 32, 128]
    clip = cg.CLIPLoss(temperature=0.07)
    cases = [
        ("info_nce(symmetric=False)", lambda a, b: cg.info_nce(a, b, 0.5, symmetric=False),
         lambda a, b: plain_one_way(a, b, 0.5)),
        ("info_nce (symmetric)", lambda a, b: cg.info_nce(a, b, 0.5), lambda a, b: plain_symmetric(a, b, 0.5)),
        ("info_nce(similarity='dot', symmetric=False)",
         lambda a, b: cg.info_nce(a, b, 0.5, similarity="dot", symmetric=False), lambda a, b: plain_dot(a, b, 0.5)),
        ("info_nce(chunk_size=1024)", lambda a, b: cg.info_nce(a, b, 0.5, chunk_size=1024),
         lambda a, b: plain_symmetric(a, b, 0.5)),
        ("CLIPLoss(temperature=0.07)", clip, lambda a, b: plain_symmetric(a, b, 0.07)),
        ("nt_xent_loss", lambda a, b: nt_xent_loss(a, b, 0.5), lambda a, b: plain_nt_xent(a, b, 0.5)),
    ]
    print(f"\n## (2) Losses vs plain PyTorch: batch {batch}, forward + backward, CPU float32, "
          f"median of 7 after 2 warm-ups\n")
    print("Plain: the same loss written with `F.cross_entropy(logits, arange)` (cosine: `F.normalize` first; "
          "dot: `a @ b.T / tau`). |d loss|, max |d grad|: ours minus plain.\n")
    print("| loss | k | ours ms | plain ms | ratio | abs d loss | max abs d grad |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    gen = torch.Generator().manual_seed(0)
    for name, ours, plain in cases:
        for k in ks:
            # Correlated views, as pairs are: the loss is well below log(batch), the logits not all alike.
            base = torch.randn(batch, k, generator=gen)
            a = (base + 0.5 * torch.randn(batch, k, generator=gen)).requires_grad_()
            b = (base + 0.5 * torch.randn(batch, k, generator=gen)).requires_grad_()
            t_ours, v_ours, g_ours = time_loss(ours, a, b)
            t_plain, v_plain, g_plain = time_loss(plain, a, b)
            dg = float((g_ours - g_plain).abs().max())
            print(f"| {name} | {k} | {1e3 * t_ours:.1f} | {1e3 * t_plain:.1f} | {t_ours / t_plain:.2f} | "
                  f"{abs(v_ours - v_plain):.1e} | {dg:.1e} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n up to 1e5 (a short check)")
    parser.add_argument("--threads", type=int, default=2, help="torch and BLAS threads")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds a peer may take per fit before larger n are skipped")
    parser.add_argument("--sections", default="12", help="which sections to run: 1, 2 or 12")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    with threadpool_limits(args.threads):
        print(f"# Peers benchmark{' (--quick)' if args.quick else ''}\n")
        print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
              f"scikit-learn {sklearn.__version__}, cca-zoo {cca_zoo.__version__ if cca_zoo else 'not installed'}, "
              f"contrastive-gmm {cg.__version__}; {args.threads} threads (torch and BLAS) of {os.cpu_count()} cores; "
              f"peer budget {args.budget:.0f} s per fit")
        if "1" in args.sections:
            section_closed_forms(args)
        if "2" in args.sections:
            section_losses(args)
    print(f"\nTotal wall time {time.perf_counter() - start:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
