"""contrastive-gmm: contrastive learning as linear dimensionality reduction of Gaussian mixtures.

Linear InfoNCE on same-component pairs recovers the Fisher (LDA) subspace of a Gaussian
mixture without labels, where PCA fails (Bansal, Kavis, Sanghavi, arXiv 2411.03517).
"""

from .contrastive import CollapseWarning, InfoNCE
from .losses import InfoNCELoss, info_nce
from .metrics import (
    cluster_scores,
    clustering_accuracy,
    learned_subspace,
    linear_probe_accuracy,
    score_map,
    subspace_angles,
    subspace_distance,
)
from .mixture import GMM, Augmentation, NoisyComponent, SameComponent
from .multimodal import (
    CCA,
    CLIP,
    PLSSVD,
    Modality,
    MultimodalGMM,
    energy_outside,
    retrieval_accuracy,
)
from .spectral import FisherOracle, SpectralContrastive, SpectralOnMeans

PairCCA = SpectralContrastive  # the name THEORY.md uses for the same closed form

__version__ = "0.1.0"

__all__ = [
    "GMM",
    "Augmentation",
    "SameComponent",
    "NoisyComponent",
    "InfoNCE",
    "CollapseWarning",
    "InfoNCELoss",
    "info_nce",
    "SpectralContrastive",
    "PairCCA",
    "SpectralOnMeans",
    "FisherOracle",
    "subspace_angles",
    "subspace_distance",
    "clustering_accuracy",
    "cluster_scores",
    "linear_probe_accuracy",
    "score_map",
    "learned_subspace",
    "MultimodalGMM",
    "Modality",
    "CLIP",
    "CCA",
    "PLSSVD",
    "retrieval_accuracy",
    "energy_outside",
    "__version__",
]
