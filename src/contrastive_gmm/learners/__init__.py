"""Step 3: the learners, scikit-learn estimators that fit a linear map from pairs (or two views).

- :mod:`~contrastive_gmm.learners.base`: the one-view and two-view estimator bases.
- :mod:`~contrastive_gmm.learners.closed_form`: pair CCA, spectral-on-means, the Fisher oracle, CCA, PLS-SVD.
- :mod:`~contrastive_gmm.learners.training`: the one training loop every trained learner runs.
- :mod:`~contrastive_gmm.learners.infonce`: linear InfoNCE.
- :mod:`~contrastive_gmm.learners.zoo`: the other self-supervised losses people use (SimCLR, SimSiam, ...).
- :mod:`~contrastive_gmm.learners.two_tower`: CLIP and SigLIP, a map per modality.

The recipe ``cgmm fit`` runs on real features (:mod:`contrastive_gmm.embedding`) sits above the
learners, metrics and model files it composes.
"""

from contrastive_gmm.learners import closed_form, infonce, two_tower, zoo
from contrastive_gmm.learners.closed_form import *  # noqa: F403 - a learner module's __all__ is its public API
from contrastive_gmm.learners.infonce import *  # noqa: F403
from contrastive_gmm.learners.two_tower import *  # noqa: F403
from contrastive_gmm.learners.zoo import *  # noqa: F403
from contrastive_gmm.learners.training import ClosedFormWarning, CollapseWarning

# The learners (every class in a learner module's __all__) and their warnings.
__all__ = [
    *infonce.__all__, *closed_form.__all__, *two_tower.__all__, *zoo.__all__,
    "CollapseWarning", "ClosedFormWarning",
]
