"""Forward + gradient time of softmax cross-entropy on a CUDA device, all in the same run:

  (a) the copy floor: ``out.copy_(x)`` into a preallocated buffer (reads N·V once, writes once),
  (b) eager ``F.cross_entropy(x, t)`` + ``.backward()``,
  (c) ``torch.compile`` of the same,
  (d) Liger-Kernel's fused cross-entropy (``liger_kernel.transformers.functional``), if installed,
  (e) ``surprisal.torch.cross_entropy(..., inplace=True)`` (gradient over the logits),
  (f) ``surprisal.torch.cross_entropy`` into a separate gradient buffer.

Each: median over ``--runs`` timed runs (CUDA events, after ``--warmup`` runs; the logits are
restored from a copy before each run, outside the timed region), its ratio to (a), the peak memory
allocated beyond the inputs during one forward + backward (the gradient included), and the
accuracy against float64: relative error of the mean loss (float64 over the whole batch, on the
device in chunks) and the largest absolute gradient error on a few rows, in per-row units (×N).
The loss compared is the one each method returns: torch's and Liger's in the logits' dtype, the
kernels' as the float32 they computed (``loss_dtype=torch.float32``, in the untimed accuracy run;
the timed runs return the logits' dtype like torch).

    python crates/surprisal-py/bench/cuda_cross_entropy.py [--json] [--runs 30] \
        [--shapes 16384x128256,8192x32000] [--dtype bfloat16] [--json-out FILE]

Without PyTorch or a CUDA device it says so and exits 0. ``SURPRISAL_CUDA_SLICE_BYTES`` changes the
largest row slice a CTA keeps in shared memory (default 65536), hence the cluster size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys


def _parse_shapes(s):
    out = []
    for part in s.split(","):
        n, v = part.lower().split("x")
        out.append((int(n), int(v)))
    return out


def _version(dist):
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return "unknown"


def _reference(x, t, rows):
    """float64: the mean loss over the whole batch (chunked, on the device) and the gradient of the
    mean on `rows` (CPU)."""
    import torch

    n = x.shape[0]
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    for lo in range(0, n, 512):
        z = x[lo : lo + 512].double()
        total += (torch.logsumexp(z, 1) - z.gather(1, t[lo : lo + 512, None])[:, 0]).sum()
        del z
    z = x[rows].double().cpu()
    g = torch.softmax(z, 1)
    g[torch.arange(len(rows)), t[rows].cpu()] -= 1.0
    return (total / n).item(), g / n


METHODS = ("copy floor", "torch eager", "torch.compile", "liger-kernel", "surprisal inplace", "surprisal")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    ap.add_argument("--json-out", metavar="FILE", help="also write the JSON document to FILE")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--shapes", default="16384x128256,8192x32000")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    ap.add_argument(
        "--methods",
        help="comma-separated subset of: copy floor, torch eager, torch.compile, liger-kernel, "
        "surprisal inplace, surprisal (default: all; the copy floor is always timed)",
    )
    args = ap.parse_args(argv)

    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("cuda_cross_entropy: PyTorch is not installed; nothing to time")
        return 0
    if not torch.cuda.is_available():
        print("cuda_cross_entropy: no CUDA device; nothing to time")
        return 0
    import surprisal._surprisal as ext
    from surprisal.torch import cross_entropy

    if not ext.cuda_built():
        print("cuda_cross_entropy: this surprisal wheel was built without the `cuda` feature")
        return 1
    liger_note = None
    try:
        from liger_kernel.transformers.functional import liger_cross_entropy
    except Exception as e:  # not installed, or it fails to import beside this torch
        liger_cross_entropy = None
        liger_note = f"{type(e).__name__}: {e}"

    dtype = getattr(torch, args.dtype)
    dev = torch.device("cuda")
    report = {
        "device": torch.cuda.get_device_name(dev),
        "torch": torch.__version__,
        "dtype": args.dtype,
        "runs": args.runs,
        "liger_kernel": _version("liger-kernel") if liger_cross_entropy is not None else liger_note,
        "shapes": [],
    }
    wanted = None
    if args.methods:
        wanted = {m.strip() for m in args.methods.split(",") if m.strip()} | {"copy floor"}
        unknown = wanted - set(METHODS)
        if unknown:
            ap.error(f"unknown method(s) {sorted(unknown)}; choose from {list(METHODS)}")
    compiled = None
    if not args.no_compile and (wanted is None or "torch.compile" in wanted):
        compiled = torch.compile(lambda z, y: F.cross_entropy(z, y))

    for n, v in _parse_shapes(args.shapes):
        g = torch.Generator(device=dev).manual_seed(0)
        master = (torch.randn(n, v, generator=g, device=dev, dtype=torch.float32) * 2).to(dtype)
        t = torch.randint(0, v, (n,), generator=g, device=dev)
        x = torch.empty_like(master).requires_grad_()
        out = torch.empty_like(master)
        rows = [0, 1, n // 2, n - 1]
        ref_loss, ref_grad = _reference(master, t, rows)

        def restore():
            with torch.no_grad():
                x.copy_(master)
            x.grad = None

        def copy_floor():
            out.copy_(master)
            return None

        def backward_of(f):
            def step():
                loss = f(x, t)
                loss.backward()
                return loss

            return step

        methods = [("copy floor", copy_floor)]
        methods.append(("torch eager", backward_of(lambda z, y: F.cross_entropy(z, y))))
        if compiled is not None:
            methods.append(("torch.compile", backward_of(compiled)))
        if liger_cross_entropy is not None:

            def liger(z, y):
                r = liger_cross_entropy(z, y)
                return r[0] if isinstance(r, tuple) else r

            methods.append(("liger-kernel", backward_of(liger)))
        else:
            print(f"liger-kernel: not available ({liger_note})", file=sys.stderr)
        def ours(inplace, loss_dtype=None):
            return backward_of(lambda z, y: cross_entropy(z, y, inplace=inplace, loss_dtype=loss_dtype))

        methods.append(("surprisal inplace", ours(True)))
        methods.append(("surprisal", ours(False)))
        # The accuracy run of the kernels returns the float32 loss they computed (loss_dtype);
        # the timed runs return it in the logits' dtype, as torch does.
        f32_loss = {"surprisal inplace": ours(True, torch.float32), "surprisal": ours(False, torch.float32)}
        if wanted is not None:
            methods = [(name, step) for name, step in methods if name in wanted]

        shape_report = {"n": n, "v": v, "bytes": master.numel() * master.element_size(), "methods": {}}
        try:
            shape_report["plan"] = ext.cuda_plan(torch.cuda.current_device(), args.dtype, v)
        except RuntimeError as e:
            shape_report["plan"] = {"error": str(e)}
        floor_ms = None
        for name, step in methods:
            try:
                for _ in range(args.warmup):
                    restore()
                    step()
                torch.cuda.synchronize()
                times = []
                for _ in range(args.runs):
                    restore()
                    a = torch.cuda.Event(enable_timing=True)
                    b = torch.cuda.Event(enable_timing=True)
                    a.record()
                    step()
                    b.record()
                    b.synchronize()
                    times.append(a.elapsed_time(b))
                ms = statistics.median(times)
                restore()
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
                loss = f32_loss.get(name, step)()
                torch.cuda.synchronize()
                peak = torch.cuda.max_memory_allocated() - base
                entry = {"ms": ms, "peak_extra_bytes": peak}
                if name == "copy floor":
                    floor_ms = ms
                    entry["tb_per_s"] = 2 * shape_report["bytes"] / (ms * 1e-3) / 1e12
                else:
                    entry["loss_rel_err"] = abs(loss.double().item() - ref_loss) / abs(ref_loss)
                    gr = x.grad[rows].double().cpu()
                    entry["grad_max_abs_err_row_units"] = ((gr - ref_grad).abs().max() * n).item()
                entry["ratio_to_floor"] = ms / floor_ms if floor_ms else None
            except Exception as e:  # report and go on with the other methods
                entry = {"error": f"{type(e).__name__}: {e}"}
            shape_report["methods"][name] = entry
            x.grad = None
            torch.cuda.empty_cache()
        report["shapes"].append(shape_report)
        del master, x, out
        torch.cuda.empty_cache()

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=2)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{report['device']}, torch {report['torch']}, liger-kernel {report['liger_kernel']}, {args.dtype}, "
        f"median of {args.runs} runs"
    )
    print(
        "loss rel err: of the loss each method returns; the surprisal rows' is the float32 loss the kernel "
        f"computed (loss_dtype=torch.float32), the others' is rounded to {args.dtype}"
    )
    for s in report["shapes"]:
        print(f"\nN={s['n']} V={s['v']} ({s['bytes'] / 1e9:.2f} GB of logits), surprisal launch {s['plan']}")
        print(f"{'method':<20} {'ms':>9} {'× floor':>8} {'extra MB':>10} {'loss rel err':>13} {'grad err ×N':>12}")
        for name, e in s["methods"].items():
            if "error" in e:
                print(f"{name:<20} {e['error']}")
                continue
            extra = f"{e['peak_extra_bytes'] / 1e6:10.1f}"
            ratio = f"{e['ratio_to_floor']:8.3f}" if e.get("ratio_to_floor") else f"{'':8}"
            if name == "copy floor":
                print(f"{name:<20} {e['ms']:9.3f} {ratio} {extra}   ({e['tb_per_s']:.2f} TB/s)")
            else:
                print(
                    f"{name:<20} {e['ms']:9.3f} {ratio} {extra} {e['loss_rel_err']:13.2e} "
                    f"{e['grad_max_abs_err_row_units']:12.2e}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
