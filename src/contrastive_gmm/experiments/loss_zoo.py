"""The loss x augmentation study: which losses find the subspace the closed form predicts?

Composes mixture (channels, :func:`predicted_subspace`) -> learners (the zoo) -> metrics into
long-format rows; ``benchmarks/loss_zoo.py`` and ``cgmm reproduce`` only call it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
from pydantic import Field, model_validator

from contrastive_gmm.experiments.engine import (
    StudySetting,
    learner_seed,
    register_kind,
    timed_fit,
)
from contrastive_gmm.experiments.figures import plot_panels
from contrastive_gmm.experiments.spec import MethodSpec, StudySpec
from contrastive_gmm.methods import all_methods
from contrastive_gmm.metrics import subspace_angles
from contrastive_gmm.mixtures.gmm import (
    GMM,
    Augmentation,
    ChannelAugmentation,
    NoisyComponent,
    SameComponent,
    predicted_subspace,
)

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
#: The learners of a loss_zoo spec that names none: every registered method fitted on pairs or on
#: labels (LDA aside: it is no loss), plus Chen & He's collapse ablation of SimSiam.
def default_learners() -> list[MethodSpec]:
    """Every registered pair or label learner but LDA, and SimSiam's collapse ablation (cosine, no predictor, unwhitened)."""
    out = [MethodSpec(learner=m.name) for m in all_methods(("pairs", "labels")) if not m.classes_limit]
    out.append(MethodSpec.model_validate(
        {"learner": "simsiam", "name": "SimSiam, cosine, no predictor", "predictor": False, "similarity": "cosine",
         "whiten_output": False}))
    return out


def score_zoo(
    gmm: GMM,
    aug: Augmentation,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    seed: int,
    learners: Sequence[MethodSpec] | None = None,
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
    for method in default_learners() if learners is None else learners:
        name = method.display
        model = method.build(k, seed)
        # Collapse is a result here, recorded as effective_rank, not an error.
        _, seconds = timed_fit(model.fit, X, z) if method.method.inputs == "labels" else timed_fit(model.fit, X, X_pos)
        sub = model.subspace()
        values = {
            "angle_to_predicted": float(subspace_angles(sub, pred.subspace).max()),
            "angle_to_fisher": float(subspace_angles(sub, F).max()),
            "effective_rank": float(getattr(model, "effective_rank_", k)),
        }
        rows.extend({"method": name, "metric": m, "value": v, "fit_seconds": seconds, "k": k, "eigen_gap": pred.gap}
                    for m, v in values.items())
    return rows


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
    learners: list[MethodSpec] = Field(default_factory=default_learners)
    metrics: list[Literal[tuple(METRICS)]] = ["angle_to_predicted", "angle_to_fisher"]  # type: ignore[valid-type]

    def run_identity(self) -> dict[str, Any]:
        """Learners and the seeding scheme (the setting carries the rest)."""
        return {"learners": [m.model_dump(mode="json", exclude_none=True) for m in self.learners],
                "common_random_numbers": self.common_random_numbers}

    def method_names(self) -> list[str]:
        return [m.display for m in self.learners]

    @model_validator(mode="after")
    def _distinct_names(self) -> "ZooStudy":
        names = self.method_names()
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"learners: two learners share the name {dupes[0]!r}; give one a distinct `name`")
        for i, m in enumerate(self.learners):
            if m.method.inputs not in ("pairs", "labels"):
                raise ValueError(f"learners.{i}: {m.learner!r} is fitted on {m.method.inputs}; the loss zoo needs pairs or labels")
        return self

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
    seed = learner_seed(learner_seq)
    return score_zoo(gmm, aug, (X, X_pos, z), seed, spec.learners)  # the engine keeps the columns it records


def plot_zoo(spec: ZooStudy, rows: list[dict], path: Path) -> None:
    """Grouped bars: learners per channel, a row per metric."""
    plot_panels(spec.expand(), rows, path, title=spec.title, metrics=spec.metrics, metric_labels=METRICS,
                panel_titles={"channels": "augmentation channel"})


register_kind("loss_zoo", ZooStudy, run_zoo, plot_zoo)


__all__ = [
    "merge_channel",
    "cyclic_channel",
    "zoo_channels",
    "default_learners",
    "score_zoo",
    "METRICS",
    "ZooStudy",
    "run_zoo",
    "plot_zoo",
]
