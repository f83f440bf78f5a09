"""Gathered losses across 2 gloo processes give the single-process full-batch loss and gradient."""

import socket
import time
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from contrastive_gmm import distributed
from contrastive_gmm.losses.clip import CLIPLoss
from contrastive_gmm.losses.infonce import InfoNCELoss

WORLD = 2
ROWS_PER_RANK = 6
TIMEOUT_S = 90  # a hung collective must fail the test, not the CI job; a normal run takes a few seconds


def _cases():
    """(name, factory) pairs; each factory makes the loss module with a given gather flag."""
    return [
        ("infonce cosine symmetric", lambda g: InfoNCELoss(0.5, gather_distributed=g)),
        ("infonce dot one-way tau 1e-3", lambda g: InfoNCELoss(1e-3, similarity="dot", symmetric=False, gather_distributed=g)),
        ("infonce chunked", lambda g: InfoNCELoss(0.3, gather_distributed=g, chunk_size=5)),
        ("clip learnable temperature", lambda g: CLIPLoss(0.1, learnable_temperature=True, gather_distributed=g)),
    ]


def _grads(loss: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    return list(torch.autograd.grad(loss, params))


def _worker(rank: int, port: int) -> None:
    torch.set_num_threads(1)  # two processes on two cores
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD, timeout=timedelta(seconds=60)
    )
    try:
        assert distributed.world_size() == WORLD and distributed.rank() == rank
        n = WORLD * ROWS_PER_RANK
        for name, make in _cases():
            gen = torch.Generator().manual_seed(0)  # the same data and towers in every process
            x = torch.randn(n, 5, generator=gen, dtype=torch.float64)
            y = torch.randn(n, 4, generator=gen, dtype=torch.float64)
            Wa = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
            Wb = torch.randn(4, 3, generator=gen, dtype=torch.float64, requires_grad=True)

            # Reference: one process, the whole batch, no gathering.
            full = make(False).double()
            params = [Wa, Wb, *full.parameters()]
            ref_loss = full(x @ Wa, y @ Wb)
            ref_grads = _grads(ref_loss, params)

            # This process's rows against every process's columns.
            local = make(True).double()
            params = [Wa, Wb, *local.parameters()]
            rows = slice(rank * ROWS_PER_RANK, (rank + 1) * ROWS_PER_RANK)
            loss = local(x[rows] @ Wa, y[rows] @ Wb)
            grads = _grads(loss, params)
            # What DDP does with the local losses and their gradients: average over processes.
            loss_mean = loss.detach().clone()
            for t in (loss_mean, *grads):
                dist.all_reduce(t)
                t /= WORLD
            # float64 end to end: agreement to ~1e-12; 1e-9 leaves room for summation order.
            assert torch.allclose(loss_mean, ref_loss, rtol=1e-9, atol=1e-9), (name, float(loss_mean), float(ref_loss))
            for g, r in zip(grads, ref_grads):
                assert torch.allclose(g, r, rtol=1e-9, atol=1e-9), (name, (g - r).abs().max().item())

        # Unequal local batches cannot be gathered: every process gets the same clear error.
        a = torch.randn(3 + rank, 2, dtype=torch.float64)
        with pytest.raises(ValueError, match="same number of rows"):
            InfoNCELoss(0.5, gather_distributed=True)(a, a)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_the_full_batch_gradient():
    context = mp.spawn(_worker, args=(_free_port(),), nprocs=WORLD, join=False)
    deadline = time.monotonic() + TIMEOUT_S
    # join() re-raises a worker's exception (with its traceback) in this process.
    while not context.join(timeout=1.0):
        if time.monotonic() > deadline:
            for process in context.processes:
                if process.is_alive():
                    process.terminate()
            pytest.fail(f"the 2-process gloo run did not finish within {TIMEOUT_S} s")


def test_without_a_process_group_gathering_is_the_local_loss():
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(8, 3, generator=gen), torch.randn(8, 3, generator=gen)
    assert not distributed.is_initialized()
    assert distributed.all_gather_with_grad(a) is a
    assert torch.equal(InfoNCELoss(0.5, gather_distributed=True)(a, b), InfoNCELoss(0.5)(a, b))
    assert torch.equal(CLIPLoss(0.5, gather_distributed=True)(a, b), CLIPLoss(0.5)(a, b))
