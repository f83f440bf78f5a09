"""The ``multimodal`` study kind: linear CLIP vs CCA vs PLS-SVD vs per-modality PCA on shared-component mixtures.

Each named setting is a :meth:`MultimodalGMM.random` mixture (private clusters, coinciding
components, anisotropic noise). Every method gets k = the number of non-zero population
canonical correlations and is scored per modality, reporting the worse of the two:

- ``target_angle``: largest angle (degrees) to the oracle target ``Cov(x)^{-1} col(Cov(x, y))``;
- ``containment_angle``: largest angle to the modality's Fisher subspace for z (0 = inside it);
- ``energy_outside``: fraction of the map's energy outside the Fisher subspace;
- ``retrieval_top1`` / ``retrieval_top5``: held-out x -> y retrieval of the exact partner;
- ``same_component_top1``: the top x -> y match has the query's component.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sklearn.decomposition import PCA

from contrastive_gmm.experiments.engine import (
    StudySetting,
    learner_seed,
    register_kind,
    timed_fit,
)
from contrastive_gmm.experiments.figures import plot_panels
from contrastive_gmm.experiments.spec import StudySpec, named_settings, validate_params
from contrastive_gmm.methods import find_method, get_method, method_names
from contrastive_gmm.metrics import energy_outside, retrieval_accuracy, subspace_angles
from contrastive_gmm.mixtures.multimodal import MultimodalGMM

METRICS: dict[str, str] = {
    "target_angle": "largest angle to CLIP's target (°)",
    "containment_angle": "largest angle to the Fisher subspace (°)",
    "energy_outside": "map energy outside Fisher",
    "retrieval_top1": "x→y retrieval top-1",
    "retrieval_top5": "x→y retrieval top-5",
    "same_component_top1": "x→y top-1 has the same component",
}

#: The default methods: registered two-view methods (by label) and the baseline that sees no pairing.
METHOD_NAMES = ("CLIP", "CCA", "PLS-SVD", "PCA per modality")
_BASELINE = "PCA per modality"


class MultimodalPoint(BaseModel):
    """One setting: :meth:`MultimodalGMM.random`'s arguments plus sample sizes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_components: int = Field(6, ge=2)
    dim_x: int = Field(40, ge=1)
    dim_y: int = Field(30, ge=1)
    separation: float = Field(3.0, gt=0)
    anisotropy: float = Field(10.0, ge=1)
    noise_variance: float = Field(25.0, gt=0)
    n_private_x: int = Field(0, ge=0)
    n_private_y: int = Field(0, ge=0)
    private_separation: float = Field(4.0, gt=0)
    coincide_x: int = Field(0, ge=0)
    coincide_y: int = Field(0, ge=0)
    n_pairs: int = Field(20000, ge=10)
    n_test: int = Field(2000, ge=10)

    def mixture(self, rng: np.random.Generator) -> MultimodalGMM:
        """The setting's random mixture."""
        kwargs = self.model_dump(exclude={"n_pairs", "n_test", "n_components", "dim_x", "dim_y"})
        return MultimodalGMM.random(self.n_components, self.dim_x, self.dim_y, random_state=rng, **kwargs)


class _PerModalityPCA:
    """PCA fitted on each modality alone: the baseline that sees no pairing."""

    def __init__(self, k: int, seed: int) -> None:
        self.x, self.y = PCA(k, random_state=seed), PCA(k, random_state=seed)

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "_PerModalityPCA":
        self.x.fit(X)
        self.y.fit(Y)
        self.x_components_, self.y_components_ = self.x.components_, self.y.components_
        return self

    def transform(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.x.transform(X), self.y.transform(Y)


def _build(name: str, k: int, seed: int) -> Any:
    """A fresh two-view estimator: a registered method (name or label), or the per-modality PCA baseline."""
    return _PerModalityPCA(k, seed) if name == _BASELINE else get_method(name).build(k, seed)


def _check_method(name: str) -> str:
    if name != _BASELINE and (find_method(name) is None or find_method(name).inputs != "two_views"):
        raise ValueError(f"unknown two-view method {name!r}; use {_BASELINE!r} or one of {method_names('two_views')} (or their labels)")
    return name


class MultimodalStudy(StudySpec):
    """Spec of a ``multimodal`` study: named :class:`MultimodalPoint` settings, methods, figure metrics."""

    kind: Literal["multimodal"]
    base: dict[str, Any] = {}
    settings: list[dict[str, Any]] = Field(min_length=1)
    methods: list[Annotated[str, AfterValidator(_check_method)]] = list(METHOD_NAMES)
    metrics: list[Literal[tuple(METRICS)]] = ["target_angle", "containment_angle", "same_component_top1"]  # type: ignore[valid-type]

    def run_identity(self) -> dict[str, Any]:
        """Methods and the seeding scheme (the setting carries the rest)."""
        return {"methods": list(self.methods), "common_random_numbers": self.common_random_numbers}

    def method_names(self) -> list[str]:
        return list(self.methods)

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def expand(self) -> list[StudySetting]:
        """One setting per named entry of ``settings`` (each updates ``base``)."""
        out = []
        for i, name, fields in named_settings(self.settings):
            point = validate_params(MultimodalPoint, {**self.base, **fields}, f"settings.{i}")
            out.append(StudySetting(name, "settings", name, point.model_dump(mode="json")))
        return out


def run_multimodal(spec: MultimodalStudy, setting: StudySetting, seeds: np.random.SeedSequence) -> list[dict]:
    """One run: draw the mixture, pairs and held-out pairs from ``seeds``; score every method."""
    point = MultimodalPoint.model_validate(setting.params)
    mixture_seq, pair_seq, test_seq, learner_seq = seeds.spawn(4)
    mm = point.mixture(np.random.default_rng(mixture_seq))
    X, Y, _ = mm.sample(point.n_pairs, random_state=np.random.default_rng(pair_seq))
    Xt, Yt, zt = mm.sample(point.n_test, random_state=np.random.default_rng(test_seq))
    seed = learner_seed(learner_seq)
    k = mm.target_dim()
    rows = []
    for name in spec.methods:
        model = _build(name, k, seed)
        _, seconds = timed_fit(model.fit, X, Y)
        values: dict[str, float] = {"target_angle": 0.0, "containment_angle": 0.0, "energy_outside": 0.0}
        for m, W in enumerate((model.x_components_, model.y_components_)):
            basis = np.linalg.qr(np.asarray(W).T)[0]
            F = mm.fisher_subspace(m)
            values["target_angle"] = max(values["target_angle"], float(subspace_angles(basis, mm.clip_target(m)).max()))
            values["containment_angle"] = max(values["containment_angle"], float(subspace_angles(basis, F).max()))
            values["energy_outside"] = max(values["energy_outside"], energy_outside(W, F))
        retrieval = retrieval_accuracy(*model.transform(Xt, Yt), labels=zt)
        values["retrieval_top1"] = retrieval["x_to_y_top1"]
        values["retrieval_top5"] = retrieval["x_to_y_top5"]
        values["same_component_top1"] = retrieval["x_to_y_same_component"]
        rows.extend({"method": name, "metric": m, "value": v, "fit_seconds": seconds} for m, v in values.items())
    return rows


def plot_multimodal(spec: MultimodalStudy, rows: list[dict], path: Path) -> None:
    """A bar chart per metric in ``spec.metrics`` over the named settings."""
    plot_panels(spec.expand(), rows, path, title=spec.title, metrics=spec.metrics, metric_labels=METRICS,
                panel_titles={"settings": "settings"})


register_kind("multimodal", MultimodalStudy, run_multimodal, plot_multimodal)

__all__ = ["METRICS", "MultimodalPoint", "MultimodalStudy", "run_multimodal", "plot_multimodal"]
