"""contrastive-gmm: contrastive learning as linear dimensionality reduction of Gaussian mixtures.

Linear InfoNCE on same-component pairs recovers the Fisher (LDA) subspace of a Gaussian
mixture without labels, where PCA fails (Bansal, Kavis, Sanghavi, arXiv 2411.03517).

The package is laid out as the data flow: :mod:`~contrastive_gmm.mixtures` and
:mod:`~contrastive_gmm.data` (where data and pairs come from), :mod:`~contrastive_gmm.linalg`,
:mod:`~contrastive_gmm.losses`, :mod:`~contrastive_gmm.learners`, :mod:`~contrastive_gmm.metrics`
and :mod:`~contrastive_gmm.model_io`; :mod:`~contrastive_gmm.methods` names every method once.
The experiment layer (:mod:`~contrastive_gmm.experiments`) and the command line
(:mod:`~contrastive_gmm.cli`) sit on top and are never imported from here.

Every name below is imported on first use (PEP 562), so ``import contrastive_gmm`` is cheap and
``cgmm --help`` does not load torch; ``cg.InfoNCE`` imports the learners.

Examples
--------
>>> import contrastive_gmm as cg
>>> gmm = cg.GMM.random(4, 10, random_state=0)
>>> X, X_pos, _, _ = gmm.sample_pairs(4000, random_state=0)
>>> model = cg.PairCCA(3).fit(X, X_pos)
>>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: The library's public names outside the learners, and the module each lives in.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        ["GMM", "Augmentation", "SameComponent", "NoisyComponent", "ChannelAugmentation", "Prediction",
         "predicted_subspace", "Modality", "MultimodalGMM"], "contrastive_gmm.mixtures"),
    **dict.fromkeys(
        ["load_real_dataset", "load_digits_views", "load_data_file", "write_embedding", "DataFile", "DataFileError",
         "pairs_from_labels", "pair_indices_from_labels", "pairs_from_groups", "pair_indices_from_groups",
         "pairs_from_indices"], "contrastive_gmm.data"),
    "pair_whitening": "contrastive_gmm.linalg",
    **dict.fromkeys(["estimate_n_components", "estimate_two_view_n_components", "RankEstimate"], "contrastive_gmm.learners.rank"),
    **dict.fromkeys(["InfoNCELoss", "CLIPLoss", "info_nce"], "contrastive_gmm.losses"),
    **dict.fromkeys(
        ["subspace_angles", "subspace_distance", "clustering_accuracy", "cluster_scores", "linear_probe_accuracy",
         "score_map", "learned_subspace", "retrieval_accuracy", "energy_outside"], "contrastive_gmm.metrics"),
    **dict.fromkeys(
        ["LinearMap", "TwoViewMap", "save_model", "load_model", "ModelFileError", "FeatureMismatchError",
         "check_feature_names"], "contrastive_gmm.model_io"),
    **dict.fromkeys(["fit_embedding", "FIT_METHODS"], "contrastive_gmm.embedding"),
    **dict.fromkeys(["population_info_nce", "population_optimum", "PopulationLoss", "PopulationOptimum"],
                    "contrastive_gmm.population"),
}


def _learner_names() -> list[str]:
    # Every learner a learner module exports (a new one needs no edit here).
    return list(importlib.import_module("contrastive_gmm.learners").__all__)


#: The subpackages and modules: ``from contrastive_gmm import distributed`` must import the module,
#: not look it up among the learners (which would import them, and torch, mid-import).
_SUBMODULES = frozenset({"mixtures", "data", "linalg", "losses", "learners", "metrics", "model_io", "embedding", "methods",
                         "defaults", "distributed", "experiments", "cli", "population"})


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"contrastive_gmm.{name}")
    if name == "__all__":
        value: Any = [*_EXPORTS, *_learner_names(), "__version__"]
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif not name.startswith("_") and name in _learner_names():
        value = getattr(importlib.import_module("contrastive_gmm.learners"), name)
    else:
        raise AttributeError(f"module 'contrastive_gmm' has no attribute {name!r}")
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_learner_names()})
