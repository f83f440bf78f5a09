"""HaoChen et al.'s spectral contrastive loss (2021): its linear optimum is pair CCA with each direction scaled."""

from __future__ import annotations

import torch


def spectral_contrastive_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """HaoChen et al.: ``-2 mean_i a_i.b_i + mean_{i != j} (a_i.b_j)^2`` (in-batch negatives).

    Examples
    --------
    >>> z = torch.eye(3)
    >>> float(spectral_contrastive_loss(z, z))  # -2 * 1 + 0
    -2.0
    """
    S = a @ b.T
    n = S.shape[0]
    off = S.pow(2).sum() - S.diagonal().pow(2).sum()
    return -2 * S.diagonal().mean() + off / (n * (n - 1))


__all__ = ["spectral_contrastive_loss"]
