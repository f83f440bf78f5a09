"""Benchmark: loss x augmentation channel -> largest angle to the predicted subspace and to Fisher.

Every learner in the zoo is fitted, side by side in one process, on the same pairs of
``GMM.random(6, 40)`` (n = 20000) under four channels (same component, noisy delta = 0.3, a
channel merging components 0 and 1, a non-symmetric cyclic drift), with k = the dimension
:func:`contrastive_gmm.predicted_subspace` gives. A learner "finds the predicted subspace" when
its angle is within max(1.5 x pair CCA's, pair CCA's + 2 degrees).

Usage: python benchmarks/loss_zoo.py [--seeds 2] [--n-pairs 20000]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from contrastive_gmm import GMM
from contrastive_gmm.experiments.loss_zoo import (
    default_learners,
    score_zoo,
    zoo_channels,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--n-pairs", type=int, default=20000)
    args = parser.parse_args()
    torch.set_num_threads(2)
    channels = list(zoo_channels(6))
    learners = default_learners()  # every registered pair or label learner, and SimSiam's collapse ablation
    rows = []
    for channel in channels:
        for seed in range(args.seeds):
            # Mixture from the seed, pairs from seed + 1: every learner sees the same sample.
            gmm = GMM.random(6, 40, random_state=seed)
            aug = zoo_channels(6)[channel]
            X, X_pos, z, _ = gmm.sample_pairs(args.n_pairs, aug, random_state=seed + 1)
            rows += [{"setting": channel, "seed": seed, **r} for r in score_zoo(gmm, aug, (X, X_pos, z), seed, learners)]

    def mean(channel: str, method: str, metric: str) -> float:
        return float(np.mean([r["value"] for r in rows if (r["setting"], r["method"], r["metric"]) == (channel, method, metric)]))

    print(f"Largest angle (degrees) to the PREDICTED subspace / to FISHER (containment); mean over {args.seeds} seeds, "
          f"n = {args.n_pairs}; rank = effective rank of the map\n")
    dims = {c: next(r["k"] for r in rows if r["setting"] == c) for c in channels}
    gaps = {c: np.mean([r["eigen_gap"] for r in rows if r["setting"] == c]) for c in channels}
    print(f"{'learner':<24}" + "".join(f"{f'{c} (k={dims[c]}, gap {gaps[c]:.2f})':>36}" for c in channels))
    verdicts = {}
    for method in [m.display for m in learners]:
        cells, found = [], []
        for c in channels:
            p, f, r = (mean(c, method, m) for m in ("angle_to_predicted", "angle_to_fisher", "effective_rank"))
            ref = mean(c, "pair CCA", "angle_to_predicted")
            ok = p <= max(1.5 * ref, ref + 2.0)
            found.append(ok)
            cells.append(f"{p:6.1f} / {f:5.1f}  rank {r:.0f} {'ok' if ok else '--'}")
        verdicts[method] = found
        print(f"{method:<24}" + "".join(f"{cell:>36}" for cell in cells))
    print("\nok: within max(1.5 x pair CCA, pair CCA + 2 degrees) of the predicted subspace.")
    for method, found in verdicts.items():
        hits = [c for c, ok in zip(channels, found) if ok]
        print(f"- {method}: finds the predicted subspace under {len(hits)}/{len(channels)} channels"
              + (f" (misses: {', '.join(c for c, ok in zip(channels, found) if not ok)})" if len(hits) < len(channels) else "") + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
