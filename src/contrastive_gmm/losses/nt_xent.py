"""NT-Xent (SimCLR, Chen et al. 2020): both views of every pair are anchors, 2B - 2 negatives each."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from contrastive_gmm.losses.infonce import similarity_logits


def nt_xent_loss(a: torch.Tensor, b: torch.Tensor, temperature: float, similarity: str = "cosine") -> torch.Tensor:
    """SimCLR's NT-Xent: each of the 2B embeddings must pick its partner among the other 2B - 1.

    Examples
    --------
    >>> z = torch.eye(2)
    >>> round(float(nt_xent_loss(z, z, 1.0)), 4)  # log(e + 2) - 1
    0.5514
    """
    z = torch.cat([a, b])
    logits = similarity_logits(z, z, temperature, similarity)
    n = a.shape[0]
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))  # a sample is never its own negative
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, target)


__all__ = ["nt_xent_loss"]
