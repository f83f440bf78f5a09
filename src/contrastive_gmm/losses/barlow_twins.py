"""Barlow Twins (Zbontar et al. 2021): the cross-correlation of the two views' embeddings driven to the identity.

No negatives and no predictor: each embedding dimension is standardised over the batch (the
BatchNorm before the loss), and the k x k cross-correlation ``C = z_a^T z_b / (B - 1)`` is pulled
to the identity: ``sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2``. The diagonal rewards
dimensions that agree across a pair; the off-diagonal term stops two dimensions from carrying
the same direction. For a linear map this is maximised by the directions of largest pair
correlation, decorrelated: the pair-CCA subspace (THEORY.md), which the tests check.
"""

from __future__ import annotations

import torch
from torch import nn

from contrastive_gmm._validation import check_positive
from contrastive_gmm.losses._common import _check_pair, batch_standardise

#: Zbontar et al.'s weight of the redundancy (off-diagonal) term, for 8192 dimensions; a linear
#: map has a handful, so the learners weigh it 1 / k instead (see :class:`~contrastive_gmm.BarlowTwins`).
PAPER_LAMBDA = 5e-3


def barlow_twins_loss(a: torch.Tensor, b: torch.Tensor, lambda_offdiag: float | None = None) -> torch.Tensor:
    """Barlow Twins' loss of two row-paired batches ``a``, ``b`` (B, k); ``lambda_offdiag`` defaults to ``1 / k``.

    Examples
    --------
    >>> a = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> round(float(barlow_twins_loss(a, a)), 6)  # identical, decorrelated views: C = I
    0.0
    >>> round(float(barlow_twins_loss(a, -a)), 3)  # anti-correlated views: each diagonal term is (1 - (-1))^2
    8.0
    """
    _check_pair(a, b)
    k = a.shape[1]
    lam = 1.0 / k if lambda_offdiag is None else check_positive(lambda_offdiag, "lambda_offdiag")
    # Standardised with the unbiased variance, so the correlation divides by B - 1: C_ii = 1 for identical views.
    c = batch_standardise(a).T @ batch_standardise(b) / (a.shape[0] - 1)
    on = (1.0 - torch.diagonal(c)).pow(2).sum()
    off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on + lam * off


class BarlowTwinsLoss(nn.Module):
    """:func:`barlow_twins_loss` as a module, for a training loop of your own.

    Examples
    --------
    >>> loss = BarlowTwinsLoss()
    >>> a = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    >>> bool(loss(a, a) < loss(a, torch.randn(64, 3, generator=torch.Generator().manual_seed(1))))
    True
    """

    def __init__(self, lambda_offdiag: float | None = None) -> None:
        super().__init__()
        self.lambda_offdiag = lambda_offdiag

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The loss of the row-paired batches ``a`` and ``b``."""
        return barlow_twins_loss(a, b, self.lambda_offdiag)


__all__ = ["barlow_twins_loss", "BarlowTwinsLoss"]
