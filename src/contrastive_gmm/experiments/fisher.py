"""The ``fisher`` study kind: which learners find the Fisher subspace of a known mixture, as one axis moves.

Composes the other modules (mixture -> learners -> metrics) into metric rows. A ``fisher``
spec (see ``contrastive_gmm/experiments/studies/*.toml``) has a ``base`` setting, a list of ``methods``,
and either ``sweeps`` (numeric axes, one figure panel each) or named ``settings`` (one bar
chart). Every setting draws a mixture with :meth:`GMM.random`, n positive pairs and a held-out
sample, fits every method on the same data (trained learners from a random start) and scores:

- ``max_angle``: the largest principal angle (degrees) between the learned span L (k-dim) and
  the true Fisher subspace F (K-1 dim). When k != K-1 the angles are those of the smaller
  space to its projection onto the larger: for k < K-1 it says whether L lies *inside* F, for
  k > K-1 whether F lies inside L (containment); for k = K-1 it is the usual distance.
- ``top_k_angle`` (only when k < K-1): the angle to the k most discriminative Fisher directions.
- ``nmi``, ``ari``, ``accuracy``: k-means (K clusters) on the held-out embedding.
- for InfoNCE: ``effective_rank`` (singular values of the map on whitened data above 1% of the
  largest), ``collapsed`` (k minus that), ``min_singular_ratio`` (smallest over largest) and ``epochs``.

LDA sees the labels of the n anchors and is capped at K-1 directions; PCA sees the n anchors;
the unlabelled pair learners see the n pairs.

The benchmarks run the shipped specs themselves (``benchmarks/fisher_recovery.py`` runs the
``headline`` study in one process).
"""

from __future__ import annotations

from pathlib import Path
from typing import (
    Any,
    Literal,
    Optional,
)

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from contrastive_gmm.experiments.engine import (
    StudySetting,
    learner_seed,
    register_kind,
    timed_fit,
)
from contrastive_gmm.experiments.figures import plot_panels
from contrastive_gmm.experiments.spec import (
    MethodSpec,
    StudySpec,
    named_settings,
    validate_params,
)
from contrastive_gmm.learners.infonce import InfoNCE
from contrastive_gmm.metrics import cluster_scores, learned_subspace, subspace_angles
from contrastive_gmm.mixtures.gmm import (
    GMM,
    Augmentation,
    NoisyComponent,
    SameComponent,
)

# ---------------------------------------------------------------------------- settings


class Point(BaseModel):
    """One fully specified setting: the mixture (:meth:`GMM.random`'s arguments), δ, n, k and τ.

    ``n_noise_directions`` and ``k`` default to K - 1; ``temperature`` (when set) is used by
    every InfoNCE method that does not fix its own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_components: int = Field(6, ge=2)
    dim: int = Field(40, ge=1)
    separation: float = Field(3.0, gt=0)
    anisotropy: float = Field(10.0, ge=1)
    n_noise_directions: Optional[int] = Field(None, ge=0)
    noise_variance: float = Field(25.0, gt=0)
    rotate: bool = True
    delta: float = Field(0.0, ge=0, le=1)
    n_pairs: int = Field(20000, ge=10)
    n_test: int = Field(5000, ge=10)
    k: Optional[int] = Field(None, ge=1)
    temperature: Optional[float] = Field(None, gt=0)

    def resolved(self) -> "Point":
        """A copy with the K - 1 defaults filled in, after checking the fields fit together."""
        K = self.n_components
        noise = K - 1 if self.n_noise_directions is None else self.n_noise_directions
        k = K - 1 if self.k is None else self.k
        if self.dim < K - 1 + noise:
            raise ValueError(
                f"dim={self.dim} is too small for n_components={K} with {noise} noise directions "
                f"(needs dim >= {K - 1 + noise})"
            )
        if k > self.dim:
            raise ValueError(f"k={k} exceeds dim={self.dim}")
        if self.n_test < 2 * K:
            raise ValueError(f"n_test={self.n_test} is too small for k-means with {K} clusters (needs >= {2 * K})")
        return self.model_copy(update={"n_noise_directions": noise, "k": k})

    def mixture(self, rng: np.random.Generator, **extra: Any) -> GMM:
        """The setting's random mixture (``extra``: further :meth:`GMM.random` options, for subclasses)."""
        return GMM.random(
            self.n_components,
            self.dim,
            separation=self.separation,
            anisotropy=self.anisotropy,
            n_noise_directions=self.n_noise_directions,
            noise_variance=self.noise_variance,
            rotate=self.rotate,
            random_state=rng,
            **extra,
        )

    def augmentation(self) -> Augmentation:
        """Same-component pairs, or noisy ones when ``delta > 0``."""
        return NoisyComponent(self.delta) if self.delta > 0 else SameComponent()


#: Axes a sweep may move, with the words used on the figures.
AXES: dict[str, str] = {
    "anisotropy": "condition number of the within covariance",
    "noise_variance": "variance of the class-free directions",
    "n_noise_directions": "number of class-free directions",
    "separation": "separation of the means",
    "n_components": "number of components K (k = K - 1)",
    "dim": "dimension d",
    "delta": "augmentation noise δ",
    "n_pairs": "positive pairs n",
    "n_test": "held-out points",
    "k": "target dimension k",
    "temperature": "InfoNCE temperature τ",
}

#: Metrics a ``fisher`` run reports, with the words used on the figures.
METRICS: dict[str, str] = {
    "max_angle": "largest angle to Fisher (°)",
    "top_k_angle": "angle to top-k Fisher (°)",
    "nmi": "held-out k-means NMI",
    "ari": "held-out k-means ARI",
    "accuracy": "held-out k-means accuracy",
    "effective_rank": "effective rank of the map",
    "collapsed": "collapsed directions",
    "min_singular_ratio": "smallest / largest singular value",
    "epochs": "training epochs",
}


#: How a sentence names each axis ("from n = 4000 on").
AXIS_SYMBOLS: dict[str, str] = {
    "anisotropy": "condition number", "noise_variance": "extra variance", "n_noise_directions": "class-free directions",
    "separation": "separation", "n_components": "K", "dim": "d", "delta": "δ", "n_pairs": "n", "n_test": "held-out n",
    "k": "k", "temperature": "τ",
}


def _format_value(v: float) -> str:
    return f"{v:g}"


def _fields(params: dict[str, Any], where: str) -> dict[str, Any]:
    """The fields set in ``params``, each checked on its own; errors name ``where``."""
    return validate_params(Point, params, where).model_dump(exclude_unset=True)


def _point(params: dict[str, Any], where: str) -> Point:
    """Validate and resolve ``params``; errors become one line that starts with ``where``."""
    point = validate_params(Point, params, where)
    try:
        return point.resolved()
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


class Sweep(BaseModel):
    """One panel: ``axis`` takes each of ``values``, the rest is ``base`` updated with ``fixed``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    axis: Literal[tuple(AXES)]  # type: ignore[valid-type]
    values: list[float] = Field(min_length=1)
    fixed: dict[str, Any] = {}
    name: Optional[str] = Field(None, min_length=1, description="Panel name (default: the axis).")
    label: Optional[str] = Field(None, description="Panel title (default: the axis in words).")
    log: Optional[bool] = Field(None, description="Log-scale x axis (default: when values span a factor >= 20).")

    @property
    def panel(self) -> str:
        """The panel's name."""
        return self.name or self.axis

    @property
    def title(self) -> str:
        """The panel's title."""
        return self.label or AXES[self.axis]


# ---------------------------------------------------------------------------- methods


#: This study's own defaults for a method (a spec's options override them). LDA by the eigen solver:
#: the textbook generalised eigenproblem, the same subspace as "svd" and 10x faster at d = 200.
_STUDY_DEFAULTS: dict[str, dict[str, Any]] = {"lda": {"solver": "eigen"}}


def build_method(method: MethodSpec, k: int, n_components: int, seed: int, temperature: float | None) -> Any:
    """A fresh estimator for ``method`` with ``k`` directions (LDA: at most K - 1) on a K-component mixture.

    The setting's temperature applies to a method that has one, unless the spec fixes its own.
    """
    spec = method.method
    defaults = dict(_STUDY_DEFAULTS.get(spec.name, {}))
    if temperature is not None and "temperature" in spec.parameters():
        defaults["temperature"] = temperature
    return method.build(min(k, n_components - 1) if spec.classes_limit else k, seed, **defaults)


def fit_method(method: MethodSpec, model: Any, X: np.ndarray, X_pos: np.ndarray, z: np.ndarray) -> Any:
    """Fit on what the method learns from: the pairs, the anchors' labels, or the anchors alone."""
    inputs = method.method.inputs
    if inputs == "labels":
        return model.fit(X, z)
    if inputs == "features":
        return model.fit(X)
    return model.fit(X, X_pos)


def fit_and_score(
    method: MethodSpec,
    gmm: GMM,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    k: int,
    seed: int,
    temperature: float | None = None,
) -> tuple[dict[str, float], float]:
    """Fit one method on ``data = (X, X_pos, z)`` and score it against ``gmm``; returns (metrics, fit seconds)."""
    X, X_pos, z = data
    K = gmm.n_components
    model = build_method(method, k, K, seed, temperature)
    _, seconds = timed_fit(fit_method, method, model, X, X_pos, z)  # a collapse is recorded below
    L = learned_subspace(model)
    out = {"max_angle": float(subspace_angles(L, gmm.fisher_subspace()).max())}
    if k < K - 1:
        out["top_k_angle"] = float(subspace_angles(L, gmm.fisher_subspace(k)).max())
    out.update(cluster_scores(model.transform(test[0]), test[1]))
    if hasattr(model, "effective_rank_"):
        out["effective_rank"] = float(model.effective_rank_)
        out["collapsed"] = float(len(model.singular_values_) - model.effective_rank_)
        out["min_singular_ratio"] = float(model.singular_values_.min() / model.singular_values_.max())
        out["epochs"] = float(model.n_iter_)
    return out, seconds


# ---------------------------------------------------------------------------- the study kind


class FisherStudy(StudySpec):
    """Spec of a ``fisher`` study: methods compared on the Fisher subspace of random mixtures.

    ``base`` holds :class:`Point` fields shared by every setting; ``sweeps`` move one axis each
    (a panel per sweep); ``settings`` is a list of named settings (``name`` plus Point fields)
    shown as one bar chart. ``metrics`` are the figure's rows.
    """

    kind: Literal["fisher"]
    base: dict[str, Any] = {}
    methods: list[MethodSpec] = Field(min_length=1)
    sweeps: list[Sweep] = []
    settings: list[dict[str, Any]] = []
    metrics: list[Literal[tuple(METRICS)]] = ["max_angle", "nmi"]  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _distinct_method_names(self) -> "FisherStudy":
        names = self.method_names()
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"methods: two methods share the name {dupes[0]!r}; give one a distinct `name`")
        for i, m in enumerate(self.methods):
            if m.method.inputs == "two_views":
                raise ValueError(f"methods.{i}.learner: {m.learner!r} learns from two views; a fisher study has one modality")
            if m.options.get("init", "random") != "random" and m.name is None:
                raise ValueError(f"methods.{i}.name: a {m.method.label} with init={m.options['init']!r} must be named as its own method")
        return self

    def run_identity(self) -> dict[str, Any]:
        """Methods and the seeding scheme (the setting carries the rest)."""
        return {
            "methods": [m.model_dump(mode="json", exclude_none=True) for m in self.methods],
            "common_random_numbers": self.common_random_numbers,
        }

    def method_names(self) -> list[str]:
        return [m.display for m in self.methods]

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def expand(self) -> list[StudySetting]:
        """One setting per sweep value (panel = the sweep) and one per named setting (panel "settings")."""
        if not self.sweeps and not self.settings:
            raise ValueError("a fisher study needs `sweeps` or `settings`")
        base_fields = _fields(self.base, "base")
        out: list[StudySetting] = []
        panels: set[str] = set()
        for i, sweep in enumerate(self.sweeps):
            if sweep.panel in panels:
                raise ValueError(f"sweeps.{i}.name: two sweeps share the panel name {sweep.panel!r}; give one a distinct `name`")
            panels.add(sweep.panel)
            fixed = _fields(sweep.fixed, f"sweeps.{i}.fixed")
            for j, value in enumerate(sweep.values):
                point = _point({**base_fields, **fixed, sweep.axis: value}, f"sweeps.{i}.values.{j}")
                label = f"{sweep.axis}={_format_value(value)}"
                if sweep.panel != sweep.axis:
                    label = f"{sweep.panel}: {label}"
                out.append(StudySetting(label, sweep.panel, float(value), point.model_dump(mode="json")))
        for i, name, fields in named_settings(self.settings):
            point = _point({**base_fields, **fields}, f"settings.{i}")
            out.append(StudySetting(name, "settings", name, point.model_dump(mode="json")))
        labels = [s.label for s in out]
        dupes = sorted({n for n in labels if labels.count(n) > 1})
        if dupes:
            raise ValueError(f"settings: the label {dupes[0]!r} appears twice; each value of a sweep and each name must be unique")
        return out

    def panel_title(self, panel: str) -> str:
        """Words for a panel's title."""
        for sweep in self.sweeps:
            if sweep.panel == panel:
                return sweep.title
        return "settings"

    def quiet_defaults(self) -> dict[str, Any]:
        """Point's defaults for the mixture's shape details; sizes (d, K, n, k) are always listed."""
        return {k: Point.model_fields[k].default for k in ("separation", "rotate", "n_test", "temperature")}

    def shown_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """A setting's parameters for the setup line: k and the class-free directions only where not K - 1."""
        # Only where the spec never sets them: a swept k must list every value, K - 1 included.
        set_here = {sw.axis for sw in self.sweeps} | set(self.base) | {k for sw in self.sweeps for k in sw.fixed}
        set_here |= {k for named in self.settings for k in named}
        K = params.get("n_components")
        return {k: v for k, v in params.items()
                if not (k in ("k", "n_noise_directions") and k not in set_here and K is not None and v == K - 1)}

    def x_name(self, panel: str) -> str:
        """The swept axis's name in a sentence ("n", "τ")."""
        for sweep in self.sweeps:
            if sweep.panel == panel:
                return AXIS_SYMBOLS[sweep.axis]
        return panel

    def panel_log(self, panel: str) -> bool:
        """Whether the panel's x axis is logarithmic."""
        for sweep in self.sweeps:
            if sweep.panel == panel:
                if sweep.log is not None:
                    return sweep.log
                lo, hi = min(sweep.values), max(sweep.values)
                return lo > 0 and hi / lo >= 20
        return False


def run_fisher(spec: FisherStudy, setting: StudySetting, seeds: np.random.SeedSequence) -> list[dict]:
    """One run: draw the setting's mixture and data from ``seeds`` and score every method on them."""
    point = Point.model_validate(setting.params)
    mixture_seq, pair_seq, test_seq, learner_seq = seeds.spawn(4)
    gmm = point.mixture(np.random.default_rng(mixture_seq))
    X, X_pos, z, _ = gmm.sample_pairs(point.n_pairs, point.augmentation(), random_state=np.random.default_rng(pair_seq))
    test = gmm.sample(point.n_test, random_state=np.random.default_rng(test_seq))
    seed = learner_seed(learner_seq)
    rows = []
    for method in spec.methods:
        scores, seconds = fit_and_score(method, gmm, (X, X_pos, z), test, point.k, seed, point.temperature)
        rows.extend({"method": method.display, "metric": m, "value": v, "fit_seconds": seconds} for m, v in scores.items())
    return rows


# ---------------------------------------------------------------------------- figures


def plot_fisher(spec: FisherStudy, rows: list[dict], path: Path) -> None:
    """The study's figure: a row per metric in ``spec.metrics``, a column per panel (see :func:`plot_panels`).

    Sample-size panels get a slope -1/2 line (the √n rate) through pair CCA's first point; a
    temperature panel marks the library's default τ; the k panel's angle is a containment angle.
    """
    import inspect

    from contrastive_gmm.experiments.figures import reference_slope

    settings = spec.expand()
    panels = list(dict.fromkeys(s.panel for s in settings))
    axis = {sw.panel: sw.axis for sw in spec.sweeps}
    default_tau = inspect.signature(InfoNCE).parameters["temperature"].default

    def decorate(ax: Any, panel: str, metric: str, stats: dict) -> None:
        if axis.get(panel) == "n_pairs" and metric.endswith("angle"):
            reference_slope(ax, stats, [s for s in settings if s.panel == panel], "pair CCA", metric)
        if axis.get(panel) == "temperature":
            ax.axvline(default_tau, color="#555555", ls=":", lw=1.2, zorder=0)
            # At the bottom of the axis, where the curves leave room (collapsed maps sit at the top).
            ax.annotate(f"default τ = {default_tau:g}", (default_tau, 0), xycoords=("data", "axes fraction"),
                        xytext=(-3, 3), textcoords="offset points", fontsize=7, color="#333333", ha="right")

    plot_panels(
        settings,
        rows,
        path,
        title=spec.title,
        metrics=spec.metrics,
        metric_labels=METRICS,
        panel_titles={p: spec.panel_title(p) for p in panels},
        log_panels=[p for p in panels if spec.panel_log(p)],
        x_labels={"settings": "setting (d = dimension, K = components)"},
        panel_metric_labels={(p, "max_angle"): "containment angle to Fisher (°)" for p in panels if axis.get(p) == "k"},
        decorate=decorate,
    )


register_kind("fisher", FisherStudy, run_fisher, plot_fisher)


__all__ = [
    "Point",
    "AXES",
    "METRICS",
    "Sweep",
    "fit_and_score",
    "FisherStudy",
    "run_fisher",
    "plot_fisher",
]
