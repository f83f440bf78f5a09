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

import numpy as np
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


def all_gather_rows_with_grad(x: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """All processes' ``x`` stacked in rank order when process ``r`` holds ``counts[r]`` rows (any, 0 included).

    Every process passes the same ``counts`` (it knows them from the batch indices): each pads its
    rows to ``max(counts)``, one gather with gradients (:func:`all_gather_with_grad`) stacks the
    padded blocks, and the padding is dropped; the padded rows carry no gradient. A tensor that
    needs no gradient (labels, say) is gathered the same way. ``x`` itself without a group.

    >>> all_gather_rows_with_grad(torch.ones(2, 3), [2]).shape  # a world of one
    torch.Size([2, 3])
    """
    if world_size() == 1:
        return x
    if x.shape[0] != counts[rank()]:
        raise ValueError(f"this process has {x.shape[0]} rows but counts says {counts[rank()]}.")
    most = max(counts)
    padded = x if x.shape[0] == most else torch.cat([x, x.new_zeros((most - x.shape[0], *x.shape[1:]))])
    if x.requires_grad:
        stacked = _AllGather.apply(padded)
    else:
        parts = [torch.empty_like(padded) for _ in range(world_size())]
        dist.all_gather(parts, padded.contiguous())
        stacked = torch.cat(parts)
    keep = torch.cat([torch.arange(r * most, r * most + c, device=x.device) for r, c in enumerate(counts)])
    return stacked.index_select(0, keep)


def _collective_device() -> torch.device:
    """Where a collective's tensors must live: the current GPU under nccl, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def broadcast_tensor(t: torch.Tensor, src: int = 0) -> torch.Tensor:
    """Overwrite ``t`` in place with process ``src``'s ``t`` (same shape and dtype everywhere); returns ``t``."""
    if world_size() == 1:
        return t
    device = _collective_device()
    buf = t if t.device == device else t.to(device)
    dist.broadcast(buf, src=src)
    if buf is not t:
        t.copy_(buf)
    return t


def broadcast_generator(generator: torch.Generator, src: int = 0) -> torch.Generator:
    """Give ``generator`` process ``src``'s state (in place), so every process draws the same numbers; returns it."""
    if world_size() == 1:
        return generator
    state = generator.get_state()
    generator.set_state(broadcast_tensor(state.clone(), src=src).cpu())
    return generator


def init_from_environment(device: str = "cpu") -> str:
    """Initialise the default process group from a launcher's environment (``torchrun``: ``RANK``, ``WORLD_SIZE``, ...).

    The backend is nccl for a CUDA ``device`` (each process then takes the GPU ``LOCAL_RANK``
    names; the device to train on is returned) and gloo otherwise. ValueError, saying how to
    launch, when the environment names no process group.
    """
    import os

    missing = [v for v in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
    if missing:
        raise ValueError(
            f"a distributed fit needs a launcher's process group, but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set: start it with torchrun, e.g. "
            "torchrun --nproc-per-node 2 $(which cgmm) fit --distributed ..."
        )
    if str(device).startswith("cuda"):
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        dist.init_process_group("nccl")
        return f"cuda:{local}"
    dist.init_process_group("gloo")
    return str(device)


def all_reduce_sum(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Each array summed over all processes (float64, in one collective); the arrays themselves without a group.

    Every process must pass arrays of the same shapes in the same order (the moments of a
    shard, say). The sum is one ``all_reduce`` of the arrays packed into one float64 vector,
    so every process receives the same bits.

    >>> [a.tolist() for a in all_reduce_sum([np.ones(2), np.zeros((1, 1))])]  # a world of one
    [[1.0, 1.0], [[0.0]]]
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    if world_size() == 1:
        return arrays
    flat = torch.from_numpy(np.concatenate([a.ravel() for a in arrays])).to(_collective_device())
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat = flat.cpu()
    out, start = [], 0
    for a in arrays:
        out.append(flat[start : start + a.size].numpy().reshape(a.shape))
        start += a.size
    return out


def broadcast_array(array: np.ndarray, src: int = 0) -> np.ndarray:
    """Process ``src``'s float64 ``array`` on every process (same shape everywhere); the array itself without a group."""
    array = np.array(array, dtype=np.float64)
    if world_size() == 1:
        return array
    return broadcast_tensor(torch.from_numpy(array), src=src).numpy()


def all_gather_values(value: object) -> list:
    """Every process's ``value`` (any picklable object), in rank order: ``[value]`` without a group.

    For the few numbers processes must agree on before a collective fit (shard shapes, batch counts).
    """
    if world_size() == 1:
        return [value]
    out: list = [None] * world_size()
    dist.all_gather_object(out, value)
    return out


__all__ = [
    "is_initialized",
    "world_size",
    "rank",
    "check_available",
    "all_gather_with_grad",
    "init_from_environment",
    "all_gather_rows_with_grad",
    "broadcast_tensor",
    "broadcast_generator",
    "all_reduce_sum",
    "broadcast_array",
    "all_gather_values",
]
