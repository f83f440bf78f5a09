"""Contrastive losses as small PyTorch modules, usable in any model.

Every loss here is "row i of ``a`` is the positive of row i of ``b``; the other rows of the
batch are negatives": ``mean_i [logsumexp_j s_ij - s_ii]`` with ``s_ij = sim(a_i, b_j) / tau``.
How it is computed, and why:

- One fused autograd function computes the row (and column) logsumexps of the logit matrix and
  their gradient ``softmax - identity`` directly: one exp per direction instead of autograd's
  two, which is most of the cost of a linear learner's step.
- Always in float32 or float64 (float64 when an input is float64), so bfloat16/float16
  embeddings get a float32 softmax; max-shifted, so temperature 1e-3 is as stable as 1.
- ``chunk_size`` bounds memory for very large batches: the logits are built ``chunk_size``
  columns at a time, in the forward pass and again in the backward pass, so no n x n matrix
  exists at once (memory n x chunk_size; time ~1.3x at n = 4096, chunk 1024).
- ``gather_distributed`` computes each process's local rows against the columns of all
  processes (see :mod:`contrastive_gmm.distributed`); with equal local batch sizes, the mean over
  processes of the loss and (as DDP averages it) of the gradient equal the full-batch ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from contrastive_gmm import distributed
from contrastive_gmm._validation import SIMILARITIES, check_choice, check_positive
from contrastive_gmm.losses._common import (
    _check_pair,
    _compute_dtype,
    _embed,
    _finite_inputs,
    _inverse_temperature,
    check_chunk_size,
)


class _LogSumExpMeans(torch.autograd.Function):
    """``w_row * mean_i logsumexp_j S_ij + w_col * mean_j logsumexp_i S_ij`` for ``S = q @ k.T``.

    The gradient with respect to ``S`` is ``w_row * softmax_rows / m + w_col * softmax_cols / N``.
    Without chunking it is kept from the forward pass; with chunking only the logsumexps are
    kept and each block of columns is recomputed in backward (memory m x chunk).
    """

    @staticmethod
    def forward(ctx, q, k, w_row: float, w_col: float, chunk: int | None):  # type: ignore[override]
        m, N = q.shape[0], k.shape[0]
        ctx.weights, ctx.chunk = (w_row / m, w_col / N), chunk
        if chunk is None or chunk >= N:
            S = q @ k.T
            grad_S, loss = _softmax_grad(S, w_row / m, w_col / N)
            ctx.save_for_backward(q, k, grad_S)
            ctx.chunk = None
            return loss
        lse_row = torch.full((m,), -math.inf, dtype=q.dtype, device=q.device)
        lse_col = torch.empty(N, dtype=q.dtype, device=q.device) if w_col else None
        for start in range(0, N, chunk):
            S = q @ k[start : start + chunk].T
            lse_row = torch.logaddexp(lse_row, torch.logsumexp(S, dim=1))
            if lse_col is not None:
                lse_col[start : start + chunk] = torch.logsumexp(S, dim=0)
        ctx.save_for_backward(q, k, lse_row, lse_col)
        loss = w_row * lse_row.mean()
        return loss + w_col * lse_col.mean() if lse_col is not None else loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_loss):  # type: ignore[override]
        if ctx.chunk is None:
            q, k, grad_S = ctx.saved_tensors
            grad_S = grad_S * grad_loss
            # Written as (narrow @ wide).T: BLAS is ~3x slower on wide @ narrow products.
            grad_q = (k.T @ grad_S.T).T if ctx.needs_input_grad[0] else None
            grad_k = (q.T @ grad_S).T if ctx.needs_input_grad[1] else None
            return grad_q, grad_k, None, None, None
        q, k, lse_row, lse_col = ctx.saved_tensors
        w_row, w_col = ctx.weights
        grad_q, grad_k = torch.zeros_like(q), torch.empty_like(k)
        for start in range(0, k.shape[0], ctx.chunk):
            kb = k[start : start + ctx.chunk]
            S = q @ kb.T
            G = torch.exp(S - lse_row[:, None]).mul_(w_row)
            if lse_col is not None:
                G += torch.exp(S - lse_col[None, start : start + ctx.chunk]).mul_(w_col)
            G *= grad_loss
            grad_q += (kb.T @ G.T).T
            grad_k[start : start + ctx.chunk] = (q.T @ G).T
        return grad_q, grad_k, None, None, None


def _softmax_grad(S: torch.Tensor, w_row: float, w_col: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(w_row * softmax_rows(S) + w_col * softmax_cols(S), loss)`` with one exp per direction.

    ``loss = w_row * sum_i lse_i(row) + w_col * sum_j lse_j(col)``: the weights already include 1/m, 1/N.
    """
    mx = S.amax(dim=1, keepdim=True)
    P = torch.exp(S - mx)
    total = P.sum(dim=1, keepdim=True)
    loss = w_row * (mx + total.log()).sum()
    P.mul_(w_row / total)
    if w_col:
        mx_c = S.amax(dim=0, keepdim=True)
        E = S.sub_(mx_c).exp_()  # S is not needed any more: reuse its memory
        total_c = E.sum(dim=0, keepdim=True)
        loss = loss + w_col * (mx_c + total_c.log()).sum()
        P.add_(E.mul_(w_col / total_c))
    return P, loss


def _contrastive(
    a: torch.Tensor,
    b: torch.Tensor,
    scale: float | torch.Tensor,
    symmetric: bool,
    chunk_size: int | None,
    gather: bool,
) -> torch.Tensor:
    """The loss of prepared embeddings ``a``, ``b`` (float32/64, normalised if cosine) at logit scale ``scale``."""
    m = a.shape[0]
    if gather and distributed.world_size() > 1:
        # Local rows against the columns of every process; this process's positives sit at rows
        # rank * m .. rank * m + m - 1 of the gathered columns (the labels offset by rank).
        b_all = distributed.all_gather_with_grad(b)
        offset = distributed.rank() * m
        qa = a * scale
        positives = (qa * b_all.narrow(0, offset, m)).sum(dim=1).mean()
        if not symmetric:
            return _LogSumExpMeans.apply(qa, b_all, 1.0, 0.0, chunk_size) - positives
        a_all = distributed.all_gather_with_grad(a)  # only the symmetric direction needs every anchor
        qb = b * scale
        lse = _LogSumExpMeans.apply(qa, b_all, 0.5, 0.0, chunk_size)
        lse = lse + _LogSumExpMeans.apply(qb, a_all, 0.5, 0.0, chunk_size)
        return lse - 0.5 * (positives + (qb * a_all.narrow(0, offset, m)).sum(dim=1).mean())
    qa = a * scale
    positives = (qa * b).sum(dim=1).mean()
    weights = (0.5, 0.5) if symmetric else (1.0, 0.0)
    return _LogSumExpMeans.apply(qa, b, *weights, chunk_size) - positives


def similarity_logits(a: torch.Tensor, b: torch.Tensor, temperature: float, similarity: str = "cosine") -> torch.Tensor:
    """Return the (n, n) logit matrix sim(a_i, b_j) / temperature in float32 (or float64 inputs' dtype)."""
    dtype = _compute_dtype(a, b)
    return (_embed(a, similarity, dtype) @ _embed(b, similarity, dtype).T) / temperature


def info_nce(
    a: torch.Tensor,
    b: torch.Tensor,
    temperature: float | torch.Tensor = 0.5,
    similarity: str = "cosine",
    symmetric: bool = True,
    *,
    chunk_size: int | None = None,
    gather_distributed: bool = False,
) -> torch.Tensor:
    """InfoNCE with in-batch negatives: mean over i of -log softmax_j(sim(a_i, b_j)/tau)[i].

    ``symmetric=True`` averages the a->b and b->a directions (as CLIP does). ``temperature`` may
    be a scalar tensor (a learnable one keeps its gradient). ``chunk_size`` bounds memory to
    n x chunk_size; ``gather_distributed`` uses every process's batch as negatives (see
    :class:`InfoNCELoss`).

    Examples
    --------
    >>> import torch
    >>> z = torch.eye(4)
    >>> round(float(info_nce(z, z, temperature=1.0)), 4)  # log(3 e^0 + e^1) - 1
    0.7437
    >>> round(float(info_nce(z, z, temperature=1.0, chunk_size=3)), 4)  # same value, n x 3 blocks
    0.7437
    """
    _check_pair(a, b)
    scale = _inverse_temperature(temperature)
    check_choice(similarity, "similarity", SIMILARITIES)
    chunk_size = check_chunk_size(chunk_size)
    loss = info_nce_unchecked(a, b, scale, similarity, bool(symmetric), chunk_size, gather_distributed)
    return _finite_inputs(loss, a, b)


def info_nce_unchecked(
    a: torch.Tensor,
    b: torch.Tensor,
    scale: float | torch.Tensor,
    similarity: str,
    symmetric: bool,
    chunk_size: int | None = None,
    gather_distributed: bool = False,
) -> torch.Tensor:
    """:func:`info_nce` at logit scale ``scale = 1 / temperature``, without its checks.

    For training loops that validated their parameters once and handle a non-finite loss
    themselves (:func:`~contrastive_gmm.train_linear_maps` skips the step): per step, the checks
    and the finiteness test (a host sync) would be repeated for nothing.
    """
    dtype = _compute_dtype(a, b)
    return _contrastive(_embed(a, similarity, dtype), _embed(b, similarity, dtype), scale, symmetric, chunk_size, gather_distributed)


class InfoNCELoss(nn.Module):
    """InfoNCE / NT-Xent-style loss on row-paired embeddings: ``forward(a, b) -> scalar``.

    Parameters
    ----------
    temperature : float > 0
        Divides the similarities before the softmax.
    similarity : {"cosine", "dot"}
        Cosine normalises each embedding first; dot uses raw inner products.
    symmetric : bool
        Average the a->b and b->a directions.
    gather_distributed : bool
        Under an initialised ``torch.distributed`` process group, compare this process's rows
        with the rows of *all* processes (more negatives), with gradients flowing back to their
        owners. Every process must pass the same number of rows. The loss is the mean over the
        local rows; averaged over processes (as DDP averages gradients) it equals the
        full-batch loss, and so does its gradient. Without an initialised group (a single
        process) it computes the ordinary local loss.
    chunk_size : int, optional
        Build the logits this many columns at a time (forward and backward), so memory is
        ``n x chunk_size`` instead of ``n x n``; the value and gradient are unchanged.

    Examples
    --------
    >>> import torch
    >>> loss = InfoNCELoss(temperature=0.5)
    >>> a = torch.randn(8, 3)
    >>> bool(loss(a, a) < loss(a, torch.randn(8, 3)))
    True
    >>> torch.allclose(InfoNCELoss(0.5, chunk_size=3)(a, a), loss(a, a))
    True
    """

    def __init__(
        self,
        temperature: float = 0.5,
        similarity: str = "cosine",
        symmetric: bool = True,
        gather_distributed: bool = False,
        chunk_size: int | None = None,
    ) -> None:
        super().__init__()
        self.temperature = check_positive(temperature, "temperature")
        self.similarity = check_choice(similarity, "similarity", SIMILARITIES)
        self.symmetric = bool(symmetric)
        self.gather_distributed = distributed.check_available(gather_distributed)
        self.chunk_size = check_chunk_size(chunk_size)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Mean InfoNCE loss of the batch (of the local rows, with ``gather_distributed``)."""
        return info_nce(
            a, b, self.temperature, self.similarity, self.symmetric,
            chunk_size=self.chunk_size, gather_distributed=self.gather_distributed,
        )

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, similarity={self.similarity!r}, symmetric={self.symmetric}, "
            f"gather_distributed={self.gather_distributed}, chunk_size={self.chunk_size}"
        )


__all__ = ["similarity_logits", "info_nce", "InfoNCELoss"]
