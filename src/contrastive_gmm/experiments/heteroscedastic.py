"""The ``heteroscedastic`` study kind: what the learners find when each component has its own covariance.

Every setting draws :meth:`GMM.random` with ``heteroscedasticity = h`` (each component's
covariance, whitened by the shared base one, has eigenvalues from e^-h to e^h; h = 0 is the
shared mixture, and the means stay those of h = 0 for the same seed), n positive pairs and a
held-out sample, fits every method on the same data and scores:

- ``angle_to_predicted``: the largest principal angle (degrees) between the learned span and
  :func:`predicted_subspace` (for same-component or noisy pairs, the Fisher subspace of the
  mean within covariance: what LDA estimates).
- ``bayes_accuracy``: held-out accuracy of the Bayes rule of the projected mixture on the
  embedding: each class's projected mean and covariance are known, so it is QDA with the true
  parameters in k dimensions, the best any classifier of that embedding can do.

Two reference rows need no fit: ``predicted subspace`` (the Bayes accuracy of its embedding) and
``full space`` (the Bayes accuracy in R^d, which grows with h as the covariances' differences
tell the classes apart: information a k-dimensional linear map of these kinds does not keep).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from contrastive_gmm.experiments.engine import (
    StudySetting,
    learner_seed,
    register_kind,
    timed_fit,
)
from contrastive_gmm.experiments.figures import plot_panels
from contrastive_gmm.experiments.fisher import Point, build_method, fit_method
from contrastive_gmm.experiments.spec import MethodSpec, StudySpec, validate_params
from contrastive_gmm.metrics import learned_subspace, subspace_angles
from contrastive_gmm.mixtures.gmm import GMM, predicted_subspace

#: Metrics a ``heteroscedastic`` run reports, with the words used on the figure.
METRICS: dict[str, str] = {
    "angle_to_predicted": "largest angle to the predicted subspace (°)",
    "bayes_accuracy": "held-out Bayes accuracy on the embedding",
}

#: Rows every run adds beside the methods: the closed form's embedding and the full space.
PREDICTED, FULL_SPACE = "predicted subspace", "full space"


class HeteroPoint(Point):
    """A :class:`~contrastive_gmm.experiments.fisher.Point` with ``heteroscedasticity`` (h >= 0; 0: shared covariance)."""

    heteroscedasticity: float = Field(0.0, ge=0)

    def mixture(self, rng: np.random.Generator, **extra: Any) -> GMM:
        """The setting's random mixture, one covariance per component when h > 0."""
        return super().mixture(rng, heteroscedasticity=self.heteroscedasticity, **extra)


def bayes_accuracy(gmm: GMM, X: np.ndarray, z: np.ndarray, basis: np.ndarray | None = None) -> float:
    """Accuracy on ``(X, z)`` of the Bayes rule of ``gmm`` (in R^d), or of its projection on ``basis`` (d, k).

    >>> gmm = GMM.random(3, 4, random_state=0)
    >>> X, z = gmm.sample(500, random_state=1)
    >>> bool(bayes_accuracy(gmm, X, z) >= bayes_accuracy(gmm, X, z, gmm.fisher_subspace(1)))
    True
    """
    if basis is None:
        return float(np.mean(gmm.predict(X) == z))
    return float(np.mean(gmm.project(basis).predict(X @ basis) == z))


class HeteroscedasticStudy(StudySpec):
    """Spec of a ``heteroscedastic`` study: methods on mixtures whose covariances differ by ``values`` of h.

    ``base`` holds :class:`HeteroPoint` fields shared by every setting; ``values`` are the
    heteroscedasticities swept (one panel); ``methods`` are fitted on pairs, labels or features.
    """

    kind: Literal["heteroscedastic"]
    base: dict[str, Any] = {}
    values: list[float] = Field(min_length=1)
    methods: list[MethodSpec] = Field(min_length=1)
    metrics: list[Literal[tuple(METRICS)]] = list(METRICS)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _names(self) -> "HeteroscedasticStudy":
        names = self.method_names()
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"methods: the name {dupes[0]!r} is taken (by another method or a reference row); give one a distinct `name`")
        for i, m in enumerate(self.methods):
            if m.method.inputs == "two_views":
                raise ValueError(f"methods.{i}.learner: {m.learner!r} learns from two views; this study has one modality")
        return self

    def run_identity(self) -> dict[str, Any]:
        """Methods and the seeding scheme (the setting carries the rest)."""
        return {"methods": [m.model_dump(mode="json", exclude_none=True) for m in self.methods],
                "common_random_numbers": self.common_random_numbers}

    def method_names(self) -> list[str]:
        return [m.display for m in self.methods] + [PREDICTED, FULL_SPACE]

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def expand(self) -> list[StudySetting]:
        """One setting per value of h, labelled ``h=<value>``."""
        out = []
        for j, h in enumerate(self.values):
            point = validate_params(HeteroPoint, {**self.base, "heteroscedasticity": h}, f"values.{j}")
            try:
                point = point.resolved()
            except ValueError as exc:
                raise ValueError(f"base: {exc}") from None
            out.append(StudySetting(f"h={h:g}", "heteroscedasticity", float(h), point.model_dump(mode="json")))
        labels = [s.label for s in out]
        if len(set(labels)) != len(labels):
            raise ValueError(f"values: each h must appear once; got {self.values}")
        return out

    def panel_title(self, panel: str) -> str:
        """The panel's title in the report's setup line (the figure's x axis says more)."""
        return "h"

    def x_name(self, panel: str) -> str:
        """The swept axis in a sentence."""
        return "h"

    def quiet_defaults(self) -> dict[str, Any]:
        """Mixture details left at their defaults are not listed; sizes always are."""
        return {k: HeteroPoint.model_fields[k].default
                for k in ("anisotropy", "noise_variance", "rotate", "delta", "n_test", "temperature")}

    def shown_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The setup line: k and the class-free directions only where not K - 1."""
        K = params["n_components"]
        return {k: v for k, v in params.items() if not (k in ("k", "n_noise_directions") and v == K - 1)}


def run_heteroscedastic(spec: HeteroscedasticStudy, setting: StudySetting, seeds: np.random.SeedSequence) -> list[dict]:
    """One run: the setting's mixture, pairs and held-out sample from ``seeds``; every method scored against the closed form."""
    point = HeteroPoint.model_validate(setting.params)
    mixture_seq, pair_seq, test_seq, learner_seq = seeds.spawn(4)
    gmm = point.mixture(np.random.default_rng(mixture_seq))
    aug = point.augmentation()
    X, X_pos, z, _ = gmm.sample_pairs(point.n_pairs, aug, random_state=np.random.default_rng(pair_seq))
    X_test, z_test = gmm.sample(point.n_test, random_state=np.random.default_rng(test_seq))
    pred = predicted_subspace(gmm, aug, n_components=point.k).subspace
    rows = [
        {"method": PREDICTED, "metric": "bayes_accuracy", "value": bayes_accuracy(gmm, X_test, z_test, pred)},
        {"method": FULL_SPACE, "metric": "bayes_accuracy", "value": bayes_accuracy(gmm, X_test, z_test)},
    ]
    seed = learner_seed(learner_seq)
    for method in spec.methods:
        model = build_method(method, point.k, gmm.n_components, seed, point.temperature)
        _, seconds = timed_fit(fit_method, method, model, X, X_pos, z)
        L = learned_subspace(model)
        scores = {"angle_to_predicted": float(subspace_angles(L, pred).max()),
                  "bayes_accuracy": bayes_accuracy(gmm, X_test, z_test, L)}
        rows.extend({"method": method.display, "metric": m, "value": v, "fit_seconds": seconds} for m, v in scores.items())
    return rows


def plot_heteroscedastic(spec: HeteroscedasticStudy, rows: list[dict], path: Path) -> None:
    """The study's figure: a row per metric against h (see :func:`~contrastive_gmm.experiments.figures.plot_panels`)."""
    settings = spec.expand()
    plot_panels(settings, rows, path, title=spec.title, metrics=spec.metrics, metric_labels=METRICS,
                panel_titles={"heteroscedasticity": "heteroscedasticity h (whitened, each covariance spans e^-h to e^h)"})


register_kind("heteroscedastic", HeteroscedasticStudy, run_heteroscedastic, plot_heteroscedastic)


__all__ = [
    "METRICS",
    "PREDICTED",
    "FULL_SPACE",
    "HeteroPoint",
    "bayes_accuracy",
    "HeteroscedasticStudy",
    "run_heteroscedastic",
    "plot_heteroscedastic",
]
