"""The contrastive losses (InfoNCE, CLIP) against a numpy float64 logsumexp reference."""

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

import contrastive_gmm as cg


def reference_info_nce(a, b, temperature, similarity, symmetric):
    """Naive float64 InfoNCE: -mean_i [s_ii - logsumexp_j s_ij], optionally averaged with the transpose."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if similarity == "cosine":
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
    S = a @ b.T / temperature
    row = np.mean(logsumexp(S, axis=1) - np.diag(S))
    if not symmetric:
        return row
    col = np.mean(logsumexp(S, axis=0) - np.diag(S))
    return (row + col) / 2


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("temperature", [1e-3, 0.1, 2.0, 1e3])
def test_info_nce_matches_float64_reference(similarity, symmetric, temperature):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 5)), rng.standard_normal((64, 5))
    ref = reference_info_nce(a, b, temperature, similarity, symmetric)
    got = cg.info_nce(torch.tensor(a), torch.tensor(b), temperature, similarity, symmetric)
    assert got.dtype == torch.float64
    assert abs(float(got) - ref) <= 1e-6 * max(1.0, abs(ref))
    got32 = cg.info_nce(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32), temperature, similarity, symmetric)
    assert np.isfinite(float(got32))
    assert abs(float(got32) - ref) <= 1e-5 * max(1.0, abs(ref))


def test_known_values():
    # Identical orthogonal embeddings: each row sees e^{1/t} against n-1 terms e^0.
    n, t = 8, 0.5
    z = torch.eye(n, dtype=torch.float64)
    expected = np.log(n - 1 + np.exp(1 / t)) - 1 / t
    assert abs(float(cg.info_nce(z, z, t)) - expected) < 1e-12
    # All embeddings equal: the softmax is uniform, so the loss is log(n).
    ones = torch.ones(n, 3, dtype=torch.float64)
    assert abs(float(cg.info_nce(ones, ones, 0.1)) - np.log(n)) < 1e-12


def test_half_precision_inputs_are_computed_in_float32():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((32, 4)), rng.standard_normal((32, 4))
    ref = reference_info_nce(a, b, 0.01, "cosine", True)
    got = cg.InfoNCELoss(0.01)(torch.tensor(a, dtype=torch.bfloat16), torch.tensor(b, dtype=torch.bfloat16))
    assert got.dtype == torch.float32
    # bfloat16 inputs carry ~3 significant digits; the loss inherits that relative error.
    assert abs(float(got) - ref) < 0.02 * abs(ref)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    a = torch.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    b = torch.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: cg.info_nce(x, y, 0.5, "cosine"), (a, b))


def test_bad_arguments():
    with pytest.raises(ValueError, match="temperature"):
        cg.InfoNCELoss(0.0)
    with pytest.raises(ValueError, match="similarity"):
        cg.InfoNCELoss(similarity="euclid")
    with pytest.raises(ValueError, match="equal shapes"):
        cg.info_nce(torch.zeros(4, 2), torch.zeros(3, 2))


# ---------------------------------------------------------------- loss modules, chunking, precision

def torch_reference(a, b, temperature, similarity, symmetric):
    """Naive float64 torch InfoNCE through cross_entropy: the autograd gradient to compare with."""
    a, b = a.double(), b.double()
    if similarity == "cosine":
        a, b = torch.nn.functional.normalize(a, dim=1), torch.nn.functional.normalize(b, dim=1)
    S = a @ b.T / temperature
    labels = torch.arange(a.shape[0])
    row = torch.nn.functional.cross_entropy(S, labels)
    return 0.5 * (row + torch.nn.functional.cross_entropy(S.T, labels)) if symmetric else row


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 64, 1000])
@pytest.mark.parametrize("temperature", [1e-3, 0.07, 1.0])
@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_modules_match_float64_reference(chunk_size, temperature, similarity):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((50, 6)), rng.standard_normal((50, 6))
    for symmetric in (True, False):
        ref = reference_info_nce(a, b, temperature, similarity, symmetric)
        loss = cg.InfoNCELoss(temperature, similarity, symmetric, chunk_size=chunk_size)
        got = loss(torch.tensor(a), torch.tensor(b))
        # float64 throughout: the only differences are summation order, ~1e-13 relative.
        assert abs(float(got) - ref) <= 1e-6 * max(1.0, abs(ref))
    clip = cg.CLIPLoss(temperature, similarity=similarity, chunk_size=chunk_size)
    ref = reference_info_nce(a, b, temperature, similarity, True)
    assert abs(float(clip(torch.tensor(a), torch.tensor(b))) - ref) <= 1e-6 * max(1.0, abs(ref))


@pytest.mark.parametrize("chunk_size", [None, 3, 16])
@pytest.mark.parametrize("symmetric", [True, False])
def test_gradients_match_autograd_through_cross_entropy(chunk_size, symmetric):
    rng = np.random.default_rng(4)
    a = torch.tensor(rng.standard_normal((40, 5)), requires_grad=True)
    b = torch.tensor(rng.standard_normal((40, 5)), requires_grad=True)
    for temperature in (1e-3, 0.5):
        got = torch.autograd.grad(cg.info_nce(a, b, temperature, "cosine", symmetric, chunk_size=chunk_size), (a, b))
        ref = torch.autograd.grad(torch_reference(a, b, temperature, "cosine", symmetric), (a, b))
        for g, r in zip(got, ref):
            # float64: both are exact up to rounding; 1e-9 relative to the gradient's scale.
            assert torch.allclose(g, r, rtol=1e-9, atol=1e-9 * float(r.abs().max()))


def test_gradcheck_chunked_with_tensor_temperature():
    rng = np.random.default_rng(5)
    a = torch.tensor(rng.standard_normal((9, 3)), requires_grad=True)
    b = torch.tensor(rng.standard_normal((9, 3)), requires_grad=True)
    t = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)  # a learnable temperature keeps its gradient
    assert torch.autograd.gradcheck(lambda x, y, tau: cg.info_nce(x, y, tau, "dot", chunk_size=4), (a, b, t))


def test_float32_is_stable_at_temperature_1e3():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((256, 8)), rng.standard_normal((256, 8))
    ref = reference_info_nce(a, b, 1e-3, "cosine", True)  # logits up to 1000: a naive exp overflows
    for chunk_size in (None, 50):
        got = cg.InfoNCELoss(1e-3, chunk_size=chunk_size)(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32))
        # float32 rounds each logit (~1e3) to ~6e-5 absolute; the loss (~1e3) inherits ~1e-7 relative.
        assert abs(float(got) - ref) <= 1e-5 * abs(ref)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("chunk_size", [None, 8])
def test_half_precision_inputs_get_a_float32_softmax_and_gradient(dtype, chunk_size):
    rng = np.random.default_rng(7)
    a = torch.tensor(rng.standard_normal((32, 4)), dtype=dtype, requires_grad=True)
    b = torch.tensor(rng.standard_normal((32, 4)), dtype=dtype, requires_grad=True)
    for loss_fn in (cg.InfoNCELoss(1e-3, chunk_size=chunk_size), cg.CLIPLoss(1e-3, chunk_size=chunk_size)):
        loss = loss_fn(a, b)
        assert loss.dtype == torch.float32
        ref = reference_info_nce(a.detach().double().numpy(), b.detach().double().numpy(), 1e-3, "cosine", True)
        # The inputs are what they are (rounded to half); from there the computation is float32.
        assert abs(float(loss.detach()) - ref) <= 1e-5 * abs(ref)
        grad_a, grad_b = torch.autograd.grad(loss, (a, b))
        assert grad_a.dtype == dtype and torch.isfinite(grad_a.float()).all() and torch.isfinite(grad_b.float()).all()


def test_chunking_never_builds_the_n_by_n_matrix():
    from torch.utils._python_dispatch import TorchDispatchMode

    class LargestTensor(TorchDispatchMode):
        """Records the largest tensor any aten op returns."""

        largest = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else (out,):
                if isinstance(t, torch.Tensor):
                    LargestTensor.largest = max(LargestTensor.largest, t.numel())
            return out

    n, chunk = 128, 16
    a = torch.randn(n, 4, requires_grad=True)
    b = torch.randn(n, 4, requires_grad=True)
    with LargestTensor():
        cg.info_nce(a, b, 0.5, chunk_size=chunk).backward()
    assert LargestTensor.largest <= n * chunk  # the logit blocks are n x chunk, never n x n
    LargestTensor.largest = 0
    with LargestTensor():
        cg.info_nce(a, b, 0.5).backward()
    assert LargestTensor.largest == n * n  # the check itself would see an n x n matrix


def test_identical_embeddings_known_value():
    # lightly's check: identical, mutually orthogonal unit embeddings with one-hot logits 1/t.
    n, t = 16, 0.1
    z = torch.eye(n, dtype=torch.float64)
    expected = np.log(n - 1 + np.exp(1 / t)) - 1 / t
    for loss in (cg.InfoNCELoss(t), cg.CLIPLoss(t), cg.InfoNCELoss(t, chunk_size=5)):
        assert abs(float(loss(z, z)) - expected) < 1e-12


def test_clip_learnable_temperature_is_clamped_like_open_clip():
    rng = np.random.default_rng(8)
    a, b = torch.tensor(rng.standard_normal((20, 4))), torch.tensor(rng.standard_normal((20, 4)))
    loss = cg.CLIPLoss(0.07, learnable_temperature=True).double()
    assert isinstance(loss.logit_scale, torch.nn.Parameter)
    assert abs(float(loss.logit_scale.detach()) - np.log(1 / 0.07)) < 1e-7  # stored in float32
    # Gradient of the loss with respect to log(1/tau): compare with the naive float64 reference.
    value = loss(a, b)
    value.backward()
    scale = loss.logit_scale.detach().clone().requires_grad_(True)  # log(1/0.07) as stored (float32-rounded)
    torch_reference(a, b, 1 / scale.exp(), "cosine", True).backward()
    tau = float(1 / scale.detach().exp())
    assert abs(float(value.detach()) - reference_info_nce(a.numpy(), b.numpy(), tau, "cosine", True)) < 1e-6
    assert abs(float(loss.logit_scale.grad) - float(scale.grad)) < 1e-9  # float64: rounding only
    # A scale pushed past log(100) is clamped back before use (temperature 0.01), and stays learnable.
    with torch.no_grad():
        loss.logit_scale.fill_(np.log(1e4))
    value = loss(a, b)
    assert abs(loss.temperature - 0.01) < 1e-12 and abs(float(loss.logit_scale.detach()) - np.log(100)) < 1e-12
    assert abs(float(value.detach()) - reference_info_nce(a.numpy(), b.numpy(), 0.01, "cosine", True)) < 1e-6
    loss.logit_scale.grad = None
    value.backward()
    # Learnable at the bound: the gradient is the loss's derivative at log(100) itself (a clamp inside
    # the graph would give exactly 0 here and leave the scale stuck).
    at_bound = loss.logit_scale.detach().clone().requires_grad_(True)
    torch_reference(a, b, 1 / at_bound.exp(), "cosine", True).backward()
    assert float(at_bound.grad) != 0.0
    assert abs(float(loss.logit_scale.grad) - float(at_bound.grad)) < 1e-9


def test_fixed_temperature_clip_equals_symmetric_infonce():
    gen = torch.Generator().manual_seed(9)
    a, b = torch.randn(12, 5, generator=gen), torch.randn(12, 5, generator=gen)
    assert cg.CLIPLoss(0.2).logit_scale is None and list(cg.CLIPLoss(0.2).parameters()) == []
    assert torch.equal(cg.CLIPLoss(0.2, similarity="dot")(a, b), cg.InfoNCELoss(0.2, "dot")(a, b))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: cg.InfoNCELoss(-1.0), "temperature"),
        (lambda: cg.InfoNCELoss(0.5, chunk_size=0), "chunk_size"),
        (lambda: cg.InfoNCELoss(0.5, chunk_size=-3), "chunk_size"),
        (lambda: cg.InfoNCELoss(0.5, chunk_size=2.5), "chunk_size"),
        (lambda: cg.CLIPLoss(0.0), "temperature"),
        (lambda: cg.CLIPLoss(0.001, learnable_temperature=True), "1 / max_logit_scale"),
        (lambda: cg.CLIPLoss(0.1, similarity="l2"), "similarity"),
        (lambda: cg.CLIPLoss(0.1, chunk_size=0), "chunk_size"),
        (lambda: cg.info_nce(torch.zeros(3, 2), torch.ones(3, 2), temperature=0.0), "temperature"),
        (lambda: cg.info_nce(torch.zeros(3, 2), torch.ones(3, 2), chunk_size=0), "chunk_size"),
        (lambda: cg.CLIPLoss(0.1)(torch.zeros(3, 2), torch.ones(4, 2)), "equal shapes"),
    ],
)
def test_module_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_clip_loss_defaults_dtype_and_the_learnable_temperature_bound():
    # Written against surviving mutants (tools/mutation.py): the defaults, the float64 promotion
    # from either side and the bound's edge (1 / temperature == max_logit_scale is allowed).
    torch.manual_seed(0)
    a, b = torch.randn(12, 5, dtype=torch.float64), torch.randn(12, 5, dtype=torch.float64)
    default = cg.CLIPLoss()
    assert default.temperature == 0.07 and default.gather_distributed is False
    assert torch.allclose(default(a, b), cg.CLIPLoss(temperature=0.07)(a, b), rtol=0, atol=0)
    assert not torch.allclose(default(a, b), cg.CLIPLoss(temperature=1.07)(a, b))
    assert default(a, b.float()).dtype == torch.float64 and default(a.float(), b).dtype == torch.float64
    assert default(a.float(), b.float()).dtype == torch.float32
    edge = cg.CLIPLoss(temperature=0.01, learnable_temperature=True)
    assert edge.temperature == pytest.approx(0.01, rel=1e-6)
    with pytest.raises(ValueError, match=r"max_logit_scale = 0\.01; got 0\.005"):
        cg.CLIPLoss(temperature=0.005, learnable_temperature=True)


def test_info_nce_defaults_are_symmetric_cosine_at_half_temperature():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(16, 3, generator=g, dtype=torch.float64), torch.randn(16, 3, generator=g, dtype=torch.float64)
    explicit = cg.info_nce(a, b, temperature=0.5, similarity="cosine", symmetric=True, gather_distributed=False)
    torch.testing.assert_close(cg.info_nce(a, b), explicit, rtol=1e-12, atol=0)
    assert not torch.isclose(cg.info_nce(a, b, symmetric=False), explicit)
    assert not torch.isclose(cg.info_nce(a, b, temperature=1.5), explicit)


def test_info_nce_loss_module_defaults_match_the_function():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(16, 3, generator=g, dtype=torch.float64), torch.randn(16, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(cg.InfoNCELoss()(a, b), cg.info_nce(a, b, temperature=0.5), rtol=1e-12, atol=0)
    # Outside a process group gathering is a no-op, so its default (off) is checked where it is stored.
    assert cg.InfoNCELoss().gather_distributed is False
    assert cg.InfoNCELoss(gather_distributed=1).gather_distributed is True


def test_small_loss_pieces_against_their_definitions():
    from contrastive_gmm.losses.barlow_twins import BarlowTwinsLoss, barlow_twins_loss

    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(16, 3, generator=g, dtype=torch.float64), torch.randn(16, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(BarlowTwinsLoss(0.1)(a, b), barlow_twins_loss(a, b, 0.1), rtol=1e-12, atol=0)
    assert not torch.isclose(BarlowTwinsLoss(0.1)(a, b), barlow_twins_loss(a, b))
    with pytest.raises(ValueError, match=r"^lambda_offdiag must be"):
        barlow_twins_loss(a, b, -1.0)
    # A temperature given as a tensor is the same temperature as the float.
    torch.testing.assert_close(cg.info_nce(a, b, torch.tensor(0.3, dtype=torch.float64)), cg.info_nce(a, b, 0.3))
    with pytest.raises(TypeError, match=r"chunk_size must be None or an integer >= 1; got '8' \(str\)"):
        cg.info_nce(a, b, chunk_size="8")


# ---------------------------------------------------------------- near a perfect batch (issue 15)

def _near_perfect_batches(dtype):
    """(name, a) with b = a: orthonormal-ish rows, and rows in near-duplicate pairs (one hard negative each)."""
    rng = np.random.default_rng(10)
    n, d = 32, 32
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    yield "orthonormal-ish", torch.tensor(q + 0.05 * rng.standard_normal((n, d)) / np.sqrt(d), dtype=dtype)
    u = rng.standard_normal((n, 8))
    yield "random unit", torch.tensor(u / np.linalg.norm(u, axis=1, keepdims=True), dtype=dtype)
    base = rng.standard_normal((n // 2, d))
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    noise = 0.07 / np.sqrt(d)  # cosine ~ 1 - 5e-3 between the two rows of a pair: logit gap ~5 at tau 1e-3
    pairs = np.concatenate([base + noise * rng.standard_normal(base.shape), base + noise * rng.standard_normal(base.shape)])
    yield "near-duplicate negatives", torch.tensor(pairs, dtype=dtype)


TAUS = [1.0, 0.1, 0.01, 1e-3]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("chunk_size", [None, 7])
def test_loss_is_never_negative_and_accurate_near_a_perfect_batch(dtype, chunk_size):
    eps = torch.finfo(dtype).eps
    for name, a in _near_perfect_batches(dtype):
        for tau in TAUS:
            for symmetric in (True, False):
                ref = float(torch_reference(a, a, tau, "cosine", symmetric))  # float64 from the same inputs
                got = float(cg.info_nce(a, a, tau, "cosine", symmetric, chunk_size=chunk_size))
                assert got >= 0.0, (name, tau, symmetric, got)
                # The embeddings' normalisation and the logit products round each logit by ~d eps / tau
                # (d = 32 terms); a logit error enters the loss weighted by 1 - p_pos <= min(1, loss).
                # A loss subtracting a separately computed positive misses this by ~1e-5 at tau 1e-3.
                bound = 4 * eps * (1.0 + ref + 32 / tau * min(1.0, ref))
                assert abs(got - ref) <= bound, (name, tau, symmetric, got, ref, bound)
            clip = float(cg.CLIPLoss(tau, chunk_size=chunk_size)(a, a))
            assert clip >= 0.0 and abs(clip - float(torch_reference(a, a, tau, "cosine", True))) <= 4 * eps * (1 + 32 / tau * min(1.0, clip))
    from contrastive_gmm.losses.nt_xent import nt_xent_loss

    assert float(nt_xent_loss(a, a, 1e-3)) >= 0.0  # cross_entropy itself: minus a log-softmax, never negative


def _same_logit_cases(dtype):
    """Logit matrices (cosines / tau) of the near-perfect batches, in ``dtype``."""
    for name, a in _near_perfect_batches(dtype):
        z = torch.nn.functional.normalize(a, dim=1)
        for tau in TAUS:
            yield f"{name}, tau {tau}", (z @ z.T) / tau


def _longdouble_cross_entropy(L, symmetric):
    """Mean over rows of log sum_j exp(L_ij - L_ii) in numpy long double (extended precision on x86)."""
    L = np.asarray(L.detach().double().numpy(), dtype=np.longdouble)
    def rows(M):
        D = M - np.diag(M)[:, None]
        top = D.argmax(axis=1)[:, None]
        mx = np.take_along_axis(D, top, axis=1)
        E = np.exp(D - mx)
        np.put_along_axis(E, top, 0.0, axis=1)  # the max term is exactly 1: log1p of the rest keeps tiny losses
        return np.mean(mx[:, 0] + np.log1p(E.sum(axis=1)))
    return (rows(L) + rows(L.T)) / 2 if symmetric else rows(L)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("chunk_size", [None, 7])
def test_error_no_worse_than_cross_entropy_on_the_same_logits(dtype, chunk_size):
    # info_nce(L, I, 1, "dot") sees exactly the logits L (q = L * 1 and L @ I.T are exact), so it and
    # F.cross_entropy(L) differ only in how they evaluate the loss from the same rounded logits.
    eps = torch.finfo(dtype).eps
    for name, L in _same_logit_cases(dtype):
        n = L.shape[0]
        labels = torch.arange(n)
        eye = torch.eye(n, dtype=dtype)
        for symmetric in (True, False):
            ref = float(_longdouble_cross_entropy(L, symmetric))
            ce = torch.nn.functional.cross_entropy(L, labels)
            ce = 0.5 * (ce + torch.nn.functional.cross_entropy(L.T, labels)) if symmetric else ce
            got = float(cg.info_nce(L, eye, 1.0, "dot", symmetric, chunk_size=chunk_size))
            assert got >= 0.0
            # Margin: 4 ulps of the loss; even a correctly rounded result is 0.5 ulp off, and the mean
            # of n nonnegative terms adds a few more, in both computations.
            assert abs(got - ref) <= abs(float(ce) - ref) + 4 * eps * ref, (name, symmetric, got, float(ce), ref)


def _longdouble_gradient(L, symmetric):
    """d/dL of :func:`_longdouble_cross_entropy`: (softmax - identity) / n, the positive's entry as -(sum of the rest)."""
    L = np.asarray(L.detach().double().numpy(), dtype=np.longdouble)
    def rows(M):
        D = M - np.diag(M)[:, None]
        E = np.exp(D - D.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        np.fill_diagonal(P, 0.0)
        np.fill_diagonal(P, -P.sum(axis=1))
        return P / M.shape[0]
    return (rows(L) + rows(L.T).T) / 2 if symmetric else rows(L)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("chunk_size", [None, 7])
def test_gradient_no_worse_than_cross_entropy_on_the_same_logits(dtype, chunk_size):
    # With b = I the gradient with respect to a is the gradient with respect to the logits L; the
    # reference is in long double, so float64 autograd of cross_entropy is measured, not the reference.
    eps = torch.finfo(dtype).eps
    for name, L in _same_logit_cases(dtype):
        n = L.shape[0]
        labels = torch.arange(n)
        eye = torch.eye(n, dtype=dtype)
        for symmetric in (True, False):
            def plain(M):  # the plain cross-entropy formula, as autograd differentiates it
                row = torch.nn.functional.cross_entropy(M, labels)
                return 0.5 * (row + torch.nn.functional.cross_entropy(M.T, labels)) if symmetric else row
            ref = torch.tensor(_longdouble_gradient(L, symmetric).astype(np.float64))
            Lc = L.clone().requires_grad_(True)
            (ce,) = torch.autograd.grad(plain(Lc), Lc)
            La = L.clone().requires_grad_(True)
            (got,) = torch.autograd.grad(cg.info_nce(La, eye, 1.0, "dot", symmetric, chunk_size=chunk_size), La)
            err, err_ce = float((got.double() - ref).abs().max()), float((ce.double() - ref).abs().max())
            # Margin: 4 ulps of the largest entry, as for the loss, plus the smallest normal number:
            # probabilities like e^-100 underflow differently in the two.
            margin = 4 * eps * float(ref.abs().max()) + torch.finfo(dtype).tiny
            assert err <= err_ce + margin, (name, symmetric, err, err_ce)
