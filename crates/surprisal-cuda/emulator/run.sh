#!/usr/bin/env bash
# Runs the kernels on the CPU under the thread emulator, for every dtype, with and without the
# cluster code, against a float64 reference (see README.md). Needs g++ ≥ 12 (C++20, _Float16).
#   ./run.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")"
out="${TMPDIR:-/tmp}/surprisal-cuda-emulator"
mkdir -p "$out"
seed="${1:-$RANDOM}"
echo "emulator: seed $seed (replay with run.sh $seed)"
status=0
for d in 0 1 2; do
  for cl in 1 0; do
    python3 gen.py "$d" "$cl" > "$out/kernels_${d}_${cl}.cpp"
    g++ -std=c++20 -O1 -w -I. -DKERNELS="\"$out/kernels_${d}_${cl}.cpp\"" harness.cpp -o "$out/h_${d}_${cl}"
    "$out/h_${d}_${cl}" "$seed" | grep -v "edge row" || status=1
  done
done
exit $status
