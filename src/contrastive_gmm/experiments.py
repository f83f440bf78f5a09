"""The headline experiment: InfoNCE vs pair CCA vs LDA vs PCA on non-isotropic mixtures.

Composes the other modules (mixture -> learners -> metrics) into rows of results; the CLI
and ``benchmarks/fisher_recovery.py`` only call :func:`run_headline` and format its rows.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from .contrastive import InfoNCE
from .metrics import cluster_scores, learned_subspace, subspace_angles
from .mixture import GMM, Augmentation, NoisyComponent, SameComponent
from .spectral import SpectralContrastive, SpectralOnMeans


@dataclass(frozen=True)
class Setting:
    """One mixture and augmentation to compare methods on."""

    name: str
    n_components: int
    dim: int
    delta: float = 0.0
    gmm_kwargs: dict = field(default_factory=dict)

    def mixture(self, seed: int) -> GMM:
        """The setting's mixture (the seed picks the random rotation and means)."""
        return GMM.random(self.n_components, self.dim, random_state=seed, **self.gmm_kwargs)

    def augmentation(self) -> Augmentation:
        """Same-component pairs, or noisy ones when ``delta > 0``."""
        return NoisyComponent(self.delta) if self.delta > 0 else SameComponent()


#: Non-isotropic settings where PCA fails; the last is the noisy-augmentation one.
HEADLINE_SETTINGS: tuple[Setting, ...] = (
    Setting("d40-K6", 6, 40),
    Setting("d100-K10-aniso30", 10, 100, gmm_kwargs={"anisotropy": 30.0}),
    Setting("d200-K4-aniso100", 4, 200, gmm_kwargs={"anisotropy": 100.0, "noise_variance": 50.0}),
    Setting("d40-K6-noisy0.3", 6, 40, delta=0.3),
)

# Each method: name -> factory(k, seed) returning an unfitted estimator.
METHODS: dict[str, Callable[[int, int], object]] = {
    "InfoNCE": lambda k, seed: InfoNCE(k, random_state=seed),
    "pair CCA": lambda k, seed: SpectralContrastive(k),
    "LDA (labels)": lambda k, seed: LinearDiscriminantAnalysis(n_components=k),
    "PCA": lambda k, seed: PCA(k, random_state=seed),
    "spectral on means": lambda k, seed: SpectralOnMeans(k),
}


def _fit(name: str, model: object, X: np.ndarray, X_pos: np.ndarray, z: np.ndarray, z_pos: np.ndarray) -> object:
    # LDA and PCA see the n anchors (LDA with their labels), as in THEORY.md's measurements.
    if name == "LDA (labels)":
        return model.fit(X, z)
    if name == "PCA":
        return model.fit(X)
    return model.fit(X, X_pos)


def run_setting(
    setting: Setting,
    n_pairs: int = 20000,
    seed: int = 0,
    methods: Iterable[str] = tuple(METHODS),
    n_test: int = 5000,
) -> list[dict]:
    """Fit every method on one sample of ``setting``; one row per method.

    LDA (with labels) and PCA are fitted on the n anchors; the pair learners on the n pairs.
    Each row has: setting, method, seed, n_pairs, max_angle (degrees to the true Fisher
    subspace), nmi (k-means on a held-out sample) and fit_seconds.
    """
    gmm = setting.mixture(seed)
    k = gmm.n_components - 1
    F = gmm.fisher_subspace()
    X, X_pos, z, z_pos = gmm.sample_pairs(n_pairs, setting.augmentation(), random_state=seed + 1)
    X_test, z_test = gmm.sample(n_test, random_state=seed + 2)
    rows = []
    for name in methods:
        model = METHODS[name](k, seed)
        start = time.perf_counter()
        _fit(name, model, X, X_pos, z, z_pos)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "setting": setting.name,
                "method": name,
                "seed": seed,
                "n_pairs": n_pairs,
                "delta": setting.delta,
                "max_angle": float(subspace_angles(learned_subspace(model), F).max()),
                "nmi": cluster_scores(model.transform(X_test), z_test)["nmi"],
                "fit_seconds": seconds,
            }
        )
    return rows


def run_headline(
    settings: Iterable[Setting] = HEADLINE_SETTINGS,
    n_pairs: int = 20000,
    seeds: Iterable[int] = (0,),
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Run :func:`run_setting` for every setting and seed; returns all rows."""
    rows: list[dict] = []
    for setting in settings:
        for seed in seeds:
            if progress:
                progress(f"{setting.name} seed {seed}")
            rows.extend(run_setting(setting, n_pairs, seed))
    return rows


def summarise(rows: list[dict], metric: str = "max_angle") -> dict[tuple[str, str], tuple[float, float]]:
    """Mean and standard deviation of ``metric`` over seeds, keyed by (setting, method)."""
    groups: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        groups.setdefault((row["setting"], row["method"]), []).append(row[metric])
    return {key: (float(np.mean(v)), float(np.std(v))) for key, v in groups.items()}


def format_table(rows: list[dict], metric: str = "max_angle", fmt: str = "{:.2f}") -> str:
    """A Markdown table: one line per setting, one column per method (mean ± sd over seeds)."""
    summary = summarise(rows, metric)
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = ["| setting | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for s in settings:
        cells = []
        for m in methods:
            mean, sd = summary[(s, m)]
            n_seeds = sum(1 for r in rows if r["setting"] == s and r["method"] == m)
            cells.append(fmt.format(mean) + (f" ± {fmt.format(sd)}" if n_seeds > 1 else ""))
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_csv(rows: list[dict], path: Path) -> None:
    """Write rows to ``path`` atomically (a temporary file renamed into place)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def plot_headline(rows: list[dict], path: Path) -> None:
    """Grouped bar chart of the angle to the Fisher subspace per setting and method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = summarise(rows)
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(settings))
    for i, m in enumerate(methods):
        means = [summary[(s, m)][0] for s in settings]
        sds = [summary[(s, m)][1] for s in settings]
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, means, width, yerr=sds, label=m, capsize=2)
    ax.set_xticks(x, settings)
    ax.set_ylabel("largest principal angle to Fisher subspace (degrees)")
    ax.set_ylim(0, 92)
    ax.axhline(45, color="grey", lw=0.8, ls="--")
    ax.set_title("Contrastive learning finds the Fisher subspace without labels; PCA does not")
    ax.legend(fontsize=8, ncol=len(methods), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


__all__ = [
    "Setting",
    "HEADLINE_SETTINGS",
    "METHODS",
    "run_setting",
    "run_headline",
    "summarise",
    "format_table",
    "write_csv",
    "plot_headline",
]
