"""Gathered losses across 2 gloo processes give the single-process full-batch loss and gradient."""

import socket
import time
from datetime import timedelta

import numpy as np
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
    _join_or_fail(mp.spawn(_worker, args=(_free_port(),), nprocs=WORLD, join=False), TIMEOUT_S)


def _join_or_fail(context, timeout_s: float) -> None:
    """Wait for the processes; join() re-raises a worker's exception (with its traceback) here; a hang fails."""
    deadline = time.monotonic() + timeout_s
    while not context.join(timeout=1.0):
        if time.monotonic() > deadline:
            for process in context.processes:
                if process.is_alive():
                    process.terminate()
            pytest.fail(f"the 2-process gloo run did not finish within {timeout_s} s")


def test_without_a_process_group_gathering_is_the_local_loss():
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(8, 3, generator=gen), torch.randn(8, 3, generator=gen)
    assert not distributed.is_initialized()
    assert distributed.all_gather_with_grad(a) is a
    assert torch.equal(InfoNCELoss(0.5, gather_distributed=True)(a, b), InfoNCELoss(0.5)(a, b))
    assert torch.equal(CLIPLoss(0.5, gather_distributed=True)(a, b), CLIPLoss(0.5)(a, b))


# --- Learners trained across processes: each rank fits its own (unequal) shard. ---

SHARD = 1100  # rank 0's rows; rank 1 holds the rest (unequal shards, as real ones are)
FIT = dict(max_epochs=8, batch_size=256)


def _fit_data():
    """Same-width pairs (InfoNCE, SimCLR) and two-view pairs (CLIP), with weights; the same in every process."""
    import contrastive_gmm as cg

    X, P, _, _ = cg.GMM.random(3, 6, random_state=0).sample_pairs(2000, random_state=1)
    U, V, _ = cg.MultimodalGMM.random(3, 6, 5, random_state=0).sample(2000, random_state=1)
    w = np.random.default_rng(2).uniform(0.5, 2.0, size=2000)
    return X, P, U, V, w


def _learners(distributed_flag: bool, seed: int):
    import contrastive_gmm as cg

    return {
        "InfoNCE": cg.InfoNCE(2, random_state=seed, distributed=distributed_flag, **FIT),
        "SimCLR": cg.SimCLR(2, random_state=seed, distributed=distributed_flag, **FIT),
        "CLIP": cg.CLIP(2, random_state=seed, distributed=distributed_flag, **FIT),
    }


def _maps(model) -> np.ndarray:
    return model.components_ if hasattr(model, "components_") else np.vstack([model.x_components_.T, model.y_components_.T]).T


def _fit_worker(rank: int, port: int, queue) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD, timeout=timedelta(seconds=60)
    )
    try:
        X, P, U, V, w = _fit_data()
        rows = slice(0, SHARD) if rank == 0 else slice(SHARD, None)
        out = {}
        # Rank 1's seed differs on purpose: process 0's start and generator must win everywhere.
        for name, model in _learners(True, seed=0 if rank == 0 else 7).items():
            A, B = (U, V) if name == "CLIP" else (X, P)
            out[name] = _maps(model.fit(A[rows], B[rows]))
        out["InfoNCE weighted"] = _maps(_learners(True, 0)["InfoNCE"].fit(X[rows], P[rows], sample_weight=w[rows]))
        # Shards of different widths: a clear error in every process, not a hung collective.
        with pytest.raises(ValueError, match="same number of features"):
            _learners(True, 0)["InfoNCE"].fit(X[rows, : 6 - rank], P[rows, : 6 - rank])
        queue.put((rank, out))
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_on_unequal_shards_fit_what_one_process_fits_on_all_rows():
    import contrastive_gmm as cg

    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    _join_or_fail(mp.start_processes(_fit_worker, args=(_free_port(), queue), nprocs=WORLD, join=False, start_method="spawn"), 4 * TIMEOUT_S)
    results = dict(queue.get() for _ in range(WORLD))
    X, P, U, V, w = _fit_data()
    with distributed_off():
        single = {name: _maps(m.fit(*((U, V) if name == "CLIP" else (X, P)))) for name, m in _learners(False, 0).items()}
        single["InfoNCE weighted"] = _maps(_learners(False, 0)["InfoNCE"].fit(X, P, sample_weight=w))
    for name, ref in single.items():
        # Every rank holds process 0's final maps, bit for bit.
        assert np.array_equal(results[0][name], results[1][name]), name
        # The ranks draw the batches one process draws on all the rows (same seed) and gather them, so the
        # fits differ only by float32 summation order (moments, gathered batches): measured ~2e-5 degrees.
        # 0.01 degrees is far below the seed-to-seed spread (~0.4 degrees for InfoNCE at these sizes).
        angle = cg.subspace_angles(results[0][name], ref).max()
        assert angle < 1e-2, (name, angle)


class distributed_off:
    """No process group in this (the parent) process: the reference fits are ordinary ones."""

    def __enter__(self):
        assert not distributed.is_initialized()

    def __exit__(self, *exc):
        return False


@pytest.mark.filterwarnings("ignore:InfoNCE kept")  # 3 epochs: far from converged, which is not the point here
def test_distributed_flag_without_a_group_is_the_ordinary_fit_and_is_validated():
    import contrastive_gmm as cg

    X, P, _, _, _ = _fit_data()
    a = cg.InfoNCE(2, random_state=0, max_epochs=3).fit(X, P)
    b = cg.InfoNCE(2, random_state=0, max_epochs=3, distributed=True).fit(X, P)
    np.testing.assert_array_equal(a.components_, b.components_)
    with pytest.raises(ValueError, match="integer n_components"):
        cg.InfoNCE("auto", distributed=True).fit(X, P)
    with pytest.raises(TypeError, match="distributed must be True or False"):
        cg.CLIP(2, distributed="yes").fit(X, P)
