"""Trained linear contrastive learners (PyTorch), scikit-learn style.

Why training happens in whitened coordinates: the learner's family is *all* linear maps, so
writing the map as ``V S^{-1/2}`` (S the pooled covariance) changes neither the loss values
nor the optimum over that family, on the population or on the sample. It only preconditions
the optimisation (every direction starts at the same scale), which is what makes the defaults
work without tuning and the fit independent of the input's scale.
"""

from __future__ import annotations

import contextlib
import math
import threading
import warnings
from typing import Callable, Iterator

import numpy as np
import torch
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from contrastive_gmm._validation import (
    InputTypeError,
    check_choice,
    check_positive,
    check_positive_int,
    check_reg,
)
from contrastive_gmm.learners.base import LinearProjection, paired_views
from contrastive_gmm.linalg import (
    _CHUNK,
    pair_scaling,
    whitener,
    within_covariance,
)
from contrastive_gmm import distributed as _dist
from contrastive_gmm.moments import PairedMoments, accumulate, chunk_rows, moment_regularisation

_MAX_HALVINGS = 4
_MIN_STEPS_PER_CHECK = 64
_MAX_BAD_STEPS = 20
# max_epochs=None: at least this many epochs and this many progress checks. A data set of a few
# hundred rows makes one step per epoch, so 200 epochs were 200 steps: too few to leave a random start.
_AUTO_MIN_EPOCHS = 200
_AUTO_MIN_CHECKS = 20
# With iterate averaging the noise of the steps no longer sets the accuracy, so InfoNCE stops at
# its first plateau instead of cooling the learning rate down four times (benchmarks/speed.py).
_INFONCE_HALVINGS = 1
# Up to this batch size a step's matrices are small (<= 2048^2 logits): on CPU extra intra-op
# threads only add synchronisation, and on a loaded machine they made fits 20-40x slower.
_SINGLE_THREAD_MAX_BATCH = 2048
#: The training defaults every trained learner shares, declared once (the learners' signatures read them):
#: minibatch size, Adam's learning rate, the relative loss change that counts as no progress,
#: and how many checks without progress stop the fit.
BATCH_SIZE = 512
LR = 0.02
TOL = 1e-4
PATIENCE = 2
INITS = ("random", "pair_cca")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: ``batch_dtype`` choices: the whitened copy's storage (None: the training dtype).
_BATCH_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}
#: Seconds before a verbose fit shows its progress bar: a fit under a second shows none (it would only flash).
_PROGRESS_DELAY = 1.0


class CollapseWarning(UserWarning):
    """A learned map lost a direction: one singular value is negligible next to the largest."""


class ClosedFormWarning(UserWarning):
    """A trained map keeps clearly less pair correlation than the closed form fitted on the same pairs."""


#: A trained map whose embedding keeps less than this share of the closed form's summed pair
#: correlation (on the same pairs, in the same whitening) raises a :class:`ClosedFormWarning`.
CLOSED_FORM_SHARE = 0.8


def closed_form_share(learned: np.ndarray, closed_form: np.ndarray, name: str, stacklevel: int) -> float:
    """``sum(learned) / sum(closed_form)`` of two sets of pair correlations; warns below ``CLOSED_FORM_SHARE``.

    The closed form (pair CCA, or CCA for two views) maximises the summed correlation between a
    k-dimensional embedding of the anchors and of the positives; a trained contrastive loss is a
    relaxation of that objective, so on the same pairs it should keep nearly all of it
    (0.97-1.0 on the benchmarks' mixtures and on raw digits). Far less means the training went
    elsewhere: into directions the pairs do not share.

    >>> round(closed_form_share(np.array([0.9, 0.5]), np.array([0.9, 0.6]), "InfoNCE", 2), 6)
    0.933333
    """
    total = float(np.sum(closed_form))
    share = float(np.sum(learned)) / total if total > 0 else 1.0
    if share < CLOSED_FORM_SHARE:
        warnings.warn(
            f"{name} kept {share:.0%} of the pair correlation of the closed form on the same pairs "
            f"(sum {float(np.sum(learned)):.3f} against {total:.3f}): the trained map is clearly worse than the closed "
            "form; check the data's preprocessing and the training settings (closed_form_share_, pair_correlations_).",
            ClosedFormWarning,
            stacklevel=stacklevel + 1,
        )
    return share


def start_in_range(start: torch.Tensor, inv_sqrt: np.ndarray) -> torch.Tensor:
    """``start`` (k, d) with its rows projected onto the range of the whitening ``inv_sqrt``.

    Why: a constant feature leaves whitened data zero along a null direction of
    :func:`whitener`. A row's weight there changes no output, so no gradient ever removes it;
    under ``whiten_output`` (orthonormal rows) it still takes a share of the unit norm, and a
    non-contrastive loss (SimSiam, MSE) is minimised by a row lying wholly there (zero output,
    perfect agreement): on raw digits (4 constant pixels) SimSiam put 4-5 of 9 rows there.
    Starting in the range keeps every row in it (the gradient has no null component). Returned
    unchanged when ``inv_sqrt`` has full rank, so such fits are as before.

    Examples
    --------
    >>> start_in_range(torch.ones(1, 3, dtype=torch.float64), np.diag([1.0, 2.0, 0.0])).tolist()
    [[1.0, 1.0, 0.0]]
    """
    vals, vecs = np.linalg.eigh(inv_sqrt)
    # whitener zeroes null directions; eigh returns them at rounding level, genuine ones are >= 1/sqrt(largest variance)
    keep = np.abs(vals) > inv_sqrt.shape[0] * np.finfo(np.float64).eps * np.abs(vals).max()
    if keep.all():
        return start
    basis = vecs[:, keep]
    projector = torch.as_tensor(basis @ basis.T, dtype=start.dtype)
    return start @ projector


def whiten_to_tensor(
    X: np.ndarray, mean: np.ndarray, inv_sqrt: np.ndarray, dtype: torch.dtype, device: torch.device, chunk: int = _CHUNK
) -> torch.Tensor:
    """``(X - mean) @ inv_sqrt`` as a ``dtype`` tensor on ``device``, built ``chunk`` rows at a time.

    The float64 arithmetic happens on one chunk at a time, so the only copy of the data that
    exists in full is the result (for float32 on CPU: the size of the input again, not 4x).

    Examples
    --------
    >>> import numpy as np, torch
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> whiten_to_tensor(X, X.mean(0), np.eye(2), torch.float32, torch.device("cpu"), chunk=2)
    tensor([[-2., -2.],
            [ 0.,  0.],
            [ 2.,  2.]])
    """
    out = torch.empty(X.shape, dtype=dtype, device=device)
    for start in range(0, X.shape[0], chunk):
        block = X[start : start + chunk].astype(np.float64)
        block -= mean  # in place: one float64 chunk fewer at the peak
        out[start : start + chunk] = torch.from_numpy(block @ inv_sqrt).to(device=device, dtype=dtype)
    return out


#: Training data whose whitened copy (both views, in the training dtype) would exceed this many bytes
#: is not copied: each batch is whitened as it is drawn (:class:`StreamedView`), so memory is bounded by
#: the batch, not n. Below it the copy is built once, which makes each step a little cheaper.
WHITENED_COPY_BYTES = 1 << 29


class StreamedView:
    """One view left where it is (a numpy or memory-mapped array): ``(X[idx] - mean) @ inv_sqrt @ V^T`` batch by batch.

    Why the map is folded, not the data: ``(x - m) W V^T = (x - m) (V W)^T``, so a step multiplies
    the batch by the k x d product ``V W`` (k d^2 work) instead of whitening every row (n d^2 once,
    and n x d more memory). The loss and its optimum are unchanged, and so is the preconditioning:
    the parameter is still ``V``, in whitened coordinates. Rows are gathered on the CPU (a
    memory-mapped file is paged in, which the kernel can evict: no anonymous memory grows with
    n) and moved to ``device`` one batch at a time.

    Examples
    --------
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> view = StreamedView(X, X.mean(0), np.eye(2), torch.float32, torch.device("cpu"))
    >>> view.embed(torch.tensor([0, 2]), torch.eye(2)).tolist()
    [[-2.0, -2.0], [2.0, 2.0]]
    """

    def __init__(self, X: np.ndarray, mean: np.ndarray, inv_sqrt: np.ndarray, dtype: torch.dtype, device: torch.device) -> None:
        with warnings.catch_warnings():
            # A read-only memory map makes torch warn that writes would be undefined; nothing writes to it.
            warnings.simplefilter("ignore", UserWarning)
            self.data = torch.from_numpy(np.asarray(X))
        self.mean = torch.as_tensor(mean, dtype=self.data.dtype)  # centred in the data's own precision
        self.inv_sqrt = torch.as_tensor(inv_sqrt, dtype=dtype, device=device)
        self.shape, self.device, self.target = tuple(X.shape), torch.device("cpu"), device

    def embed(self, idx: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        """The embedding ``(X[idx] - mean) @ inv_sqrt @ V.T`` of the rows ``idx``, differentiable in ``V``."""
        rows = (self.data.index_select(0, idx) - self.mean).to(device=self.target, dtype=self.inv_sqrt.dtype)
        return rows @ (V @ self.inv_sqrt).T  # inv_sqrt is symmetric


def training_views(
    views: tuple[np.ndarray, ...], means: tuple[np.ndarray, ...], whiteners: tuple[np.ndarray, ...],
    dtype: torch.dtype, device: torch.device, storage: torch.dtype | None = None,
) -> tuple:
    """Each view whitened for training: a tensor copy when all of them fit :data:`WHITENED_COPY_BYTES`, else a :class:`StreamedView` per view.

    ``storage`` (float16 or bfloat16): the copy is kept in that precision (half the memory; each
    batch is cast back to ``dtype`` before it meets the map, so the maps and Adam stay in ``dtype``).
    """
    storage = storage or dtype
    size = sum(X.shape[0] * X.shape[1] for X in views) * torch.empty((), dtype=storage).element_size()
    if size <= WHITENED_COPY_BYTES:
        # Chunks of chunk_rows (8M values), not linalg's 65536 rows: the float64 temporaries of a chunk are then
        # 64 MiB at any width (at d = 1024 they were 640 MiB a chunk, just under this copy's own limit).
        return tuple(
            whiten_to_tensor(X, m, W, storage, device, chunk=chunk_rows(X.shape[1])) for X, m, W in zip(views, means, whiteners)
        )
    return tuple(StreamedView(X, m, W, dtype, device) for X, m, W in zip(views, means, whiteners))


def check_batch_dtype(value: object) -> torch.dtype | None:
    """A learner's ``batch_dtype`` (None, ``"float16"`` or ``"bfloat16"``) as a torch dtype, or ValueError naming the choices."""
    if value is None:
        return None
    return _BATCH_DTYPES[check_choice(value, "batch_dtype", tuple(_BATCH_DTYPES))]


def _embed(view: torch.Tensor | StreamedView, idx: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    if not isinstance(view, torch.Tensor):
        return view.embed(idx, V)
    # index_select: ~10x faster than A[idx] for a few hundred rows on CPU.
    rows = view.index_select(0, idx)
    return (rows if rows.dtype == V.dtype else rows.to(V.dtype)) @ V.T


_threads_lock = threading.Lock()
_threads_users = 0
_threads_saved = 0


@contextlib.contextmanager
def intra_op_threads(num_threads: int | None) -> Iterator[None]:
    """Run the block with torch's intra-op thread count set to ``num_threads`` (None: unchanged).

    The setting is process-wide, so concurrent blocks (fits in several Python threads) share
    one save and one restore: the first to enter saves, the last to leave restores.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with intra_op_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    global _threads_users, _threads_saved
    if num_threads is None:
        yield
        return
    with _threads_lock:
        if _threads_users == 0:
            _threads_saved = torch.get_num_threads()
        _threads_users += 1
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_saved)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Limit torch and the BLAS/OpenMP pools to one thread for the block (also a decorator: ``@single_threaded()``).

    Why: small fits only spin extra threads (a CLIP fit on 700 digit pairs took 35 s with 2 torch
    threads and 0.34 s with 1 on a loaded machine), experiment runs already use every core
    through processes, and one thread makes a result the same in every worker and backend.
    """
    with intra_op_threads(1), threadpool_limits(limits=1):
        yield


def check_device(device: object) -> torch.device:
    """``device`` as a torch device, or a ValueError naming it: unknown, or not usable here (torch's own errors name none).

    >>> check_device("cpu")
    device(type='cpu')
    """
    if not isinstance(device, (str, torch.device)):
        raise InputTypeError(f"device must be a string such as 'cpu' or 'cuda'; got {device!r} ({type(device).__name__}).")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device must be a torch device such as 'cpu', 'cuda' or 'cuda:1'; got {device!r}.") from None
    # Checked here, not at the first tensor: torch would raise a bare AssertionError deep inside the fit.
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r}: this torch has no usable CUDA (a CPU-only build, or no visible GPU); use device='cpu'.")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {str(device)!r}: only {torch.cuda.device_count()} CUDA device(s) are visible.")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {str(device)!r}: MPS is not available here; use device='cpu'.")
    return dev


def _torch_generator(random_state: int | None | np.random.Generator) -> torch.Generator:
    """A torch Generator seeded from ``random_state`` (fresh entropy when None)."""
    if isinstance(random_state, np.random.Generator):
        seed = int(random_state.integers(0, 2**63 - 1))
    elif random_state is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
    elif isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:  # torch would silently remap it; numpy (and the rest of the library) refuse
            raise ValueError(f"random_state must be a non-negative integer seed; got {random_state}.")
        seed = int(random_state)
    else:
        raise TypeError(f"random_state must be None, an int or a numpy Generator; got {random_state!r}.")
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def orthonormal_rows(U: torch.Tensor) -> torch.Tensor:
    """Rows of ``U`` orthonormalised (QR, signs fixed so the map is a smooth function of ``U``)."""
    Q, R = torch.linalg.qr(U.T)
    signs = torch.sign(torch.diagonal(R))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return (Q * signs).T


def train_linear_maps(
    views: tuple[torch.Tensor, torch.Tensor],
    inits: list[torch.Tensor],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    parametrize: Callable[[torch.Tensor], torch.Tensor] | None = None,
    extra_params: tuple[torch.Tensor, ...] = (),
    batch_data: torch.Tensor | None = None,
    batch_size: int,
    max_epochs: int | None,
    lr: float,
    tol: float,
    patience: int,
    generator: torch.Generator,
    verbose: bool = False,
    desc: str = "fit",
    max_halvings: int = _MAX_HALVINGS,
    average: bool = False,
    num_threads: int | None = None,
    sample_weight: torch.Tensor | None = None,
    distributed: bool = False,
) -> tuple[list[torch.Tensor], dict]:
    """Minimise ``loss_fn(A[b] @ V_a.T, B[b] @ V_b.T)`` over shuffled mini-batches ``b`` with Adam.

    One init means one map shared by both views (``V_a = V_b``, as in InfoNCE); two inits
    mean a map per view (as in CLIP). Each ``V = parametrize(U)`` for its free parameter ``U``
    (identity when None); ``extra_params`` (a learnable temperature, say) are optimised too.
    With ``batch_data`` (labels, say) the loss is called as ``loss_fn(a, b, batch_data[b])``. Progress is
    judged over periods of at least ``_MIN_STEPS_PER_CHECK`` steps (whole epochs): the learning
    rate is halved whenever the period's mean loss has not improved by a relative ``tol`` for
    ``patience`` periods, and training stops at the ``max_halvings``-th halving (default 4: the
    optimiser has settled in the plateau) or after ``max_epochs`` passes (None: at least 200
    and at least 20 progress checks, so a small data set still gets over a thousand steps). With ``average=True``
    the maps returned are ``parametrize`` of the mean of the free parameters over the plateau:
    the periods since the mean loss last improved (the last period if it just improved). This
    Polyak averaging removes the steps' noise, so training can stop at the first plateau instead
    of cooling the learning rate down; ``extra_params`` keep their last values. ``num_threads``
    sets torch's intra-op threads for the loop (see :func:`intra_op_threads`; None: unchanged).
    ``sample_weight`` (n,), positive: each epoch draws ``max(n, sum(sample_weight))`` rows with
    replacement, row i with probability proportional to ``sample_weight[i]`` (so integer weights
    see each row as often as its copies would be seen, in epochs as long); None, or all weights
    equal: each epoch is a shuffle of the rows.
    ``distributed=True`` inside an initialised ``torch.distributed`` group of W processes, each
    holding its own shard of the rows (any sizes): a step draws ``batch_size // W`` rows in every
    process (as many steps an epoch as the smallest shard allows), gathers every process's
    embeddings (:func:`~contrastive_gmm.distributed.all_gather_with_grad`) so the loss is the
    full ``batch_size`` batch's, averages the gradients over processes, and starts from and
    returns process 0's maps: every process takes the same steps and ends with the same maps.
    Without a group (or W = 1) it is the ordinary loop.
    A non-finite loss or gradient skips the step and halves the learning rate; ``_MAX_BAD_STEPS`` of them raise FloatingPointError. Returns the maps
    (one per init) and a history dict (mean loss per period, epochs run, stop reason, number of
    averaged steps).

    Examples
    --------
    >>> import torch
    >>> from contrastive_gmm.losses.infonce import info_nce
    >>> gen = torch.Generator().manual_seed(0)
    >>> A = torch.randn(1024, 6, generator=gen)
    >>> B = A + 0.1 * torch.randn(1024, 6, generator=gen)  # positives: noisy copies
    >>> (V,), history = train_linear_maps(
    ...     (A, B), [torch.randn(2, 6, generator=gen)], lambda a, b: info_nce(a, b, 0.5),
    ...     parametrize=orthonormal_rows, batch_size=128, max_epochs=100, lr=0.05, tol=1e-4,
    ...     patience=2, generator=gen, max_halvings=1, average=True, num_threads=1)
    >>> V.shape, history["stop"], history["averaged_steps"] > 0
    (torch.Size([2, 6]), 'plateau', True)
    """
    with intra_op_threads(num_threads):
        return _train_linear_maps(
            views, inits, loss_fn, parametrize=parametrize, extra_params=extra_params, batch_data=batch_data,
            batch_size=batch_size, max_epochs=max_epochs, lr=lr, tol=tol, patience=patience, generator=generator,
            verbose=verbose, desc=desc, max_halvings=max_halvings, average=average, sample_weight=sample_weight,
            distributed=distributed,
        )


def _train_linear_maps(
    views: tuple[torch.Tensor, torch.Tensor],
    inits: list[torch.Tensor],
    loss_fn: Callable[..., torch.Tensor],
    *,
    parametrize: Callable[[torch.Tensor], torch.Tensor] | None,
    extra_params: tuple[torch.Tensor, ...],
    batch_data: torch.Tensor | None,
    batch_size: int,
    max_epochs: int | None,
    lr: float,
    tol: float,
    patience: int,
    generator: torch.Generator,
    verbose: bool,
    desc: str,
    max_halvings: int,
    average: bool,
    sample_weight: torch.Tensor | None = None,
    distributed: bool = False,
) -> tuple[list[torch.Tensor], dict]:
    A, B = views
    n = A.shape[0]
    device = A.device
    world = _dist.world_size() if distributed else 1
    shards = None
    if world > 1:
        # Every process draws the batches of the union of the shards (rank order), as one process on all the
        # rows would, from process 0's generator, and embeds the rows of each batch it holds.
        shards = _Shards(n, sample_weight, device)
        n, sample_weight = shards.total, shards.weights
        _dist.broadcast_generator(generator)
    # Cumulative weights for inverse-CDF sampling (torch.multinomial is capped at 2^24 rows); equal
    # weights are the plain shuffle, so sample_weight=ones gives the unweighted fit exactly.
    cdf, draws = None, n
    if sample_weight is not None and not bool(torch.all(sample_weight == sample_weight[0])):
        cdf = torch.cumsum(sample_weight.to(torch.float64), 0)
        # Weights are frequencies: an epoch draws as many rows as the repeated data would hold.
        draws = max(n, int(round(float(cdf[-1]))))
    param = parametrize or (lambda U: U)
    Us = [init.clone().requires_grad_(True) for init in inits]
    params = [*Us, *extra_params]
    opt = torch.optim.Adam(params, lr=lr)
    if world > 1:
        with torch.no_grad():
            for p in params:  # process 0's start (and temperature) everywhere, whatever each one's seed
                _dist.broadcast_tensor(p.data)
    batch_size = min(batch_size, n)
    n_batches = max(1, draws // batch_size)  # drop the ragged tail: every batch has the same negatives count
    # Small data sets make short epochs whose loss says little: judge progress over >= 64 steps.
    epochs_per_check = max(1, math.ceil(_MIN_STEPS_PER_CHECK / n_batches))
    if max_epochs is None:
        max_epochs = max(_AUTO_MIN_EPOCHS, _AUTO_MIN_CHECKS * epochs_per_check)
    best, stale, halvings, bad_steps = math.inf, 0, 0, 0
    history: dict = {"loss": [], "stop": "max_epochs"}
    total, steps, epochs = 0.0, 0, 0
    # Running sums of the free parameters: over the current period, and over the plateau (the
    # periods since the mean loss last improved), which is what average=True returns.
    sums = [torch.zeros_like(U) for U in Us] if average else []
    plateau = [torch.zeros_like(U) for U in Us] if average else []
    plateau_steps = period_steps = 0
    bar = tqdm(total=max_epochs, desc=desc, disable=not verbose or _dist.rank() > 0, leave=False, unit="epoch", delay=_PROGRESS_DELAY)
    while epochs < max_epochs:
        # Indices go to the data's device once per epoch, not once per step.
        if cdf is None:
            perm = torch.randperm(n, generator=generator).to(device)
        else:
            u = torch.rand(draws, generator=generator, dtype=torch.float64) * cdf[-1]
            perm = torch.searchsorted(cdf, u, right=True).clamp_(max=n - 1).to(device)
        if average and steps == 0:  # a new period begins
            for acc in sums:
                acc.zero_()
        for i in range(n_batches):
            idx = perm[i * batch_size : (i + 1) * batch_size]
            Va = param(Us[0])
            Vb = param(Us[-1]) if len(Us) > 1 else Va
            counts = None
            if shards is not None:  # this process's rows of the batch; the others' come from the gather below
                idx, counts = shards.local(idx)
            a = _embed(A, idx, Va)
            # One view and one map (SupCon): the "positive" embedding is the anchor's own; skip the copy.
            b = a if B is A and Vb is Va else _embed(B, idx, Vb)
            extra = None if batch_data is None else batch_data.index_select(0, idx.to(batch_data.device))
            if counts is not None:
                a, b, extra = _gather_batch(a, b, extra, counts)
            loss = loss_fn(a, b) if extra is None else loss_fn(a, b, extra)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if world > 1:
                loss = _average_gradients(loss, params, world)
            # One host sync per step: the loss and whether every gradient is finite.
            grads_finite = torch.stack([torch.isfinite(p.grad).all() for p in params if p.grad is not None]).all()
            value = float(torch.where(grads_finite, loss.detach(), torch.nan))
            if not math.isfinite(value):
                # Undo the step (it is never taken) and cool down: a NaN must never reach the parameters.
                bad_steps += 1
                if bad_steps >= _MAX_BAD_STEPS:
                    raise FloatingPointError(
                        f"the loss or its gradient was not finite at {bad_steps} steps even after lowering the "
                        "learning rate; check the input scale or raise the temperature."
                    )
                for group in opt.param_groups:
                    group["lr"] *= 0.5
                continue
            opt.step()
            if average:
                with torch.no_grad():
                    for acc, U in zip(sums, Us):
                        acc.add_(U)
            total += value
            steps += 1
        epochs += 1
        bar.update(1)
        if epochs % epochs_per_check and epochs < max_epochs:
            continue
        period_loss = total / max(steps, 1)
        total = 0.0
        history["loss"].append(period_loss)
        bar.set_postfix(loss=f"{period_loss:.4f}", lr=f"{opt.param_groups[0]['lr']:.2g}", refresh=False)  # a refresh would draw the bar before its delay
        # The first period always counts as progress (best - tol * |best| is nan while best is inf).
        if best == math.inf or period_loss < best - tol * abs(best):
            best, stale = period_loss, 0
            if average:  # still descending: the plateau, if any, starts after this period
                for acc in plateau:
                    acc.zero_()
                plateau_steps = 0
        else:
            stale += 1
            if average:
                for acc, cur in zip(plateau, sums):
                    acc.add_(cur)
                plateau_steps += steps
        period_steps, steps = steps, 0
        if stale >= patience:
            halvings, stale = halvings + 1, 0
            for group in opt.param_groups:
                group["lr"] *= 0.5
        if halvings >= max_halvings:
            history["stop"] = "plateau"
            break
    bar.close()
    history["epochs"] = epochs
    with torch.no_grad():
        if average and plateau_steps:
            maps = [param(acc / plateau_steps).detach() for acc in plateau]
        elif average and period_steps:  # stopped while still improving: average the last period
            maps = [param(acc / period_steps).detach() for acc in sums]
            plateau_steps = period_steps
        else:
            maps = [param(U).detach() for U in Us]
        if world > 1:  # the same bits everywhere, whatever the last collective's rounding
            for t in (*maps, *extra_params):
                _dist.broadcast_tensor(t.data)
    history["averaged_steps"] = plateau_steps if average else 0
    if not all(torch.all(torch.isfinite(V)) for V in maps):
        raise FloatingPointError("training diverged (non-finite parameters); lower lr or raise temperature.")
    return maps, history


class _Shards:
    """Where this process's rows sit in the union of every process's shard (in rank order).

    Built collectively (every process at once): the shard sizes, and every row's weight when
    any process has weights (one gather of n floats), so that each process can draw the batches
    of all the rows exactly as one process on the union would, and keep its own.
    """

    def __init__(self, n: int, sample_weight: torch.Tensor | None, device: torch.device) -> None:
        shapes = _dist.all_gather_values((n, sample_weight is not None))
        sizes = [rows for rows, _ in shapes]
        self.total = sum(sizes)
        self.start = sum(sizes[: _dist.rank()])
        self.stop = self.start + n
        # Boundaries between the shards, for bucketize: row g belongs to the process whose range holds it.
        self.bounds = torch.tensor(np.cumsum(sizes)[:-1], dtype=torch.long, device=device)
        self.weights = None
        if any(weighted for _, weighted in shapes):
            own = torch.ones(n, dtype=torch.float64) if sample_weight is None else sample_weight.to(torch.float64).cpu()
            self.weights = torch.cat([torch.as_tensor(w) for w in _dist.all_gather_values(own.numpy())])

    def local(self, idx: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
        """The rows of the batch ``idx`` (indices into the union) this process holds, as local indices; every process's count."""
        owner = torch.bucketize(idx, self.bounds, right=True)
        counts = torch.bincount(owner, minlength=_dist.world_size()).tolist()
        mine = idx[(idx >= self.start) & (idx < self.stop)] - self.start
        return mine, counts


def _gather_batch(a: torch.Tensor, b: torch.Tensor, extra: torch.Tensor | None, counts: list[int]) -> tuple:
    """Every process's rows of the batch (embeddings and per-row data), in rank order, differentiable in the local rows.

    Each process then computes the loss of the whole batch: the same value everywhere, for any
    loss (InfoNCE, NT-Xent, VICReg's batch statistics), what one process on all the rows computes
    (the rows in another order, which these losses do not depend on).
    """
    ga = _dist.all_gather_rows_with_grad(a, counts)
    gb = ga if b is a else _dist.all_gather_rows_with_grad(b, counts)
    if extra is not None:
        extra = _dist.all_gather_rows_with_grad(extra, counts)
    return ga, gb, extra


def _average_gradients(loss: torch.Tensor, params: list[torch.Tensor], world: int) -> torch.Tensor:
    """Average the gradients (and the loss) over processes in one all-reduce; returns the averaged loss.

    Why divide by W: every process back-propagates the same full-batch loss, and the gather's backward
    sums the W copies of each row's gradient, so the summed parameter gradients are W times the full-batch one.
    """
    grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
    flat = torch.cat([loss.detach().reshape(1).to(grads[0].dtype), *(g.reshape(-1) for g in grads)])
    torch.distributed.all_reduce(flat, op=torch.distributed.ReduceOp.SUM)
    flat /= world
    start = 1
    for p, g in zip(params, grads):
        p.grad = flat[start : start + g.numel()].view_as(g).to(p.dtype)
        start += g.numel()
    return flat[0]


def shared_moments(X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None, *, reg: float | str, distributed: bool) -> PairedMoments:
    """The pairs' moments: this process's rows, or with ``distributed`` every process's (all-reduced sums).

    Across processes every shard's sums are taken about process 0's first rows' means (one common
    reference, so the sums add), with the fourth-order sums under ``reg="auto"`` (the Ledoit-Wolf
    scalar then needs no second pass over every shard), and summed in one all-reduce: every process
    gets the moments of all the rows. The shards must agree on their widths (ValueError otherwise).
    """
    if not distributed or _dist.world_size() == 1:
        return accumulate(X, Y, weights)
    shapes = _dist.all_gather_values((X.shape[0], X.shape[1], Y.shape[1]))
    if len({shape[1:] for shape in shapes}) != 1:
        raise ValueError(
            "every process's shard must have the same number of features; got (rows, width, width of the second view) "
            f"{shapes} by rank."
        )
    head = min(X.shape[0], chunk_rows(X.shape[1], Y.shape[1]))
    ref = tuple(
        _dist.broadcast_array(np.asarray(V[:head]).mean(axis=0, dtype=np.float64)) for V in (X, Y)
    )
    m = accumulate(X, Y, weights, fourth=isinstance(reg, str), ref=ref)
    return m.with_sums(_dist.all_reduce_sum(m.sums()))


class _TrainsMaps:
    """Mixin: :func:`train_linear_maps` with the estimator's own training parameters.

    The estimator holds ``whiten_output``, ``batch_size``, ``max_epochs``, ``lr``, ``tol``,
    ``patience``, ``reg`` and ``verbose`` (InfoNCE's parameters; CLIP's too).
    """

    def _distributed(self) -> bool:
        """Whether to train across the ``torch.distributed`` group (the estimator's ``distributed``, if it has one)."""
        return bool(getattr(self, "distributed", False)) and _dist.world_size() > 1

    def _check_distributed(self) -> None:
        """Validate ``distributed`` (when the estimator has it): a bool, and an integer ``n_components`` with it."""
        flag = getattr(self, "distributed", False)
        if not isinstance(flag, (bool, np.bool_)):
            raise InputTypeError(f"distributed must be True or False; got {flag!r} ({type(flag).__name__}).")
        if flag and self.n_components == "auto":
            raise ValueError(
                f"{type(self).__name__}(distributed=True) needs an integer n_components: 'auto' estimates it from "
                "shuffled pairs, which every process would do on its own shard (estimate_n_components on a sample suggests one)."
            )

    def _check_training_params(self) -> None:
        for name in ("batch_size", "patience"):
            check_positive_int(getattr(self, name), name)
        if self.max_epochs is not None:
            check_positive_int(self.max_epochs, "max_epochs")
        for name in ("lr", "tol"):
            check_positive(getattr(self, name), name)
        check_reg(self.reg)

    def _train(
        self,
        views: tuple[torch.Tensor, torch.Tensor],
        inits: list[torch.Tensor],
        loss_fn: Callable[..., torch.Tensor],
        gen: torch.Generator,
        device: torch.device,
        **options: object,
    ) -> tuple[list[torch.Tensor], dict]:
        return train_linear_maps(
            views,
            inits,
            loss_fn,
            parametrize=orthonormal_rows if self.whiten_output else None,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            lr=self.lr,
            tol=self.tol,
            patience=self.patience,
            generator=gen,
            verbose=self.verbose,
            # One thread for small batches: faster, and bit-identical whatever the machine's thread count.
            num_threads=1 if device.type == "cpu" and self.batch_size <= _SINGLE_THREAD_MAX_BATCH else None,
            distributed=self._distributed(),
            **options,
        )


class _TrainedLinear(_TrainsMaps, LinearProjection):
    """Shared fit of trained maps: pairs, whitening, training from a random start, collapse diagnostics.

    Subclasses hold ``whiten_output``, ``pair_whiten``, ``batch_size``, ``max_epochs``, ``lr``,
    ``tol``, ``patience``, ``reg``, ``random_state``, ``device`` and ``verbose`` (InfoNCE's parameters).
    """

    collapse_tol: float = 1e-2
    #: What to try when the map collapses (each loss has its own remedy).
    _collapse_hint: str = "try whiten_output=True (the embedding then keeps identity covariance) or a lower temperature"

    def _views(
        self, X: ArrayLike, second: ArrayLike | None, gen: torch.Generator, weights: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """fit's arguments as row-paired views and pair weights (see :func:`~contrastive_gmm.learners.base.paired_views`)."""
        rng = None
        if second is not None and np.asarray(second).ndim == 1:
            # Same-class partners from the fit's own generator: one random_state drives the whole fit.
            rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=gen)))
        return paired_views(X, second, rng, type(self).__name__, weights)

    def _train_whitened(
        self,
        X: np.ndarray,
        X_pos: np.ndarray,
        k: int,
        loss_fn: Callable[..., torch.Tensor],
        gen: torch.Generator,
        *,
        extra_params: tuple[torch.Tensor, ...] = (),
        labels: np.ndarray | None = None,
        init: Callable[[np.ndarray], np.ndarray] | None = None,
        dtype: torch.dtype = torch.float32,
        storage: torch.dtype | None = None,
        desc: str = "fit",
        max_halvings: int = _MAX_HALVINGS,
        average: bool = False,
        weights: np.ndarray | None = None,
    ) -> dict:
        """Train one map shared by both views in whitened coordinates; set the fitted attributes.

        ``init(cross_white)`` replaces the random start (drawn first either way, so the
        generator's stream does not depend on it). ``weights`` (one per pair) weigh the moments
        and the batches' draws. Returns :func:`train_linear_maps`' history.
        """
        d = X.shape[1]
        device = check_device(self.device)
        # Chunk by chunk (no float64 copy of the data); with distributed=True over every process's shard.
        moments = shared_moments(X, X_pos, weights, reg=self.reg, distributed=self._distributed())
        mean, cov, cross = moments.pooled()
        reg, self.shrinkage_ = moment_regularisation(self.reg, moments, "x", mean, X, weights)
        inv_sqrt = whitener(cov, reg, self.shrinkage_)
        cross_white = inv_sqrt @ cross @ inv_sqrt
        start = start_in_range(torch.randn(k, d, generator=gen) / math.sqrt(d), inv_sqrt)
        if init is not None:
            start = torch.as_tensor(init(cross_white))
        if X_pos is X:  # SupCon: one view
            (A,) = training_views((X,), (mean,), (inv_sqrt,), dtype, device, storage)
            B = A
        else:
            A, B = training_views((X, X_pos), (mean, mean), (inv_sqrt, inv_sqrt), dtype, device, storage)
        (V,), history = self._train(
            (A, B),
            [start.to(device=device, dtype=dtype)],
            loss_fn,
            gen,
            device,
            extra_params=extra_params,
            batch_data=None if labels is None else torch.as_tensor(labels, device=device),
            desc=desc,
            max_halvings=max_halvings,
            average=average,
            sample_weight=None if weights is None else torch.as_tensor(weights),
        )
        V = V.cpu().double().numpy()
        components = V @ inv_sqrt
        if self.pair_whiten:
            # Cov(x - x+) / 2 = cov - cross for pairs; with one view and labels (SupCon) the within-class covariance.
            diff_cov = cov - cross if labels is None else within_covariance(X, labels, mean, cov, weights)
            components = pair_scaling(components @ diff_cov @ components.T) @ components
        self.mean_, self.components_, self.n_features_in_ = mean, components, d
        self.n_iter_, self.loss_curve_ = history["epochs"], history["loss"]
        self._set_diagnostics(V, cross_white)
        return history

    def _set_diagnostics(self, V: np.ndarray, cross_white: np.ndarray) -> None:
        # Singular values of the map on whitened data: their squares are the embedding's variances.
        s = np.linalg.svd(V, compute_uv=False)
        # Correlation of anchor and positive along each principal direction of the embedding.
        u = np.linalg.svd(V.T, full_matrices=False)[0]
        self.pair_correlations_ = np.sort(np.linalg.eigvalsh(u.T @ cross_white @ u))[::-1]
        # The self-check: pair CCA in the same whitening is the top eigenvectors of cross_white.
        self.closed_form_correlations_ = np.linalg.eigvalsh(cross_white)[::-1][: len(s)]
        self.closed_form_share_ = closed_form_share(
            self.pair_correlations_, self.closed_form_correlations_, type(self).__name__, stacklevel=4)
        self.singular_values_ = s
        self.effective_rank_ = int(np.sum(s > self.collapse_tol * s.max())) if s.size else 0
        if self.effective_rank_ < len(s):
            warnings.warn(
                f"{type(self).__name__} collapsed: {len(s) - self.effective_rank_} of {len(s)} directions have a "
                f"singular value below {self.collapse_tol:g} x the largest (singular values {np.round(s / s.max(), 4)}). "
                f"The embedding has lost a direction; {self._collapse_hint}.",
                CollapseWarning,
                stacklevel=4,
            )


__all__ = [
    "CollapseWarning",
    "ClosedFormWarning",
    "closed_form_share",
    "whiten_to_tensor",
    "WHITENED_COPY_BYTES",
    "StreamedView",
    "training_views",
    "shared_moments",
    "intra_op_threads",
    "single_threaded",
    "orthonormal_rows",
    "train_linear_maps",
]
