"""The one piece of ``torch.distributed`` the losses need: an all-gather that gradients flow back through.

Pattern (lightly's ``GatherLayer``, open_clip's ``gather_features``): every process gathers
the embeddings of all processes, computes its *local* rows against *all* columns, and the
gradient of each gathered slot is sent back to the process that owns it. Forward is an
``all_gather``; the local slot is this process's own tensor, so its gradient flows; backward
sums every process's gradient for every slot (``all_reduce``) and keeps this process's slot.
Without that sum a process would miss the terms where *other* processes' rows use its rows as
negatives, and the gradient would not be the full-batch one.

With a single process, or no initialised process group, gathering returns the input itself.

Examples
--------
>>> import torch
>>> x = torch.randn(4, 3, requires_grad=True)
>>> all_gather_with_grad(x) is x  # no process group: a world of one
True
>>> world_size(), rank()
(1, 0)
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def is_initialized() -> bool:
    """True when ``torch.distributed`` is available and a process group is initialised."""
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """Number of processes in the default group (1 without one)."""
    return dist.get_world_size() if is_initialized() else 1


def rank() -> int:
    """This process's rank in the default group (0 without one)."""
    return dist.get_rank() if is_initialized() else 0


def check_available(gather_distributed: bool) -> bool:
    """Validate a ``gather_distributed`` flag: ValueError when asked for on a torch built without distributed."""
    gather_distributed = bool(gather_distributed)
    if gather_distributed and not dist.is_available():
        raise ValueError(
            "gather_distributed=True needs torch.distributed, which this torch build lacks; "
            "use gather_distributed=False."
        )
    return gather_distributed


class _AllGather(torch.autograd.Function):
    """Concatenate every process's ``x`` along dim 0; backward: sum the gradients over processes, keep ours."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rows, ctx.rank = x.shape[0], dist.get_rank()
        parts[ctx.rank] = x  # our own slot is our own tensor (bit-identical to what was sent)
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad.narrow(0, ctx.rank * ctx.rows, ctx.rows)


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """All processes' ``x`` stacked along dim 0 in rank order, differentiable with respect to the local ``x``.

    Every process must pass a tensor of the same shape (ValueError otherwise: all_gather needs
    equal sizes). Returns ``x`` itself without an initialised group of two or more processes.
    """
    if world_size() == 1:
        return x
    sizes = [torch.zeros(1, dtype=torch.long, device=x.device) for _ in range(world_size())]
    dist.all_gather(sizes, torch.tensor([x.shape[0]], dtype=torch.long, device=x.device))
    counts = [int(s) for s in sizes]
    if len(set(counts)) != 1:
        raise ValueError(f"every process must pass the same number of rows to a gathered loss; got {counts} per rank.")
    return _AllGather.apply(x)


__all__ = ["is_initialized", "world_size", "rank", "check_available", "all_gather_with_grad"]
