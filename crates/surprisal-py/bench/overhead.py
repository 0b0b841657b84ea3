"""Per-call time of surprisal.mse_loss(x, y, return_grad=True) on 1000 float64 elements.

Compare with the same library call in Rust: `cargo run --release -p surprisal --example overhead`.

    python crates/surprisal-py/bench/overhead.py
"""

import timeit

import numpy as np

import surprisal as s

n = 1000
i = np.arange(n, dtype=np.float64)
x, y = np.sin(i * 0.37), np.cos(i * 0.11)
calls = 20_000
best = min(timeit.repeat(lambda: s.mse_loss(x, y, return_grad=True), number=calls, repeat=7)) / calls
print(f"python mse_loss(x, y, return_grad=True) on {n} float64: {best * 1e6:.2f} µs per call (best of 7)")
np_best = min(timeit.repeat(lambda: ((x - y) ** 2).mean(), number=calls, repeat=7)) / calls
print(f"numpy  ((x - y) ** 2).mean() for scale: {np_best * 1e6:.2f} µs per call")
