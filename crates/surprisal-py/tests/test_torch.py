"""surprisal.torch against torch.nn.functional.cross_entropy (runs where PyTorch is installed)."""

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


def test_cuda_tensors_raise_a_clear_error():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    z = torch.randn(2, 3, device="cuda")
    with pytest.raises(NotImplementedError, match="CPU"):
        cross_entropy(z, torch.tensor([0, 1], device="cuda"))
