"""PyTorch autograd wrappers of the library's fused cross-entropy losses.

Importable only where ``torch`` is installed. One call computes the loss and the gradient with
respect to the logits; the gradient is saved, and ``backward`` returns it (scaled by
``grad_output`` unless that is exactly 1).

- CPU tensors (float32, float64, and bfloat16 read as its uint16 bit patterns) run the library's
  CPU kernels.
- CUDA tensors (logits float32, bfloat16 or float16, ``[N, V]`` or ``[V]``, contiguous in the last
  dimension; int64 class targets on the same device) run the GPU kernels of ``surprisal-cuda``
  (a wheel built with the ``cuda`` feature; they are compiled with NVRTC on first use, for the
  device's architecture). Everything is enqueued on ``torch.cuda.current_stream()``: no host
  synchronisation in the forward pass. The logits are read once and the gradient written once;
  extra memory is N + 4 floats (and the gradient buffer unless ``inplace=True``).
  NVRTC is found on the library path, or in the ``nvidia-cuda-nvrtc`` wheel that PyTorch's CUDA
  builds install (``nvidia/cu13/lib`` or ``nvidia/cuda_nvrtc/lib``), or at ``$SURPRISAL_NVRTC``.
  Probability targets on CUDA raise ``NotImplementedError``.

    loss = surprisal.torch.cross_entropy(logits, target, label_smoothing=0.1)
    loss.backward()

``inplace=True`` (CUDA only) writes the gradient over the logits' storage during the forward
pass (no N×V buffer is allocated): the logits must not be used afterwards, by you or by
autograd (as for Liger-Kernel's cross-entropy).
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
from typing import Optional

import numpy as np
import torch

from . import _surprisal

__all__ = ["CrossEntropy", "cross_entropy", "binary_cross_entropy_with_logits"]

_CUDA_DTYPES = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}
_nvrtc_loaded = False


def _load_nvrtc() -> None:
    """Preloads libnvrtc (and its builtins) from ``$SURPRISAL_NVRTC`` or the ``nvidia`` wheels, so that
    the library finds it by name; a library already on the search path needs nothing."""
    global _nvrtc_loaded
    if _nvrtc_loaded:
        return
    _nvrtc_loaded = True
    dirs = []
    env = os.environ.get("SURPRISAL_NVRTC")
    if env:
        dirs.append(os.path.dirname(env) if os.path.isfile(env) else env)
    for pkg in ("nvidia.cu13", "nvidia.cuda_nvrtc"):
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            spec = None
        for loc in (spec.submodule_search_locations or []) if spec else []:
            dirs.append(os.path.join(loc, "lib"))
    for d in dirs:
        builtins = sorted(p for p in glob.glob(os.path.join(d, "libnvrtc-builtins.so*")) if ".alt." not in p)
        libs = sorted(p for p in glob.glob(os.path.join(d, "libnvrtc.so*")) if ".alt." not in p)
        if not libs:
            continue
        try:
            for p in builtins[:1] + libs[:1]:
                ctypes.CDLL(p, mode=ctypes.RTLD_GLOBAL)
            return
        except OSError:
            continue


def _host_array(t: torch.Tensor) -> tuple[np.ndarray, Optional[str]]:
    """A tensor as a NumPy array sharing its memory, and the ``dtype`` flag for the library."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        # Same bits, read as integers: int16 is viewable everywhere, then reinterpreted as uint16.
        return t.view(torch.int16).numpy().view(np.uint16), "bfloat16"
    if t.dtype in (torch.float32, torch.float64):
        return t.numpy(), None
    raise TypeError(f"cross_entropy: logits must be float32, float64 or bfloat16, got {t.dtype}")


def _check_device(logits: torch.Tensor, *others: Optional[torch.Tensor]) -> None:
    for t in others:
        if t is not None and t.device != logits.device:
            raise ValueError(f"all tensors must be on {logits.device}; got one on {t.device}")


def _scaled(grad: torch.Tensor, grad_output: torch.Tensor, per_row: bool) -> torch.Tensor:
    """The saved gradient times grad_output (the saved tensor itself when grad_output is exactly 1)."""
    if per_row:
        if grad.dim() >= 2:
            return grad * grad_output.unsqueeze(1).to(grad.dtype)
        return grad * grad_output.to(grad.dtype)
    if torch.equal(grad_output, torch.ones((), dtype=grad_output.dtype, device=grad_output.device)):
        return grad
    return grad * grad_output.to(grad.dtype)


def _cuda_cross_entropy(logits, target, weight, ignore_index, label_smoothing, reduction, inplace):
    """Enqueues the GPU kernels; returns (loss as float32, gradient tensor)."""
    if target.is_floating_point():
        raise NotImplementedError(
            "surprisal.torch.cross_entropy: probability (soft) targets are not implemented for CUDA "
            "tensors; pass class indices, or use CPU tensors"
        )
    if logits.dtype not in _CUDA_DTYPES:
        raise TypeError(f"cross_entropy on CUDA: logits must be float32, bfloat16 or float16, got {logits.dtype}")
    if logits.dim() not in (1, 2):
        raise NotImplementedError(
            f"cross_entropy on CUDA takes logits [N, V] or [V]; got shape {tuple(logits.shape)} "
            "(move the class axis last and flatten the others)"
        )
    _check_device(logits, target, weight)
    z = logits.detach()
    if z.dim() == 1:
        z = z.unsqueeze(0)
    if z.stride(1) != 1:
        z = z.contiguous()
    n, v = z.shape
    t = target.detach().reshape(n).to(torch.int64).contiguous()
    w = None
    if weight is not None:
        w = weight.detach().to(torch.float32).contiguous()
        if w.numel() != v:
            raise ValueError(f"weight has {w.numel()} entries, expected V = {v}")
    device = z.device
    grad = z if inplace else torch.empty((n, v), dtype=z.dtype, device=device)
    loss = torch.empty((n,) if reduction == "none" else (), dtype=torch.float32, device=device)
    ws = torch.empty(_surprisal.cuda_cross_entropy_workspace_len(n), dtype=torch.float32, device=device)
    _load_nvrtc()
    index = device.index if device.index is not None else torch.cuda.current_device()
    with torch.cuda.device(index):
        stream = torch.cuda.current_stream(device).cuda_stream
        _surprisal.cuda_cross_entropy(
            index,
            stream,
            _CUDA_DTYPES[z.dtype],
            n,
            v,
            z.data_ptr(),
            z.stride(0),
            grad.data_ptr(),
            grad.stride(0),
            t.data_ptr(),
            w.data_ptr() if w is not None else 0,
            loss.data_ptr(),
            ws.data_ptr(),
            reduction,
            None if ignore_index is None else int(ignore_index),
            float(label_smoothing),
        )
    if logits.dim() == 1:
        grad = grad.view(v)
        if reduction == "none":
            loss = loss.view(())
    return loss, grad


class CrossEntropy(torch.autograd.Function):
    """Softmax cross-entropy: loss and gradient in one library call; backward = grad_output · grad."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, label_smoothing, reduction, inplace=False, loss_dtype=None):
        ctx.reduction = reduction
        out_dtype = loss_dtype if loss_dtype is not None else logits.dtype
        if logits.is_cuda:
            loss, grad = _cuda_cross_entropy(logits, target, weight, ignore_index, label_smoothing, reduction, inplace)
            ctx.save_for_backward(grad.detach())
            return loss.to(out_dtype)
        if inplace:
            raise NotImplementedError("inplace=True is implemented for CUDA tensors only")
        for t in (target, weight):
            if t is not None and t.device.type != "cpu":
                raise ValueError(f"all tensors must be on the CPU like the logits; got one on {t.device}")
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
        if reduction == "none":
            return torch.from_numpy(np.asarray(loss)).to(out_dtype)
        return torch.tensor(loss, dtype=out_dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return _scaled(grad, grad_output, ctx.reduction == "none"), None, None, None, None, None, None, None


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    inplace: bool = False,
    loss_dtype: Optional[torch.dtype] = None,
) -> torch.Tensor:
    """``torch.nn.functional.cross_entropy`` computed by the library (CPU or CUDA tensors).

    loss_i = (1 − ε)·w[y_i]·(logsumexp(z_i) − z_i,y_i) + (ε/C)·Σ_c w_c·(logsumexp(z_i) − z_i,c)
    ∂loss_i/∂z_i,c = (1 − ε)·w[y_i]·(p_i,c − δ_c,y_i) + (ε/C)·(W·p_i,c − w_c),  W = Σ_c w_c

    ``target`` holds class indices (integer tensor, shape = logits' shape without axis 1) or, on
    the CPU, probabilities (float tensor, the logits' shape). ``mean`` divides by Σ w[y_i] over the
    rows not ignored. bfloat16 logits are read in place and computed in float32.

    ``inplace=True`` (CUDA only): the gradient is written over the logits' storage by the forward
    pass, which then allocates no N×V buffer; the logits' values are gone afterwards. On CUDA a
    target outside 0..C that is not ``ignore_index`` gives a NaN loss (no host check).

    ``loss_dtype``: the returned loss's dtype; by default the logits' (as torch). The loss is always
    accumulated in float32 (float64 for float64 logits on the CPU), so ``loss_dtype=torch.float32``
    returns it as computed, where a bfloat16 result would round it to 8 significant bits (a
    relative error up to 2⁻⁹ ≈ 2e-3). The gradient is the same either way.
    """
    return CrossEntropy.apply(logits, target, weight, ignore_index, label_smoothing, reduction, inplace, loss_dtype)


class BinaryCrossEntropyWithLogits(torch.autograd.Function):
    """Sigmoid binary cross-entropy on CUDA tensors: loss and gradient in one pass."""

    @staticmethod
    def forward(ctx, logits, target, weight, pos_weight, reduction, inplace=False, loss_dtype=None):
        if logits.dtype not in _CUDA_DTYPES:
            raise TypeError(f"binary_cross_entropy_with_logits on CUDA: float32, bfloat16 or float16, got {logits.dtype}")
        if target.shape != logits.shape:
            raise ValueError(f"target shape {tuple(target.shape)} differs from the logits' {tuple(logits.shape)}")
        _check_device(logits, target, weight, pos_weight)
        x = logits.detach().contiguous()
        y = target.detach().to(x.dtype).contiguous()
        n = x.numel()
        last = x.shape[-1] if x.dim() > 0 else 1

        def bcast(w):
            if w is None:
                return None, 0
            w = w.detach().to(torch.float32)
            if w.numel() == n:
                return w.reshape(n).contiguous(), n
            if w.numel() in (1, last) and (w.dim() <= 1 or all(s == 1 for s in w.shape[:-1])):
                return w.reshape(-1).contiguous(), w.numel()
            return torch.broadcast_to(w, x.shape).reshape(n).contiguous(), n

        pw, pw_len = bcast(pos_weight)
        w, w_len = bcast(weight)
        grad = x if inplace else torch.empty_like(x)
        loss = torch.empty(x.shape if reduction == "none" else (), dtype=torch.float32, device=x.device)
        ws = torch.empty(_surprisal.cuda_bce_workspace_len(), dtype=torch.float32, device=x.device)
        _load_nvrtc()
        index = x.device.index if x.device.index is not None else torch.cuda.current_device()
        with torch.cuda.device(index):
            _surprisal.cuda_bce_with_logits(
                index,
                torch.cuda.current_stream(x.device).cuda_stream,
                _CUDA_DTYPES[x.dtype],
                n,
                x.data_ptr(),
                y.data_ptr(),
                grad.data_ptr(),
                pw.data_ptr() if pw is not None else 0,
                pw_len,
                w.data_ptr() if w is not None else 0,
                w_len,
                loss.data_ptr(),
                ws.data_ptr(),
                reduction,
            )
        ctx.reduction = reduction
        ctx.save_for_backward(grad.detach())
        return loss.to(loss_dtype if loss_dtype is not None else logits.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        if ctx.reduction == "none":
            return grad * grad_output.to(grad.dtype), None, None, None, None, None, None
        return _scaled(grad, grad_output, False), None, None, None, None, None, None


def binary_cross_entropy_with_logits(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    pos_weight: Optional[torch.Tensor] = None,
    reduction: str = "mean",
    inplace: bool = False,
    loss_dtype: Optional[torch.dtype] = None,
) -> torch.Tensor:
    """``torch.nn.functional.binary_cross_entropy_with_logits`` by the library's GPU kernel (CUDA
    tensors; CPU tensors go to torch's own implementation).

    loss = w·(pw·y·softplus(−x) + (1 − y)·softplus(x))      ∂/∂x = w·((1 − y)·σ(x) − pw·y·σ(−x))

    ``weight`` and ``pos_weight`` broadcast as in torch (a ``pos_weight`` of the last dimension's
    size applies per class); ``mean`` divides by the number of elements. ``inplace=True`` writes
    the gradient over the logits' storage. ``loss_dtype``: as in :func:`cross_entropy` (the GPU
    kernel accumulates in float32; by default the loss is returned in the logits' dtype).
    """
    if not logits.is_cuda:
        if inplace:
            raise NotImplementedError("inplace=True is implemented for CUDA tensors only")
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, target, weight=weight, pos_weight=pos_weight, reduction=reduction
        )
        return loss if loss_dtype is None else loss.to(loss_dtype)
    return BinaryCrossEntropyWithLogits.apply(logits, target, weight, pos_weight, reduction, inplace, loss_dtype)
