"""surprisal.torch against torch.nn.functional (runs where PyTorch is installed; the CUDA tests where a
CUDA device is available and the wheel was built with the cuda feature)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from surprisal.torch import cross_entropy  # noqa: E402


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_matches_torch_forward_and_backward_f32(reduction, label_smoothing):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(16, 7, generator=g, requires_grad=True)
    y = torch.randint(0, 7, (16,), generator=g)
    y[3] = -100
    w = torch.rand(7, generator=g) + 0.5
    ours = cross_entropy(z, y, weight=w, label_smoothing=label_smoothing, reduction=reduction)
    ref = F.cross_entropy(z, y, weight=w, label_smoothing=label_smoothing, reduction=reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    up = torch.randn(ref.shape, generator=g) if reduction == "none" else torch.tensor(2.5)
    (ga,) = torch.autograd.grad(ours, z, up)
    (gb,) = torch.autograd.grad(ref, z, up)
    torch.testing.assert_close(ga, gb, rtol=1e-5, atol=1e-6)


def test_spatial_and_probability_targets():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(2, 5, 3, generator=g, requires_grad=True)
    y = torch.randint(0, 5, (2, 3), generator=g)
    torch.testing.assert_close(cross_entropy(z, y), F.cross_entropy(z, y))
    q = torch.softmax(torch.randn(4, 5, generator=g), dim=1)
    z2 = torch.randn(4, 5, generator=g, requires_grad=True)
    a, b = cross_entropy(z2, q), F.cross_entropy(z2, q)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(torch.autograd.grad(a, z2)[0], torch.autograd.grad(b, z2)[0])


def test_bfloat16_logits():
    g = torch.Generator().manual_seed(2)
    z = torch.randn(32, 10, generator=g).to(torch.bfloat16).requires_grad_()
    y = torch.randint(0, 10, (32,), generator=g)
    ours = cross_entropy(z, y)
    assert ours.dtype == torch.bfloat16
    ref = F.cross_entropy(z.detach().float(), y)
    assert abs(ours.float().item() - ref.item()) < 1e-2
    (gz,) = torch.autograd.grad(ours, z)
    assert gz.dtype == torch.bfloat16 and gz.shape == z.shape
    np.testing.assert_allclose(gz.float().numpy(), torch.autograd.grad(F.cross_entropy(z.float(), y), z)[0].float().numpy(), atol=1e-2)


def test_loss_dtype_returns_the_float32_loss_unrounded():
    g = torch.Generator().manual_seed(6)
    z = (torch.randn(64, 50, generator=g) * 3).to(torch.bfloat16).requires_grad_()
    y = torch.randint(0, 50, (64,), generator=g)
    full = cross_entropy(z, y, loss_dtype=torch.float32)
    assert full.dtype == torch.float32
    ref = F.cross_entropy(z.detach().double(), y).item()
    assert abs(full.item() - ref) <= 1e-6 * abs(ref)
    plain = cross_entropy(z, y)
    assert plain.dtype == torch.bfloat16 and plain.item() == full.detach().to(torch.bfloat16).item()
    (g32,) = torch.autograd.grad(full, z)
    (g16,) = torch.autograd.grad(cross_entropy(z, y), z)
    assert torch.equal(g32, g16)
    none = cross_entropy(z, y, reduction="none", loss_dtype=torch.float64)
    assert none.dtype == torch.float64 and none.shape == (64,)


def test_inplace_and_cuda_only_options_are_refused_on_cpu():
    z = torch.randn(2, 3)
    with pytest.raises(NotImplementedError, match="CUDA"):
        cross_entropy(z, torch.tensor([0, 1]), inplace=True)


def test_nvrtc_is_found_next_to_torch():
    # No device needed: the kernels compile for sm_90 once libnvrtc is found (the nvidia wheels
    # PyTorch's CUDA builds install, or the library path).
    import surprisal._surprisal as ext
    from surprisal.torch import _load_nvrtc

    if not ext.cuda_built():
        pytest.skip("skipped: wheel built without the cuda feature")
    _load_nvrtc()
    try:
        size = ext.cuda_nvrtc_compile("bfloat16", 9, 0)
    except RuntimeError as e:
        if "NVRTC" in str(e):
            pytest.skip(f"skipped: no NVRTC library ({e})")
        raise
    assert size > 0


# ---------------------------------------------------------------------------------------------
# CUDA: the GPU kernels against torch in float64 on the CPU. Output buffers come from torch's
# caching allocator right after a NaN-filled block of the same size was freed, so an element the
# kernel did not write shows up as NaN.
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def cuda():
    if not torch.cuda.is_available():
        pytest.skip("skipped: no CUDA device")
    import surprisal._surprisal as ext

    if not ext.cuda_built():
        pytest.skip("skipped: wheel built without the cuda feature")
    return torch.device("cuda")


def _logits(g, n, v, dtype, device):
    z = torch.randn(n, v, generator=g, dtype=torch.float64) * 3
    z[0, torch.randint(0, v, (max(1, v // 10),), generator=g)] = -float("inf")
    z[0, 0] = 0.0
    z[1 % n, torch.randint(0, v, (max(1, v // 7),), generator=g)] = 1e4
    z[2 % n, torch.randint(0, v, (max(1, v // 7),), generator=g)] = -1e4
    return z.to(dtype).to(device)


def _poison(numel, dtype, device):
    torch.full((numel,), float("nan"), dtype=dtype, device=device)


# (loss, gradient): the loss as computed (loss_dtype=float32), the gradient in the logits' dtype.
TOL = {torch.float32: (1e-5, 1e-5), torch.bfloat16: (1e-3, 1e-2), torch.float16: (1e-3, 2e-3)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("v", [1, 7, 1000, 4096, 32001])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("inplace", [False, True])
def test_cuda_matches_float64(cuda, dtype, v, reduction, inplace):
    g = torch.Generator().manual_seed(v * 7 + len(reduction))
    n = 9
    for label_smoothing, weighted in [(0.0, False), (0.1, True)]:
        z = _logits(g, n, v, dtype, cuda)
        y = torch.randint(0, v, (n,), generator=g)
        y[0] = 0
        y[4] = -100
        w = (torch.rand(v, generator=g, dtype=torch.float64) * 2).float() if weighted else None
        zr = z.detach().cpu().double().requires_grad_()
        ref = F.cross_entropy(zr, y, weight=None if w is None else w.double(), label_smoothing=label_smoothing, reduction=reduction)
        up = torch.rand(ref.shape, generator=g, dtype=torch.float64) + 0.5 if reduction == "none" else torch.tensor(1.0, dtype=torch.float64)
        (gr,) = torch.autograd.grad(ref, zr, up)
        zc = z.clone().requires_grad_()
        _poison(n * v, dtype, cuda)
        kw = dict(
            weight=None if w is None else w.to(cuda), label_smoothing=label_smoothing, reduction=reduction, inplace=inplace
        )
        ours = cross_entropy(zc if not inplace else zc * 1, y.to(cuda), loss_dtype=torch.float32, **kw)
        assert ours.dtype == torch.float32
        (ga,) = torch.autograd.grad(ours, zc, up.to(cuda).float())
        ltol, gtol = TOL[dtype]
        torch.testing.assert_close(ours.double().cpu(), ref.detach(), rtol=ltol, atol=ltol, equal_nan=True)
        assert torch.isfinite(ga).all()
        torch.testing.assert_close(ga.double().cpu(), gr, rtol=gtol, atol=gtol)
        # By default the loss comes back in the logits' dtype, as torch returns it: the float32 loss
        # rounded once.
        plain = cross_entropy(z.clone(), y.to(cuda), **kw)
        assert plain.dtype == dtype
        torch.testing.assert_close(plain, ours.detach().to(dtype), rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("v", [1001, 1024])
def test_cuda_inplace_leaves_the_gradient_in_the_logits(cuda, v):
    g = torch.Generator().manual_seed(4)
    z = torch.randn(32, v, generator=g).to(torch.bfloat16).to(cuda)
    y = torch.randint(0, v, (32,), generator=g).to(cuda)
    work = z.clone()
    loss = cross_entropy(work, y, inplace=True, loss_dtype=torch.float32)
    zr = z.double().cpu().requires_grad_()
    ref = F.cross_entropy(zr, y.cpu())
    (gr,) = torch.autograd.grad(ref, zr)
    assert abs(loss.double().item() - ref.item()) <= 1e-3 * abs(ref.item())
    torch.testing.assert_close(work.double().cpu(), gr, rtol=1e-2, atol=1e-2)


def test_cuda_probability_targets_are_not_implemented(cuda):
    z = torch.randn(4, 5, device=cuda)
    with pytest.raises(NotImplementedError, match="probability"):
        cross_entropy(z, torch.softmax(torch.randn(4, 5, device=cuda), 1))


def test_cuda_backward_scales_by_grad_output_and_returns_the_saved_gradient(cuda):
    g = torch.Generator().manual_seed(3)
    z = torch.randn(64, 300, generator=g).to(cuda).requires_grad_()
    y = torch.randint(0, 300, (64,), generator=g).to(cuda)
    a = cross_entropy(z, y)
    b = F.cross_entropy(z, y)
    (ga,) = torch.autograd.grad(a * 2.5, z)
    (gb,) = torch.autograd.grad(b * 2.5, z)
    torch.testing.assert_close(ga, gb, rtol=1e-5, atol=1e-6)
    a = cross_entropy(z, y, reduction="sum")
    a.backward()
    torch.testing.assert_close(z.grad, torch.autograd.grad(F.cross_entropy(z, y, reduction="sum"), z)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cuda_bce_with_logits_matches_float64(cuda, dtype, reduction):
    from surprisal.torch import binary_cross_entropy_with_logits

    g = torch.Generator().manual_seed(5)
    x = (torch.randn(37, 13, generator=g, dtype=torch.float64) * 4).to(dtype)
    x[0, 0], x[0, 1] = 60.0, -60.0
    t = (torch.rand(37, 13, generator=g, dtype=torch.float64) < 0.5).to(dtype)
    pw = (torch.rand(13, generator=g) * 3).float()
    w = (torch.rand(37, 13, generator=g) * 2).float()
    xr = x.double().requires_grad_()
    ref = F.binary_cross_entropy_with_logits(xr, t.double(), weight=w.double(), pos_weight=pw.double(), reduction=reduction)
    up = torch.ones_like(ref)
    (gr,) = torch.autograd.grad(ref, xr, up)
    xc = x.to(cuda).requires_grad_()
    _poison(x.numel(), dtype, cuda)
    kw = dict(weight=w.to(cuda), pos_weight=pw.to(cuda), reduction=reduction)
    ours = binary_cross_entropy_with_logits(xc, t.to(cuda), loss_dtype=torch.float32, **kw)
    assert ours.dtype == torch.float32
    (ga,) = torch.autograd.grad(ours, xc, up.to(cuda).float())
    ltol, gtol = TOL[dtype]
    torch.testing.assert_close(ours.double().cpu(), ref.detach(), rtol=max(ltol, 1e-5), atol=max(ltol, 1e-5))
    torch.testing.assert_close(ga.double().cpu(), gr, rtol=gtol, atol=gtol)
    plain = binary_cross_entropy_with_logits(x.to(cuda), t.to(cuda), **kw)
    assert plain.dtype == dtype
    torch.testing.assert_close(plain, ours.detach().to(dtype), rtol=0, atol=0)
