"""Benchmark: does default linear CLIP learn, per modality, the shared part of the Fisher subspace?

On multimodal mixtures (n = 20000 pairs) it fits, side by side in one process, default CLIP,
closed-form CCA (the population answer), PLS-SVD, and per-modality PCA and LDA (with labels),
all with k = the number of non-zero population canonical correlations, and prints per modality:

- containment: largest principal angle between the learned subspace and the modality's Fisher
  subspace for z (0 = the learned subspace lies inside it);
- target: largest principal angle to the oracle target Cov(x)^{-1} col(Cov(x, y));
- the fraction of the map's energy outside the Fisher subspace;
- held-out retrieval top-1 / top-5 (exact partner) and same-component top-1, x -> y.

Targets: CLIP within max(1.5 x CCA, CCA + 2 degrees) on both angles, and under 2% of its map's
energy outside the Fisher subspace.

Usage: python benchmarks/multimodal.py [--seeds 3] [--n-pairs 20000]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import contrastive_gmm as cg

SETTINGS = {
    "private-x4, coincide-y1": dict(n_components=6, dim_x=40, dim_y=30, n_private_x=4, coincide_y=1),
    "noise only, dx40 dy20": dict(n_components=6, dim_x=40, dim_y=20),
    "private both, coincide both": dict(n_components=8, dim_x=50, dim_y=40, n_private_x=3, n_private_y=3, coincide_x=1, coincide_y=2),
}


class PerModality:
    """Fit a one-view estimator on each modality separately (PCA, or LDA with labels)."""

    def __init__(self, make):
        self.make = make

    def fit(self, X, Y, z=None):
        self.mx, self.my = self.make().fit(X, z), self.make().fit(Y, z)
        return self

    def transform(self, X, Y):
        return self.mx.transform(X), self.my.transform(Y)

    def subspaces(self):
        return cg.learned_subspace(self.mx), cg.learned_subspace(self.my)

    def components(self):
        return [cg.learned_subspace(m).T for m in (self.mx, self.my)]


def evaluate(name, model, mm, X_test, Y_test, z_test):
    if isinstance(model, PerModality):
        subs, comps = model.subspaces(), model.components()
    else:
        subs = model.x_subspace(), model.y_subspace()
        comps = [model.x_components_, model.y_components_]
    Zx, Zy = model.transform(X_test, Y_test)
    row = {"method": name}
    for m, label in ((0, "x"), (1, "y")):
        F, T = mm.fisher_subspace(m), mm.clip_target(m)
        row[f"{label}_contain"] = cg.subspace_angles(subs[m], F).max()
        row[f"{label}_target"] = cg.subspace_angles(subs[m], T).max()
        row[f"{label}_energy_out"] = cg.energy_outside(comps[m], F)
    row.update(cg.retrieval_accuracy(Zx, Zy, labels=z_test))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-pairs", type=int, default=20000)
    args = parser.parse_args()
    torch.set_num_threads(2)
    all_ok = True
    print(f"n = {args.n_pairs} pairs, mean over {args.seeds} seeds; angles in degrees; k = target dimension\n")
    for sname, kwargs in SETTINGS.items():
        rows = []
        for seed in range(args.seeds):
            mm = cg.MultimodalGMM.random(**kwargs, random_state=seed)
            k = mm.target_dim()
            X, Y, z = mm.sample(args.n_pairs, random_state=seed + 100)
            Xt, Yt, zt = mm.sample(2000, random_state=seed + 200)
            methods = {
                "CLIP": cg.CLIP(k, random_state=seed),
                "CCA": cg.CCA(k),
                "PLS-SVD": cg.PLSSVD(k),
                "PCA per modality": PerModality(lambda: PCA(k)),
                "LDA per modality": PerModality(lambda: LinearDiscriminantAnalysis(n_components=k)),
            }
            for name, model in methods.items():
                start = time.perf_counter()
                if isinstance(model, PerModality):
                    model.fit(X, Y, z)
                else:
                    model.fit(X, Y)
                row = evaluate(name, model, mm, Xt, Yt, zt)
                row["seconds"] = time.perf_counter() - start
                rows.append(row)
        print(f"## {sname} (K = {mm.n_components}, Fisher dims x/y = {mm.fisher_rank(0)}/{mm.fisher_rank(1)}, target dim = {k})")
        cols = ["x_contain", "x_target", "x_energy_out", "y_contain", "y_target", "y_energy_out",
                "x_to_y_top1", "x_to_y_top5", "x_to_y_same_component", "seconds"]
        print(f"{'method':<18}" + "".join(f"{c:>13}" for c in ["x contain", "x target", "x E_out", "y contain", "y target", "y E_out", "top1 x->y", "top5 x->y", "same-comp", "s/fit"]))
        mean = {}
        for name in methods:
            sel = [r for r in rows if r["method"] == name]
            mean[name] = {c: float(np.mean([r[c] for r in sel])) for c in cols}
            fmt = lambda c, v: f"{100 * v:>12.2f}%" if "energy" in c else (f"{v:>13.4f}" if "top" in c or "same" in c else f"{v:>13.2f}")  # noqa: E731
            print(f"{name:<18}" + "".join(fmt(c, mean[name][c]) for c in cols))
        clip, cca = mean["CLIP"], mean["CCA"]
        ok = all(clip[c] <= max(1.5 * cca[c], cca[c] + 2.0) for c in ("x_contain", "x_target", "y_contain", "y_target"))
        ok &= clip["x_energy_out"] < 0.02 and clip["y_energy_out"] < 0.02
        all_ok &= ok
        print(f"chance: top1 {1 / 2000:.4f}, top5 {5 / 2000:.4f}, same-component ~{np.sum(mm.weights ** 2):.3f}.  CLIP targets: {'ok' if ok else 'MISSED'}\n")
    print("All targets met." if all_ok else "Some targets MISSED.")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
