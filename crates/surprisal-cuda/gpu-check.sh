#!/usr/bin/env bash
# The GPU check in two steps, for a CUDA machine without a Rust toolchain:
#
#   crates/surprisal-cuda/gpu-check.sh prepare [KIT]       # here: Rust, Python ≥ 3.9, pip
#   crates/surprisal-cuda/gpu-check.sh run [KIT] [OUTDIR]  # there: a driver, Python with PyTorch
#   crates/surprisal-cuda/gpu-check.sh profile [KIT] [OUTDIR]  # there, with Nsight Compute (ncu)
#
# `prepare` builds what `run` needs into KIT (default target/gpu-kit, about 5 MB):
#   bin/       the surprisal-cuda test binaries with the `cuda` feature (release profile)
#   wheels/    the abi3 wheel built with `cuda`, and liger-kernel 0.8.5 (pure Python) to compare with
# `run`, from the repository root on the GPU machine, with no network and no compiler:
#   1. the device tests (tests/gpu.rs: every dtype and launch shape against the f64 CPU library on
#      fresh random inputs, poisoned outputs; tests/nvrtc.rs: every kernel's resource report),
#   2. the CUDA half of the Python suite (tests/test_torch.py: surprisal.torch against torch in f64),
#   3. the timing script (bench/cuda_cross_entropy.py: the copy floor, eager PyTorch,
#      torch.compile, Liger-Kernel and the kernels, bf16, N×V = 16384×128256 and 8192×32000),
#   4. the launch variants: the kernels alone under each of GPU_CHECK_VARIANTS (the cp.async copy
#      in one commit group, stored exponentials in the one-read and the pipelined kernel, the
#      one-read kernel loading through registers, the pipelined kernel, 32 KiB slices, the
#      two-read kernel), to bench-variant-I.txt,
# with every log and the timing report as JSON in OUTDIR (default KIT/out), and a summary last.
# libnvrtc is taken from the PyTorch installation's `nvidia` wheels (or $SURPRISAL_NVRTC).
# `run` exits non-zero if any step failed; each step runs whatever the others did, under a time
# limit ($GPU_CHECK_TIMEOUT seconds, default 150; the timing script twice that), so that a hung
# kernel costs one step, not the machine's whole lease.
set -uo pipefail
cd "$(dirname "$0")/../.."

step="${1:-}"
kit="${2:-target/gpu-kit}"
GPU_CHECK_VARIANTS=(
  SURPRISAL_CUDA_COPY_GROUPS=1
  SURPRISAL_CUDA_STORE_EXP=1
  "SURPRISAL_CUDA_PIPELINE=1 SURPRISAL_CUDA_STORE_EXP=1"
  SURPRISAL_CUDA_ASYNC=0
  SURPRISAL_CUDA_PIPELINE=1
  SURPRISAL_CUDA_SLICE_BYTES=32768
  SURPRISAL_CUDA_SLICE_BYTES=16
)

prepare() {
  set -e
  local py="${PYTHON:-python3}"
  rm -rf "$kit"
  mkdir -p "$kit/bin" "$kit/wheels"
  # Test binaries: the executables cargo reports for the surprisal-cuda test targets.
  cargo test --release -p surprisal-cuda --features cuda --no-run --message-format=json \
    | "$py" -c '
import json, shutil, sys
kit = sys.argv[1]
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        name = m["target"]["name"]
        shutil.copy(m["executable"], kit + "/bin/" + name)
        print("test binary:", name)
' "$kit"
  strip "$kit"/bin/* 2>/dev/null || true
  # The wheel, with the GPU kernels.
  "$py" -m pip install --quiet --disable-pip-version-check maturin
  "$py" -m maturin build --release --quiet --manifest-path crates/surprisal-py/Cargo.toml --features cuda \
    --interpreter "$py" --out "$kit/wheels"
  # Liger-Kernel (pure Python; it needs torch and triton, which the GPU machine has).
  "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$kit/wheels" liger-kernel==0.8.5
  du -sh "$kit"
  echo "kit ready: run 'crates/surprisal-cuda/gpu-check.sh run $kit' from the repository root on the GPU machine"
}

# The kit's wheels on PYTHONPATH and NVRTC on the library path; sets py and out.
setup_env() {
  out="${3:-$kit/out}"
  py="$(command -v "${PYTHON:-python3}")" || { echo "no Python: ${PYTHON:-python3}"; return 1; }
  [[ "$py" = /* ]] || py="$PWD/$py"
  mkdir -p "$out"
  local site="$kit/site"
  rm -rf "$site"
  if ! "$py" -m pip install --quiet --disable-pip-version-check --no-index --no-deps --no-compile \
    --target "$site" "$kit"/wheels/*.whl >"$out/install.log" 2>&1; then
    cat "$out/install.log"
    return 1
  fi
  site="$(cd "$site" && pwd)"
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
  export PYTHONUNBUFFERED=1
  # libnvrtc for the Rust test binaries: $SURPRISAL_NVRTC, else the one PyTorch's wheels installed.
  local nvrtc="${SURPRISAL_NVRTC:-}"
  [ -f "$nvrtc" ] && nvrtc="$(dirname "$nvrtc")"
  if [ -z "$nvrtc" ]; then
    nvrtc="$("$py" -c 'import glob, os, nvidia; print(next(os.path.dirname(p) for d in nvidia.__path__ for p in sorted(glob.glob(os.path.join(d, "*", "lib", "libnvrtc.so*")))))' 2>/dev/null || true)"
  fi
  if [ -n "$nvrtc" ]; then export LD_LIBRARY_PATH="$nvrtc${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
}

run() {
  local out py
  setup_env "$@" || return 1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv >"$out/device.txt" 2>&1 || true
  cat "$out/device.txt"

  local status=0 summary="" limit="${GPU_CHECK_TIMEOUT:-150}"
  note() { summary+="$1"$'\n'; }
  limited() { timeout -k 10 "$@"; }
  for t in "$kit"/bin/*; do
    local name
    name="$(basename "$t")"
    if limited "$limit" "$t" --test-threads=1 --nocapture >"$out/rust-$name.log" 2>&1; then
      note "rust $name: $(grep -E '^test result' "$out/rust-$name.log" | tail -1)"
      # On the GPU machine nothing may be skipped.
      if grep -q 'skipped:' "$out/rust-$name.log"; then
        status=1
        note "rust $name: FAILED: $(grep -m1 'skipped:' "$out/rust-$name.log")"
      fi
    else
      status=1
      note "rust $name: FAILED (rust-$name.log)"
    fi
    grep -hE 'skipped|seed ' "$out/rust-$name.log" | sort -u | head -5
  done
  if (cd crates/surprisal-py/tests && limited "$limit" "$py" -m pytest -q -p no:cacheprovider -rs test_torch.py) >"$out/pytest.log" 2>&1; then
    note "pytest test_torch.py: $(tail -1 "$out/pytest.log")"
    if grep -q 'skipped: no CUDA\|skipped: wheel built without' "$out/pytest.log"; then
      status=1
      note "pytest test_torch.py: FAILED: the CUDA tests were skipped"
    fi
  else
    status=1
    note "pytest test_torch.py: FAILED: $(tail -1 "$out/pytest.log") (pytest.log)"
  fi
  # The table to bench.txt and the screen, the same numbers as JSON to bench.json.
  rm -f "$out/bench.json"
  if limited $((2 * limit)) "$py" crates/surprisal-py/bench/cuda_cross_entropy.py --json-out "$out/bench.json" >"$out/bench.txt" 2>"$out/bench.log" &&
    [ -s "$out/bench.json" ]; then
    cat "$out/bench.txt"
    note "bench: bench.json, bench.txt"
  else
    status=1
    note "bench: FAILED: $(tail -1 "$out/bench.txt") $(tail -1 "$out/bench.log")"
  fi
  local cfg i=0 vars
  for cfg in "${GPU_CHECK_VARIANTS[@]}"; do
    i=$((i + 1))
    read -ra vars <<<"$cfg"  # one NAME=VALUE word each
    # A variant passes only with timings (the script exits 0 with nothing to time on a machine
    # without PyTorch or a GPU).
    if env "${vars[@]}" timeout -k 10 "$limit" "$py" crates/surprisal-py/bench/cuda_cross_entropy.py \
      --methods "surprisal inplace,surprisal" --runs 50 >"$out/bench-variant-$i.txt" 2>&1 &&
      grep -q '^surprisal' "$out/bench-variant-$i.txt"; then
      note "variant $i ($cfg): bench-variant-$i.txt"
    else
      status=1
      note "variant $i ($cfg): FAILED: $(tail -1 "$out/bench-variant-$i.txt")"
    fi
  done
  for i in $(seq 1 "${#GPU_CHECK_VARIANTS[@]}"); do
    echo "variant $i: ${GPU_CHECK_VARIANTS[$((i - 1))]}"
    grep -h -E '^N=|^surprisal' "$out/bench-variant-$i.txt"
  done
  echo
  printf '%s' "$summary" | tee "$out/summary.txt"
  return $status
}

# Hardware counters (Nsight Compute, where the machine lets it read them): one launch of the
# row kernel per shape, default launch and the pipelined kernel, to ncu-*.txt.
profile() {
  local out py ncu f status=0
  setup_env "$@" || return 1
  ncu="$(command -v ncu)"
  for f in /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu; do
    if [ -z "$ncu" ] && [ -x "$f" ]; then ncu="$f"; fi
  done
  [ -n "$ncu" ] || { echo "no ncu"; return 1; }
  local shape cfg
  for shape in 16384x128256 8192x32000; do
    for cfg in SURPRISAL_CUDA_PIPELINE=0 SURPRISAL_CUDA_PIPELINE=1; do
      local f="$out/ncu-$shape-${cfg##*=}.txt"
      if ! env "$cfg" timeout -k 10 "${GPU_CHECK_TIMEOUT:-150}" "$ncu" --clock-control none \
        --kernel-name regex:ce_rows --launch-skip 1 --launch-count 1 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy \
        --section SchedulerStats --section WarpStateStats \
        "$py" crates/surprisal-py/bench/cuda_cross_entropy.py --methods "surprisal inplace" \
        --no-compile --warmup 1 --runs 1 --shapes "$shape" >"$f" 2>&1; then
        status=1
        echo "ncu $shape $cfg: FAILED ($(tail -1 "$f"))"
      fi
      grep -E 'ce_rows|Duration|DRAM Throughput|Memory Throughput|Compute \(SM\) Throughput|Achieved Occupancy|Issued Warp|No Eligible' "$f" | head -20
    done
  done
  return $status
}

case "$step" in
  prepare) prepare ;;
  run) run "$@" ;;
  profile) profile "$@" ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
