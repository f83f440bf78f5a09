"""Step 1 of the data flow: the Gaussian mixtures the theory is about, their augmentations, and the population answers.

:class:`GMM` (one modality) and :class:`MultimodalGMM` (several, with private structure)
sample data and positive pairs and give the closed forms the learners are checked against:
the Fisher subspace, the predicted subspace of an augmentation, CLIP's target.
"""

from contrastive_gmm.mixtures.gmm import (
    GMM,
    Augmentation,
    ChannelAugmentation,
    NoisyComponent,
    Prediction,
    SameComponent,
    predicted_subspace,
)
from contrastive_gmm.mixtures.multimodal import Modality, MultimodalGMM

__all__ = [
    "GMM",
    "Augmentation",
    "SameComponent",
    "NoisyComponent",
    "ChannelAugmentation",
    "Prediction",
    "predicted_subspace",
    "Modality",
    "MultimodalGMM",
]
