"""SigLIP's pairwise sigmoid loss (Zhai et al. 2023): each pair scored on its own, no softmax over the batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from contrastive_gmm.losses.infonce import similarity_logits


def sigmoid_pair_loss(a: torch.Tensor, b: torch.Tensor, log_scale: torch.Tensor, bias: torch.Tensor, similarity: str = "cosine") -> torch.Tensor:
    """SigLIP: ``-mean_i sum_j log sigmoid(z_ij (t s_ij + bias))`` with z_ij = +1 on the diagonal, -1 off it."""
    s = similarity_logits(a, b, 1.0, similarity) * log_scale.exp() + bias
    sign = 2 * torch.eye(a.shape[0], device=a.device, dtype=s.dtype) - 1
    return -F.logsigmoid(sign * s).sum(1).mean()


__all__ = ["sigmoid_pair_loss"]
