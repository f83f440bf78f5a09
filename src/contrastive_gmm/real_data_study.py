"""The ``real_data`` study kind: :mod:`contrastive_gmm.real_data`'s protocol as a ``cgmm reproduce`` study.

Settings are single-view points ``"<dataset> k=<k> delta=<delta>"`` (one panel per k, x = delta:
the figure is held-out k-means NMI against delta, with LDA, PCA and raw features flat because
they do not use pairs) and, for digits, two-view points ``"<dataset>-views k=<k>"`` (CLIP across
two views of each digit against per-view PCA and LDA). Each run is one seed of
:func:`~contrastive_gmm.real_data.evaluate_single_view` or
:func:`~contrastive_gmm.real_data.evaluate_two_view`; the split, the subset and the partner
draws come from the run's SeedSequence, so with common random numbers every delta of one
replicate shares its split and partners (only the noisy replacements differ).

Two-view runs report each view's scores (``nmi_view1``, ``nmi_view2``, ...), their mean under
the single-view names (``nmi``, ...: so both panels share the figure's rows), and CLIP's
held-out cross-view retrieval (``retrieval_top1``, ``retrieval_same_class_top1``).

Examples
--------
>>> from contrastive_gmm.config import parse_study
>>> spec = parse_study({"kind": "real_data", "name": "r", "title": "R", "seed": 0, "ks": [9],
...                     "deltas": [0.0, 0.3]}, source="r.toml")
>>> [s.label for s in spec.expand()]
['digits k=9 delta=0', 'digits k=9 delta=0.3', 'digits-views k=9']
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from .config import StudySpec
from .datasets import DIGIT_VIEWS, REAL_DATASETS, load_digits_views, load_real_dataset
from .engine import StudySetting, register_kind
from .real_data import (
    N_PAIRS_PER_SAMPLE,
    PREPROCESS_VARIANCE,
    SCORES,
    SINGLE_VIEW_METHODS,
    TWO_VIEW_METHODS,
    _stratified_subset,
    check_two_view,
    default_ks,
    default_standardize,
    evaluate_single_view,
    evaluate_two_view,
)
from .report import plot_panels

METRICS: dict[str, str] = {
    "nmi": "held-out k-means NMI",
    "ari": "held-out k-means ARI",
    "accuracy": "held-out k-means accuracy",
    "probe_accuracy": "held-out linear-probe accuracy",
    **{f"{m}_view{v}": f"{m} (view {v})" for v in (1, 2) for m in SCORES},
    "retrieval_top1": "cross-view retrieval top-1 (exact partner)",
    "retrieval_same_class_top1": "cross-view top-1 has the same class",
}

_DEFAULT_METHODS = ["InfoNCE", "pair CCA", "LDA (labels)", "PCA", "raw features"]
_DEFAULT_TWO_VIEW_METHODS = ["CLIP (same class)", "CLIP (same object)", "PCA (per view)", "LDA (per view, labels)"]


@functools.lru_cache(maxsize=None)
def _shape(dataset: str) -> tuple[int, int]:
    # expand() runs at every validation; the bundled files never change within a process.
    X, y = load_real_dataset(dataset)
    return len(np.unique(y)), X.shape[1]


class RealDataStudy(StudySpec):
    """Spec of a ``real_data`` study: a bundled data set, the k and delta it sweeps, the methods.

    ``ks`` defaults to :func:`~contrastive_gmm.real_data.default_ks` (K - 1, half and twice it);
    ``two_view`` (default: digits only) adds CLIP across ``views`` at ``two_view_ks`` (default
    K - 1); ``n_samples`` takes a stratified subset per replicate; ``standardize`` defaults to
    True except for digits (see :mod:`contrastive_gmm.real_data`).
    """

    kind: Literal["real_data"]
    dataset: Literal[REAL_DATASETS] = "digits"  # type: ignore[valid-type]
    ks: Optional[list[int]] = Field(None, min_length=1)
    deltas: list[float] = Field([0.0, 0.3], min_length=1)
    methods: list[Literal[SINGLE_VIEW_METHODS]] = list(_DEFAULT_METHODS)  # type: ignore[valid-type]
    two_view: Optional[bool] = None
    two_view_ks: Optional[list[int]] = Field(None, min_length=1)
    two_view_methods: list[Literal[TWO_VIEW_METHODS]] = list(_DEFAULT_TWO_VIEW_METHODS)  # type: ignore[valid-type]
    views: Literal[DIGIT_VIEWS] = "checkerboard"  # type: ignore[valid-type]
    n_samples: Optional[int] = Field(None, ge=20)
    test_size: float = Field(0.3, gt=0, lt=1)
    n_pairs_per_sample: int = Field(N_PAIRS_PER_SAMPLE, ge=1)
    variance: float = Field(PREPROCESS_VARIANCE, gt=0, le=1)
    standardize: Optional[bool] = None
    metrics: list[Literal[tuple(METRICS)]] = ["nmi", "probe_accuracy"]  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _check_ranges(cls, data: Any) -> Any:
        # Field-level messages for list items, which pydantic's constraints would name by index only.
        if isinstance(data, dict):
            for field, lo, hi in (("deltas", 0.0, 1.0), ("ks", 1, None), ("two_view_ks", 1, None)):
                values = data.get(field)
                for i, v in enumerate(values if isinstance(values, (list, tuple)) else ()):  # pydantic reports other types
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and (v < lo or (hi is not None and v > hi)):
                        span = f"in [{lo:g}, {hi:g}]" if hi is not None else f">= {lo}"
                        raise ValueError(f"{field}.{i}: must be {span}; got {v!r}")
        return data

    @property
    def runs_two_view(self) -> bool:
        """Whether the study has the two-view settings (digits only)."""
        return check_two_view(self.dataset, self.two_view)

    def run_identity(self) -> dict[str, Any]:
        """Methods and the seeding scheme (every setting's params carry the protocol's options)."""
        return {"methods": list(self.methods), "two_view_methods": list(self.two_view_methods),
                "common_random_numbers": self.common_random_numbers}

    def method_names(self) -> list[str]:
        return list(self.methods) + (list(self.two_view_methods) if self.runs_two_view else [])

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def x_name(self, panel: str) -> str:
        """Single-view panels sweep δ."""
        return "k" if panel == "two views" else "δ"

    def expand(self) -> list[StudySetting]:
        """A panel per k (x = delta), then the two-view panel (a bar per k)."""
        n_classes, n_features = _shape(self.dataset)
        common = {
            "dataset": self.dataset, "n_samples": self.n_samples, "test_size": self.test_size,
            "n_pairs_per_sample": self.n_pairs_per_sample, "variance": self.variance,
            "standardize": default_standardize(self.dataset) if self.standardize is None else self.standardize,
        }
        out = []
        for k in self.ks or default_ks(n_classes, n_features):
            panel = f"{self.dataset}, k = {k}"
            for delta in self.deltas:
                label = f"{self.dataset} k={k} delta={delta:g}"
                out.append(StudySetting(label, panel, float(delta), {**common, "k": int(k), "delta": float(delta)}))
        if self.runs_two_view:
            for k in self.two_view_ks or (n_classes - 1,):
                out.append(StudySetting(f"{self.dataset}-views k={k}", "two views", f"k={k}",
                                        {**common, "k": int(k), "two_view": True, "views": self.views}))
        return out


def run_real_data(spec: RealDataStudy, setting: StudySetting, seeds: np.random.SeedSequence) -> list[dict]:
    """One seed of the protocol at one setting; rows ``{"method", "metric", "value", "fit_seconds"}``."""
    p = setting.params
    # One integer seed drives the subset, the split, the partners, the learners and k-means.
    seed = int(seeds.generate_state(1)[0]) % (2**31)
    options = dict(seed=seed, test_size=p["test_size"], n_pairs_per_sample=p["n_pairs_per_sample"],
                   variance=p["variance"], standardize=p["standardize"])
    if p.get("two_view"):
        X1, X2, y = load_digits_views(p["views"])
        keep = _stratified_subset(len(y), y, p["n_samples"], seed)
        rows = evaluate_two_view(X1[keep], X2[keep], y[keep], k=p["k"], methods=spec.two_view_methods, **options)
        # Mean of the two views under the single-view names, so one figure row holds both panels.
        for method in dict.fromkeys(r["method"] for r in rows):
            mine = {r["metric"]: r for r in rows if r["method"] == method}
            for m in SCORES:
                a, b = mine[f"{m}_view1"], mine[f"{m}_view2"]
                rows.append({**a, "metric": m, "value": (a["value"] + b["value"]) / 2})
    else:
        X, y = load_real_dataset(p["dataset"])
        keep = _stratified_subset(len(y), y, p["n_samples"], seed)
        rows = evaluate_single_view(X[keep], y[keep], ks=[p["k"]], deltas=[p["delta"]], methods=spec.methods, **options)
    return rows  # the engine keeps the columns it records


def plot_real_data(spec: RealDataStudy, rows: list[dict], path: Path) -> None:
    """Held-out metrics against delta per k (references flat), and the two-view bars."""
    settings = spec.expand()
    delta_panels = {s.panel for s in settings if not s.params.get("two_view")}
    plot_panels(settings, rows, path, title=spec.title, metrics=spec.metrics, metric_labels=METRICS,
                panel_titles={"two views": "CLIP across two views (mean of the views)"},
                x_labels=dict.fromkeys(delta_panels, "δ (fraction of partners from any class)"))


register_kind("real_data", RealDataStudy, run_real_data, plot_real_data)

__all__ = ["RealDataStudy", "run_real_data", "plot_real_data", "METRICS"]
