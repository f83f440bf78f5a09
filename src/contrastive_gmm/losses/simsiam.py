"""SimSiam (Chen & He 2021): a predictor and a stopped gradient instead of negatives."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from contrastive_gmm.losses._common import batch_standardise


def simsiam_loss(a: torch.Tensor, b: torch.Tensor, predictor: torch.Tensor, similarity: str = "cosine") -> torch.Tensor:
    """SimSiam's symmetrised loss between the predicted view and the other, stopped-gradient view.

    ``similarity="cosine"``: Chen & He's negative cosine of ``predictor @ a`` and ``b``.
    ``"dot"``: each embedding dimension is first standardised over the batch (the BatchNorm that
    ends SimSiam's projector), then the squared error ``|predictor @ a - b|^2`` (summed over
    dimensions, averaged over rows) replaces the cosine, as the dot product replaces it in
    InfoNCE. Without the standardisation, agreement would be won by directions of tiny variance.

    Examples
    --------
    >>> a = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    >>> round(float(simsiam_loss(a, a, torch.eye(2))), 6)  # identical views: the cosine is 1
    -1.0
    >>> round(float(simsiam_loss(a, a, torch.eye(2), "dot")), 6)  # and the squared error 0
    0.0
    """
    if similarity == "dot":
        a, b = batch_standardise(a), batch_standardise(b)
        pa, pb = a @ predictor.T, b @ predictor.T
        return 0.5 * (((pa - b.detach()) ** 2).sum(1).mean() + ((pb - a.detach()) ** 2).sum(1).mean())
    pa, pb = a @ predictor.T, b @ predictor.T
    return -0.5 * (F.cosine_similarity(pa, b.detach()).mean() + F.cosine_similarity(pb, a.detach()).mean())


__all__ = ["simsiam_loss"]
