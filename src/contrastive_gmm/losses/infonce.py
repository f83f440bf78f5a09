"""Contrastive losses as small PyTorch modules, usable in any model.

Every loss here is "row i of ``a`` is the positive of row i of ``b``; the other rows of the
batch are negatives": ``mean_i [logsumexp_j s_ij - s_ii]`` with ``s_ij = sim(a_i, b_j) / tau``.
How it is computed, and why:

- One fused autograd function computes each row's (and column's) cross-entropy and their
  gradient ``softmax - identity`` directly: one exp per direction instead of autograd's two,
  which is most of the cost of a linear learner's step.
- Each row's loss is ``log(1 + sum_neg exp(s_ij - s_ii))`` with the positive logit taken from
  the same logit matrix and cancelled inside the log (as ``cross_entropy`` does), so the loss
  is never negative and is as accurate as float32 ``cross_entropy`` at any temperature.
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


class _CrossEntropyMeans(torch.autograd.Function):
    """``w_row * mean_i l_i + w_col * mean_j l'_j`` for ``S = q @ k.T``, positives at ``S[i, offset + i]``.

    ``l_i = log sum_j exp(S_ij - S_i,offset+i)`` is each row's cross-entropy and ``l'_j`` each
    column's (the column direction needs a square ``S`` with ``offset = 0``). The positive's
    logit is read from the same ``S`` as the negatives and cancels inside the log (see
    :func:`_row_terms`). The gradient with respect to ``S`` is ``softmax - identity`` (weighted).
    Without chunking it is kept from the forward pass; with chunking only per-row statistics
    are kept and each block of columns is recomputed in backward (memory m x chunk).
    """

    @staticmethod
    def forward(ctx, q, k, w_row: float, w_col: float, chunk: int | None, offset: int = 0):  # type: ignore[override]
        m, N = q.shape[0], k.shape[0]
        w_row, w_col = w_row / m, w_col / N
        ctx.chunk, ctx.offset = chunk, offset
        if chunk is None or chunk >= N:
            grad_S, loss = _loss_and_grad(q @ k.T, offset, w_row, w_col)
            ctx.save_for_backward(q, k, grad_S)
            ctx.chunk = None
            return loss
        positive = torch.empty(m, dtype=q.dtype, device=q.device)
        mx = torch.full((m,), _NEG_INF, dtype=q.dtype, device=q.device)
        total = torch.zeros(m, dtype=q.dtype, device=q.device)
        if w_col:
            mx_c, total_c = torch.empty(N, dtype=q.dtype, device=q.device), torch.empty(N, dtype=q.dtype, device=q.device)
        for start in range(0, N, chunk):
            S = q @ k[start : start + chunk].T
            on_diag = S.diagonal(offset - start)
            positive[_positive_rows(on_diag, offset - start)] = on_diag
            on_diag.fill_(_NEG_INF)  # the negatives only, from here on
            # Online max and sum (as in flash attention): the sum is kept relative to the running
            # max, never rounded into a logsumexp of the logits' magnitude.
            new = torch.maximum(mx, S.amax(dim=1))
            shift = _finite_max(new)
            total = total.mul_(torch.exp(mx - shift)).add_(torch.exp(S - shift[:, None]).sum(dim=1))
            mx = new
            if w_col:
                block_mx = S.amax(dim=0)
                mx_c[start : start + chunk] = block_mx
                total_c[start : start + chunk] = S.sub_(_finite_max(block_mx)).exp_().sum(dim=0)
        loss, scale, grad_positive = _row_terms(positive, mx, total, w_row)
        if w_col:
            loss_c, scale_c, grad_positive_c = _row_terms(positive, mx_c, total_c, w_col)
            loss, grad_positive = loss + loss_c, grad_positive + grad_positive_c
            ctx.save_for_backward(q, k, _finite_max(mx), scale, grad_positive, _finite_max(mx_c), scale_c)
        else:
            ctx.save_for_backward(q, k, _finite_max(mx), scale, grad_positive)
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_loss):  # type: ignore[override]
        if ctx.chunk is None:
            q, k, grad_S = ctx.saved_tensors
            grad_S = grad_S * grad_loss
            # Written as (narrow @ wide).T: BLAS is ~3x slower on wide @ narrow products.
            grad_q = (k.T @ grad_S.T).T if ctx.needs_input_grad[0] else None
            grad_k = (q.T @ grad_S).T if ctx.needs_input_grad[1] else None
            return grad_q, grad_k, None, None, None, None
        q, k, mx, scale, grad_positive, *columns = ctx.saved_tensors
        grad_q, grad_k = torch.zeros_like(q), torch.empty_like(k)
        for start in range(0, k.shape[0], ctx.chunk):
            kb = k[start : start + ctx.chunk]
            S = q @ kb.T
            G = torch.exp(S - mx[:, None]).mul_(scale[:, None])
            if columns:
                mx_c, scale_c = (c[start : start + ctx.chunk] for c in columns)
                G += S.sub_(mx_c).exp_().mul_(scale_c)
            # The positives' entries (whatever exp gave there) are -sigmoid(x), computed in forward.
            on_diag = G.diagonal(ctx.offset - start)
            on_diag.copy_(grad_positive[_positive_rows(on_diag, ctx.offset - start)])
            G *= grad_loss
            grad_q += (kb.T @ G.T).T
            grad_k[start : start + ctx.chunk] = (q.T @ G).T
        return grad_q, grad_k, None, None, None, None


_NEG_INF = -math.inf


def _positive_rows(on_diag: torch.Tensor, d: int) -> slice:
    """The rows of a logit block whose positives are ``block.diagonal(d)``."""
    first = max(0, -d)
    return slice(first, first + on_diag.shape[0])


def _finite_max(mx: torch.Tensor) -> torch.Tensor:
    """``mx`` with -inf (no negatives: a batch of one) as 0, so ``exp(S - mx)`` gives 0 there, not NaN."""
    return mx.masked_fill(mx == _NEG_INF, 0.0)


def _row_terms(
    positive: torch.Tensor, mx: torch.Tensor, total: torch.Tensor, weight: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-row ``(weight * sum_i loss_i, scale of the negatives' softmax, gradient at the positives)``.

    ``mx`` and ``total = sum exp(s - mx)`` run over the negatives only. The loss
    ``log(1 + sum_neg exp(s_j - s_pos))`` is ``softplus(x)``, ``x = (mx - s_pos) + log(total)``:
    the positive logit cancels before anything is rounded to the logits' magnitude, so the loss
    is >= 0 (a log of 1 + positive terms) and keeps its relative accuracy when it is tiny. A
    negative's softmax is ``exp(s_j - mx) * sigmoid(x) / total``; the positive's gradient
    ``softmax - 1`` is ``-sigmoid(x)``, without the cancellation of ``p - 1``.
    """
    total = total.clamp_min(1.0)  # >= 1 (the max term is exp(0)); 0 only without negatives, where x = -inf
    x = (mx - positive) + total.log()
    sig = torch.sigmoid(x)
    return torch.nn.functional.softplus(x).sum() * weight, sig * (weight / total), sig * -weight


def _loss_and_grad(S: torch.Tensor, offset: int, w_row: float, w_col: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(gradient with respect to S, loss)`` of the unchunked loss, with one exp per direction.

    The weights already include 1/m, 1/N. ``S`` is overwritten (its memory reused).
    """
    on_diag = S.diagonal(offset)
    positive = on_diag.clone()
    on_diag.fill_(_NEG_INF)  # the negatives only, from here on
    mx = S.amax(dim=1)
    P = torch.exp(S - _finite_max(mx)[:, None])
    loss, scale, grad_positive = _row_terms(positive, mx, P.sum(dim=1), w_row)
    P.mul_(scale[:, None])
    if w_col:
        mx_c = S.amax(dim=0)
        E = S.sub_(_finite_max(mx_c)).exp_()  # S is not needed any more: reuse its memory
        loss_c, scale_c, grad_positive_c = _row_terms(positive, mx_c, E.sum(dim=0), w_col)
        P.add_(E.mul_(scale_c))
        loss, grad_positive = loss + loss_c, grad_positive + grad_positive_c
    P.diagonal(offset).copy_(grad_positive)
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
    qa = a * scale
    if gather and distributed.world_size() > 1:
        # Local rows against the columns of every process; this process's positives sit at rows
        # rank * m .. rank * m + m - 1 of the gathered columns (the labels offset by rank).
        b_all = distributed.all_gather_with_grad(b)
        offset = distributed.rank() * m
        if not symmetric:
            return _CrossEntropyMeans.apply(qa, b_all, 1.0, 0.0, chunk_size, offset)
        a_all = distributed.all_gather_with_grad(a)  # only the symmetric direction needs every anchor
        return (
            _CrossEntropyMeans.apply(qa, b_all, 0.5, 0.0, chunk_size, offset)
            + _CrossEntropyMeans.apply(b * scale, a_all, 0.5, 0.0, chunk_size, offset)
        )
    weights = (0.5, 0.5) if symmetric else (1.0, 0.0)
    return _CrossEntropyMeans.apply(qa, b, *weights, chunk_size, 0)


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
