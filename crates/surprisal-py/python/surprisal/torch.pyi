"""Type stubs for surprisal.torch (PyTorch autograd wrappers; CPU and CUDA tensors)."""

from typing import Any, Literal, Optional

import torch

Reduction = Literal["mean", "sum", "none"]

class CrossEntropy(torch.autograd.Function):
    """Softmax cross-entropy: loss and gradient in one call; backward = grad_output · grad."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, target: torch.Tensor, weight: Optional[torch.Tensor], ignore_index: int, label_smoothing: float, reduction: Reduction, inplace: bool = False) -> torch.Tensor: ...
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> Any: ...

def cross_entropy(logits: torch.Tensor, target: torch.Tensor, weight: Optional[torch.Tensor] = None, ignore_index: int = -100, label_smoothing: float = 0.0, reduction: Reduction = "mean", inplace: bool = False, loss_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """torch.nn.functional.cross_entropy by the library: CPU tensors (float32/float64/bfloat16) or
    CUDA tensors (float32/bfloat16/float16 logits [N, V] or [V], int64 class targets).

        loss_i = (1 − ε)·w[y_i]·(logsumexp(z_i) − z_i,y_i) + (ε/C)·Σ_c w_c·(logsumexp(z_i) − z_i,c)
        grad   = (1 − ε)·w[y_i]·(p_i,c − δ_c,y_i) + (ε/C)·(W·p_i,c − w_c),   W = Σ_c w_c

    inplace=True (CUDA only): the forward pass writes the gradient over the logits' storage (no
    N×V buffer); the logits must not be used afterwards. Probability targets: CPU only.
    loss_dtype: the returned loss's dtype (default: the logits'); the loss is accumulated in float32,
    and loss_dtype=torch.float32 returns it unrounded.
    """

def binary_cross_entropy_with_logits(logits: torch.Tensor, target: torch.Tensor, weight: Optional[torch.Tensor] = None, pos_weight: Optional[torch.Tensor] = None, reduction: Reduction = "mean", inplace: bool = False, loss_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """torch.nn.functional.binary_cross_entropy_with_logits by the library's GPU kernel (CUDA
    tensors; CPU tensors go to torch).

        loss = w·(pw·y·softplus(−x) + (1 − y)·softplus(x))      ∂/∂x = w·((1 − y)·σ(x) − pw·y·σ(−x))
    """
