"""PyTorch autograd wrapper of the library's fused softmax cross-entropy.

Importable only where ``torch`` is installed. ``cross_entropy(logits, target, ...)`` runs the
library on CPU tensors (float32, float64, and bfloat16 read as its uint16 bit patterns): one call
computes the loss and the gradient with respect to the logits, the gradient is saved, and
``backward`` scales it by ``grad_output``. CUDA tensors raise ``NotImplementedError``.

    loss = surprisal.torch.cross_entropy(logits, target, label_smoothing=0.1)
    loss.backward()
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from . import _surprisal

__all__ = ["CrossEntropy", "cross_entropy"]


def _host_array(t: torch.Tensor) -> tuple[np.ndarray, Optional[str]]:
    """A tensor as a NumPy array sharing its memory, and the ``dtype`` flag for the library."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        # Same bits, read as integers: int16 is viewable everywhere, then reinterpreted as uint16.
        return t.view(torch.int16).numpy().view(np.uint16), "bfloat16"
    if t.dtype in (torch.float32, torch.float64):
        return t.numpy(), None
    raise TypeError(f"cross_entropy: logits must be float32, float64 or bfloat16, got {t.dtype}")


def _check_cpu(*tensors: Optional[torch.Tensor]) -> None:
    for t in tensors:
        if t is not None and t.device.type != "cpu":
            raise NotImplementedError(
                f"surprisal.torch.cross_entropy runs on CPU tensors only; got a tensor on {t.device} "
                "(move it with .cpu(), or use torch.nn.functional.cross_entropy there)"
            )


class CrossEntropy(torch.autograd.Function):
    """Softmax cross-entropy: loss and gradient in one library call; backward = grad_output · grad."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, label_smoothing, reduction):
        _check_cpu(logits, target, weight)
        z, dtype = _host_array(logits)
        if target.is_floating_point():
            t = target.detach().contiguous().to(torch.float32 if dtype == "bfloat16" else logits.dtype).numpy()
        else:
            t = target.detach().contiguous().to(torch.int64).numpy()
        w = None
        if weight is not None:
            w = weight.detach().contiguous().to(torch.float32 if dtype == "bfloat16" else logits.dtype).numpy()
        loss, grad = _surprisal.cross_entropy(
            z,
            t,
            weight=w,
            ignore_index=int(ignore_index),
            label_smoothing=float(label_smoothing),
            reduction=reduction,
            return_grad=True,
            dtype=dtype,
        )
        ctx.save_for_backward(torch.from_numpy(np.ascontiguousarray(grad)).to(logits.dtype))
        ctx.reduction = reduction
        if reduction == "none":
            return torch.from_numpy(np.asarray(loss)).to(logits.dtype)
        return torch.tensor(loss, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        if ctx.reduction == "none" and grad.dim() >= 2:
            # grad_output has one entry per row (the logits' shape without the class axis 1).
            g = grad * grad_output.unsqueeze(1).to(grad.dtype)
        else:
            g = grad * grad_output.to(grad.dtype)
        return g, None, None, None, None, None


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """``torch.nn.functional.cross_entropy`` computed by the library on CPU tensors.

    loss_i = (1 − ε)·w[y_i]·(logsumexp(z_i) − z_i,y_i) + (ε/C)·Σ_c w_c·(logsumexp(z_i) − z_i,c)
    ∂loss_i/∂z_i,c = (1 − ε)·w[y_i]·(p_i,c − δ_c,y_i) + (ε/C)·(W·p_i,c − w_c),  W = Σ_c w_c

    ``target`` holds class indices (integer tensor, shape = logits' shape without axis 1) or
    probabilities (float tensor, the logits' shape). ``mean`` divides by Σ w[y_i] over the rows
    not ignored. bfloat16 logits are read in place and computed in float32.
    """
    return CrossEntropy.apply(logits, target, weight, ignore_index, label_smoothing, reduction)
