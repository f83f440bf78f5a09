"""contrastive-gmm: contrastive learning as linear dimensionality reduction of Gaussian mixtures.

Linear InfoNCE on same-component pairs recovers the Fisher (LDA) subspace of a Gaussian
mixture without labels, where PCA fails (Bansal, Kavis, Sanghavi, arXiv 2411.03517).
"""

from .contrastive import ClosedFormWarning, CollapseWarning, InfoNCE
from .losses import InfoNCELoss, info_nce
from .losses import CLIPLoss
from .metrics import (
    cluster_scores,
    clustering_accuracy,
    learned_subspace,
    linear_probe_accuracy,
    score_map,
    subspace_angles,
    subspace_distance,
)
from .mixture import (
    GMM,
    Augmentation,
    ChannelAugmentation,
    NoisyComponent,
    Prediction,
    SameComponent,
    predicted_subspace,
)
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
from .zoo import SigLIP, SimCLR, SimSiam, SpectralContrastiveLearner, SupCon
from .datasets import DataFile, DataFileError, load_data_file, load_digits_views, load_real_dataset, write_embedding
from .model_io import FeatureMismatchError, LinearMap, ModelFileError, TwoViewMap, check_feature_names, load_model, save_model
from .pairs import (
    pair_indices_from_groups,
    pair_indices_from_labels,
    pairs_from_groups,
    pairs_from_indices,
    pairs_from_labels,
)
from .real_data import fit_embedding, pair_whitening, plot_metric_vs_delta, run_real_data_study

PairCCA = SpectralContrastive  # the name THEORY.md uses for the same closed form

__version__ = "0.1.0"

__all__ = [
    "GMM",
    "Augmentation",
    "SameComponent",
    "NoisyComponent",
    "ChannelAugmentation",
    "Prediction",
    "predicted_subspace",
    "InfoNCE",
    "CollapseWarning",
    "ClosedFormWarning",
    "InfoNCELoss",
    "CLIPLoss",
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
    "SpectralContrastiveLearner",
    "SimCLR",
    "SupCon",
    "SimSiam",
    "SigLIP",
    "load_real_dataset",
    "load_digits_views",
    "load_data_file",
    "write_embedding",
    "DataFile",
    "DataFileError",
    "pairs_from_labels",
    "pair_indices_from_labels",
    "pairs_from_groups",
    "pair_indices_from_groups",
    "pairs_from_indices",
    "fit_embedding",
    "pair_whitening",
    "run_real_data_study",
    "plot_metric_vs_delta",
    "LinearMap",
    "TwoViewMap",
    "save_model",
    "load_model",
    "ModelFileError",
    "FeatureMismatchError",
    "check_feature_names",
    "__version__",
]
