"""The ``population`` study kind: where vanilla InfoNCE's population optimum is the Fisher subspace, and where it is not.

Each setting is a temperature and a ratio of the Fisher directions' separations (:func:`unequal_mixture`);
a run minimises the population loss (:func:`~contrastive_gmm.population_optimum`) for cosine and dot
similarity, with and without the whitened-output constraint, and fits the sample-level learner
(:class:`~contrastive_gmm.InfoNCE`) with the same four settings on ``n_pairs`` pairs of the same mixture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np
from pydantic import Field

from contrastive_gmm.experiments.engine import StudySetting, learner_seed, register_kind, timed_fit
from contrastive_gmm.experiments.spec import StudySpec
from contrastive_gmm.linalg import inv_sqrt
from contrastive_gmm.metrics import subspace_angles
from contrastive_gmm.mixtures.gmm import GMM
from contrastive_gmm.population import population_optimum

#: The four InfoNCE variants: (similarity, whitened-output constraint).
VARIANTS: dict[str, tuple[str, bool]] = {
    "cosine": ("cosine", True),
    "cosine, unconstrained": ("cosine", False),
    "dot": ("dot", True),
    "dot, unconstrained": ("dot", False),
}
POPULATION, SAMPLE = "population", "InfoNCE"
METRICS: dict[str, str] = {
    "max_angle": "largest angle to Fisher (°)",
    "effective_rank": "effective rank of the map",
    "fisher_gap_z": "the best start's loss minus the best Fisher map's, in standard errors",
    "start_rank": "effective rank of the best start",
}


def unequal_mixture(
    n_components: int, dim: int, separation: float, ratio: float, *, anisotropy: float = 10.0,
    noise_variance: float = 25.0, random_state: Any = None,
) -> GMM:
    """:meth:`GMM.random`'s mixture with its Fisher directions' separations set from ``separation`` down to ``separation / ratio``.

    In within-whitened coordinates the between-class scatter gets the eigenvalues ``sep_j^2``, with
    ``sep_j`` geometric from ``separation`` (the strongest direction) to ``separation / ratio``
    (the weakest); the Fisher subspace, the within covariance and the PCA-hostile noise directions
    stay those of :meth:`GMM.random`.

    Examples
    --------
    >>> gmm = unequal_mixture(4, 10, 2.0, 4.0, random_state=0)
    >>> vals = np.linalg.eigvals(np.linalg.solve(gmm.within_covariance, gmm.between_scatter())).real
    >>> np.sqrt(np.sort(vals)[::-1][:3]).round(3).tolist()
    [2.0, 1.0, 0.5]
    """
    base = GMM.random(n_components, dim, anisotropy=anisotropy, noise_variance=noise_variance, random_state=random_state)
    root_inv = inv_sqrt(base.within_covariance)
    root = np.linalg.inv(root_inv)
    U, _, Vt = np.linalg.svd(base.centred_means() @ root_inv, full_matrices=False)
    r = n_components - 1
    seps = separation * float(ratio) ** (-np.arange(r) / max(r - 1, 1))
    # Uniform weights: (1/K) M'^T M' = Vt^T diag(sep^2) Vt when M' = U diag(sep sqrt(K)) Vt.
    means = (U[:, :r] * (seps * np.sqrt(n_components))) @ Vt[:r] @ root + base.mean
    return GMM(means, base.within_covariance)


class PopulationStudy(StudySpec):
    """Spec of a ``population`` study: temperature x separation ratio, four InfoNCE variants, population and sample."""

    kind: Literal["population"]
    n_components: int = Field(4, ge=3)
    dim: int = Field(10, ge=4)
    separation: float = Field(2.0, gt=0)
    anisotropy: float = Field(10.0, ge=1)
    noise_variance: float = Field(25.0, gt=0)
    temperatures: list[float] = Field([0.1, 0.3, 1.0, 3.0, 10.0], min_length=1)
    ratios: list[float] = Field([1.0, 2.0, 4.0, 8.0, 16.0], min_length=1)
    n_samples: int = Field(1024, ge=16, description="Cosine's optimisation sample (dot uses 4x as many: it is cheap).")
    n_eval_samples: int = Field(4096, ge=16)
    n_starts: int = Field(2, ge=0)
    max_iter: int = Field(100, ge=1)
    n_pairs: int = Field(20000, ge=0, description="Pairs for the sample-level learner (0: no learner).")
    learner_ratios: Optional[list[float]] = Field(None, description="The ratios where the learner runs (None: all).")

    def run_identity(self) -> dict[str, Any]:
        return {"common_random_numbers": self.common_random_numbers}

    def method_names(self) -> list[str]:
        return [f"{who} {v}" for who in (POPULATION, SAMPLE) for v in VARIANTS]

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def x_name(self, panel: str) -> str:
        return "τ"

    def quiet_defaults(self) -> dict[str, Any]:
        return {"n_components": 4, "dim": 10, "separation": 2.0, "anisotropy": 10.0, "noise_variance": 25.0}

    def shown_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The setup line without the ratio (the panel names it) and n_pairs 0 (no learner there)."""
        return {k: v for k, v in params.items() if k != "ratio" and not (k == "n_pairs" and v == 0)}

    def expand(self) -> list[StudySetting]:
        """One setting per (ratio r, temperature τ), named ``τ=1 r=4``; a panel per ratio, τ along it."""
        if self.dim < 2 * (self.n_components - 1):
            raise ValueError(f"dim must be at least 2 (n_components - 1) = {2 * (self.n_components - 1)}; got {self.dim}")
        if any(r < 1 for r in self.ratios):
            raise ValueError(f"ratios are the strongest over the weakest separation and must be >= 1; got {self.ratios}")
        if any(t <= 0 for t in self.temperatures):
            raise ValueError(f"temperatures must be > 0; got {self.temperatures}")
        common = {k: getattr(self, k) for k in ("n_components", "dim", "separation", "anisotropy", "noise_variance",
                                                  "n_samples", "n_eval_samples", "n_starts", "max_iter", "n_pairs")}
        learner = lambda r: self.learner_ratios is None or r in self.learner_ratios  # noqa: E731
        return [StudySetting(f"τ={t:g} r={r:g}", f"r={r:g}", float(t),
                             {**common, "temperature": t, "ratio": r, "n_pairs": self.n_pairs if learner(r) else 0})
                for r in self.ratios for t in self.temperatures]


def run_population(spec: PopulationStudy, setting: StudySetting, seeds: np.random.SeedSequence) -> list[dict]:
    """One run: the mixture, the four population optima, and (``n_pairs > 0``) the four learners on one sample of pairs."""
    from contrastive_gmm.learners.infonce import InfoNCE

    p = setting.params
    mixture_seq, population_seq, pair_seq, learner_seq = seeds.spawn(4)
    gmm = unequal_mixture(p["n_components"], p["dim"], p["separation"], p["ratio"], anisotropy=p["anisotropy"],
                          noise_variance=p["noise_variance"], random_state=np.random.default_rng(mixture_seq))
    F, k, tau = gmm.fisher_subspace(), p["n_components"] - 1, p["temperature"]
    rows: list[dict] = []
    for (name, (similarity, constrained)), seq in zip(VARIANTS.items(), population_seq.spawn(len(VARIANTS))):
        n = p["n_samples"] * (4 if similarity == "dot" else 1)
        opt, seconds = timed_fit(
            population_optimum, gmm, k, tau, similarity, constrained, n_starts=p["n_starts"], n_samples=n,
            n_eval_samples=p["n_eval_samples"] * (4 if similarity == "dot" else 1), max_iter=p["max_iter"],
            random_state=np.random.default_rng(seq))
        z = opt.fisher_gap / opt.fisher_gap_stderr if opt.fisher_gap_stderr > 0 else 0.0
        # Angles below 1e-6 degrees are rounding (the Fisher map's own angle is ~1e-13): reported as 0.
        values = {"max_angle": round(opt.angle_to_fisher, 6), "effective_rank": opt.effective_rank, "fisher_gap_z": z,
                  "start_rank": opt.best_start_rank}
        rows += [{"method": f"{POPULATION} {name}", "metric": m, "value": float(v), "fit_seconds": seconds} for m, v in values.items()]
    if p["n_pairs"]:
        X, X_pos, _, _ = gmm.sample_pairs(p["n_pairs"], random_state=np.random.default_rng(pair_seq))
        seed = learner_seed(learner_seq)
        for name, (similarity, constrained) in VARIANTS.items():
            model = InfoNCE(k, temperature=tau, similarity=similarity, whiten_output=constrained, random_state=seed)
            _, seconds = timed_fit(model.fit, X, X_pos)
            values = {"max_angle": float(subspace_angles(model.subspace(), F).max()), "effective_rank": model.effective_rank_}
            rows += [{"method": f"{SAMPLE} {name}", "metric": m, "value": float(v), "fit_seconds": seconds} for m, v in values.items()]
    return rows


def plot_population(spec: PopulationStudy, rows: list[dict], path: Path) -> None:
    """The phase diagram: per variant, a heatmap over τ x ratio coloured by the population optimum's effective rank.

    Each cell: the population optimum's angle to Fisher and effective rank and, below, the sample learner's angle.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mean: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        mean.setdefault((r["setting"], r["method"], r["metric"]), []).append(float(r["value"]))
    get = lambda s, m, metric: float(np.mean(mean[(s, m, metric)])) if (s, m, metric) in mean else np.nan  # noqa: E731
    taus, ratios = spec.temperatures, spec.ratios
    label = lambda t, r: f"τ={t:g} r={r:g}"  # noqa: E731
    fig, axes = plt.subplots(2, 2, figsize=(3.2 + 1.1 * len(taus) * 2, 1.6 + 0.75 * len(ratios) * 2), squeeze=False,
                             constrained_layout=True)
    image, k = None, spec.n_components - 1
    for ax, name in zip(axes.flat, VARIANTS):
        # Colour: the effective rank (a collapse is the optimum's way of leaving Fisher); text: the angles.
        rank = np.array([[get(label(t, r), f"{POPULATION} {name}", "effective_rank") for t in taus] for r in ratios])
        image = ax.imshow(rank, cmap="viridis", vmin=1, vmax=k, aspect="auto", origin="lower")
        for i, r in enumerate(ratios):
            for j, t in enumerate(taus):
                angle = get(label(t, r), f"{POPULATION} {name}", "max_angle")
                sample = get(label(t, r), f"{SAMPLE} {name}", "max_angle")
                text = f"{angle:.0f}° r{rank[i, j]:.0f}" + ("" if np.isnan(sample) else f"\nn: {sample:.0f}°")
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if rank[i, j] < (1 + k) / 2 else "black")
        ax.set_xticks(range(len(taus)), [f"{t:g}" for t in taus])
        ax.set_yticks(range(len(ratios)), [f"{r:g}" for r in ratios])
        ax.set_xlabel("temperature τ")
        ax.set_ylabel("separation ratio")
        ax.set_title(f"InfoNCE {name}", fontsize=10)
    bar = fig.colorbar(image, ax=axes, shrink=0.8, label="population optimum: effective rank r")
    bar.set_ticks(range(1, k + 1))
    n = int(spec.n_pairs)
    fig.suptitle(f"{spec.title}\ncell: population optimum's angle to Fisher and effective rank r; n: the learner's angle, {n} pairs"
                 if n else spec.title,
                 fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


register_kind("population", PopulationStudy, run_population, plot_population)


__all__ = ["VARIANTS", "METRICS", "unequal_mixture", "PopulationStudy", "run_population", "plot_population"]
