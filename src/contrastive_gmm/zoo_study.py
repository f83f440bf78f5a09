"""The loss x augmentation study: which losses find the subspace the closed form predicts?

Composes mixture (channels, :func:`predicted_subspace`) -> learners (the zoo) -> metrics into
long-format rows; ``benchmarks/loss_zoo.py`` and ``cgmm reproduce`` only call it.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
from pydantic import Field

from .config import StudySpec
from .contrastive import InfoNCE
from .engine import StudySetting, register_kind
from .metrics import subspace_angles
from .mixture import GMM, Augmentation, ChannelAugmentation, NoisyComponent, SameComponent, predicted_subspace
from .spectral import SpectralContrastive
from .report import plot_panels
from .zoo import SimCLR, SimSiam, SpectralContrastiveLearner, SupCon

CHANNEL_NAMES = ("same component", "noisy 0.3", "merge 0+1", "cyclic drift")


def merge_channel(n_components: int, pair: tuple[int, int] = (0, 1)) -> ChannelAugmentation:
    """Q that sends components ``pair`` to either of them with probability 1/2 (others stay)."""
    Q = np.eye(n_components)
    i, j = pair
    Q[[i, j]] = 0.0
    Q[np.ix_([i, j], [i, j])] = 0.5
    return ChannelAugmentation(Q)


def cyclic_channel(n_components: int, stay: float = 0.5) -> ChannelAugmentation:
    """Non-symmetric Q: stay with probability ``stay``, else move to the next component (mod K).

    Uniform weights stay stationary. Its symmetric part is ``stay I + (1 - stay)/2 (P + P^T)``,
    whose eigenvalue for the alternating pattern is ``2 stay - 1``: at ``stay = 0.5`` that
    direction of the Fisher subspace (K even) gets zero pair correlation and is not learnable.
    """
    P = np.roll(np.eye(n_components), 1, axis=1)
    return ChannelAugmentation(stay * np.eye(n_components) + (1 - stay) * P)


def zoo_channels(n_components: int) -> dict[str, Augmentation]:
    """The study's channels: same component, noisy (delta 0.3), merge of two components, cyclic drift."""
    channels = (SameComponent(), NoisyComponent(0.3), merge_channel(n_components), cyclic_channel(n_components))
    return dict(zip(CHANNEL_NAMES, channels))


#: name -> (factory(k, seed), needs labels)
ZOO_LEARNERS: dict[str, tuple[Callable[[int, int], object], bool]] = {
    "InfoNCE": (lambda k, s: InfoNCE(k, random_state=s), False),
    "pair CCA (closed form)": (lambda k, s: SpectralContrastive(k), False),
    "spectral contrastive": (lambda k, s: SpectralContrastiveLearner(k, random_state=s), False),
    "SimCLR (NT-Xent)": (lambda k, s: SimCLR(k, random_state=s), False),
    "SimSiam": (lambda k, s: SimSiam(k, random_state=s), False),
    # Chen & He's collapse ablation: their cosine loss, no predictor, no output whitening.
    "SimSiam, cosine, no predictor": (lambda k, s: SimSiam(k, predictor=False, similarity="cosine", whiten_output=False, random_state=s), False),
    "SupCon (labels)": (lambda k, s: SupCon(k, random_state=s), True),
}


def score_zoo(
    gmm: GMM,
    aug: Augmentation,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    seed: int,
    learners: tuple[str, ...] = tuple(ZOO_LEARNERS),
) -> list[dict]:
    """Fit every learner on ``data = (X, X_pos, z)``; one row per learner and metric.

    Each learner gets k = the predicted dimension. Metrics: ``angle_to_predicted`` and
    ``angle_to_fisher`` (containment: 0 when the learned subspace lies inside Fisher), degrees;
    ``effective_rank``. SupCon sees the anchors' labels instead of pairs.
    """
    X, X_pos, z = data
    pred = predicted_subspace(gmm, aug)
    k = pred.dim
    F = gmm.fisher_subspace()
    rows = []
    for name in learners:
        factory, needs_labels = ZOO_LEARNERS[name]
        model = factory(k, seed)
        start = time.perf_counter()
        with warnings.catch_warnings():
            # Collapse is a result here, recorded as effective_rank, not an error.
            warnings.simplefilter("ignore")
            model.fit(X, z) if needs_labels else model.fit(X, X_pos)
        seconds = time.perf_counter() - start
        sub = model.subspace()
        values = {
            "angle_to_predicted": float(subspace_angles(sub, pred.subspace).max()),
            "angle_to_fisher": float(subspace_angles(sub, F).max()),
            "effective_rank": float(getattr(model, "effective_rank_", k)),
        }
        rows.extend({"method": name, "metric": m, "value": v, "fit_seconds": seconds, "k": k, "eigen_gap": pred.gap}
                    for m, v in values.items())
    return rows


def run_zoo_setting(channel: str, seed: int = 0, n_pairs: int = 20000, n_components: int = 6, dim: int = 40,
                    learners: tuple[str, ...] = tuple(ZOO_LEARNERS)) -> list[dict]:
    """The benchmark's convention: mixture from ``seed``, pairs from ``seed + 1``; rows carry setting and seed."""
    gmm = GMM.random(n_components, dim, random_state=seed)
    aug = zoo_channels(n_components)[channel]
    X, X_pos, z, _ = gmm.sample_pairs(n_pairs, aug, random_state=seed + 1)
    return [{"setting": channel, "seed": seed, **row} for row in score_zoo(gmm, aug, (X, X_pos, z), seed, learners)]


# ---------------------------------------------------------------------------- the study kind
METRICS: dict[str, str] = {
    "angle_to_predicted": "largest angle to the predicted subspace (°)",
    "angle_to_fisher": "largest angle to Fisher, containment (°)",
    "effective_rank": "effective rank of the map",
}


class ZooStudy(StudySpec):
    """Spec of a ``loss_zoo`` study: learners x channels on one kind of :meth:`GMM.random` mixture."""

    kind: Literal["loss_zoo"]
    n_components: int = Field(6, ge=3)
    dim: int = Field(40, ge=4)
    n_pairs: int = Field(20000, ge=10)
    channels: list[Literal[CHANNEL_NAMES]] = list(CHANNEL_NAMES)  # type: ignore[valid-type]
    learners: list[Literal[tuple(ZOO_LEARNERS)]] = list(ZOO_LEARNERS)  # type: ignore[valid-type]
    metrics: list[Literal[tuple(METRICS)]] = ["angle_to_predicted", "angle_to_fisher"]  # type: ignore[valid-type]

    def run_identity(self) -> dict[str, Any]:
        """Learners and the seeding scheme (the setting carries the rest)."""
        return {"learners": list(self.learners), "common_random_numbers": self.common_random_numbers}

    def method_names(self) -> list[str]:
        return list(self.learners)

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def expand(self) -> list[StudySetting]:
        """One setting per channel."""
        if self.dim < 2 * (self.n_components - 1):
            raise ValueError(f"dim must be at least 2 (n_components - 1) = {2 * (self.n_components - 1)}; got {self.dim}")
        params = {"n_components": self.n_components, "dim": self.dim, "n_pairs": self.n_pairs}
        return [StudySetting(c, "channels", c, {**params, "channel": c}) for c in self.channels]


def run_zoo(spec: ZooStudy, setting: StudySetting, seeds: np.random.SeedSequence) -> list[dict]:
    """One run: mixture and pairs drawn from ``seeds``; every learner scored against the prediction."""
    p = setting.params
    mixture_seq, pair_seq, learner_seq = seeds.spawn(3)
    gmm = GMM.random(p["n_components"], p["dim"], random_state=np.random.default_rng(mixture_seq))
    aug = zoo_channels(p["n_components"])[p["channel"]]
    X, X_pos, z, _ = gmm.sample_pairs(p["n_pairs"], aug, random_state=np.random.default_rng(pair_seq))
    seed = int(learner_seq.generate_state(1)[0]) % (2**31)
    return score_zoo(gmm, aug, (X, X_pos, z), seed, tuple(spec.learners))  # the engine keeps the columns it records


def plot_zoo(spec: ZooStudy, rows: list[dict], path: Path) -> None:
    """Grouped bars: learners per channel, a row per metric."""
    plot_panels(spec.expand(), rows, path, title=spec.title, metrics=spec.metrics, metric_labels=METRICS,
                panel_titles={"channels": "augmentation channel"})


register_kind("loss_zoo", ZooStudy, run_zoo, plot_zoo)


__all__ = ["merge_channel", "cyclic_channel", "zoo_channels", "ZOO_LEARNERS", "score_zoo", "run_zoo_setting",
           "ZooStudy", "run_zoo", "plot_zoo"]
