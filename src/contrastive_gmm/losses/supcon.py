"""Supervised contrastive loss (Khosla et al. 2020): every sample sharing a label is a positive."""

from __future__ import annotations

import torch

from contrastive_gmm.losses.infonce import similarity_logits


def supcon_loss(z: torch.Tensor, labels: torch.Tensor, temperature: float, similarity: str = "cosine") -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al., "L_out"): every same-label sample is a positive.

    Anchors without another sample of their label in the batch are skipped.
    """
    logits = similarity_logits(z, z, temperature, similarity)
    n = z.shape[0]
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    log_prob = logits.masked_fill(self_mask, float("-inf")).log_softmax(dim=1)
    pos = (labels[:, None] == labels[None, :]) & ~self_mask
    count = pos.sum(1)
    keep = count > 0
    per_anchor = -(log_prob.masked_fill(~pos, 0.0).sum(1)[keep]) / count[keep]
    return per_anchor.mean()


__all__ = ["supcon_loss"]
