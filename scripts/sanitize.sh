#!/usr/bin/env bash
# The addon under AddressSanitizer and UndefinedBehaviorSanitizer: a second build in build-asan/ (build/Release
# is left alone), then the kernel, layer and training tests against it. Any sanitizer report fails the script.
#
# Node itself is not instrumented, so libasan must be the first library loaded (LD_PRELOAD), and its leak check
# stays off: Node leaks at exit by design. NORMNET_ADDON makes the loader take this build (src/kernels/native.ts);
# REQUIRE_NATIVE=1 makes a build that does not load a failure, not a quiet run on the TypeScript kernels.
# The tests run every CPU path the machine has (test/support/backends.ts), so one run covers the vector kernels.
#
# Usage: scripts/sanitize.sh      after `npm run build:ts` (a loader test runs dist/ in a child process); reports,
#                                  if any, and the test log land in bench/out/sanitizers/.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build-asan
# cmake-js puts its own -DCMAKE_CXX_FLAGS after any we give (the last one wins), so the flags go in the Release
# ones; CMakeLists.txt's -O3 still applies. -fno-sanitize-recover makes UBSan's first report fatal, as ASan's is.
flags="-g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
npx cmake-js rebuild --out "$out" --parallel 2 --CDCMAKE_CXX_FLAGS_RELEASE="$flags"
addon="$PWD/$out/Release/normnet.node"
# A build without libasan means the flags were dropped on the way, and the tests below would check nothing.
if ! ldd "$addon" | grep -q libasan; then
  echo "sanitize: $addon is not instrumented (no libasan among its libraries)" >&2
  exit 1
fi

# Every native kernel against its TS twin on every path, the bindings' argument checks, the layers and Sequential
# (five training steps of an MLP and a CNN, native against TS), and a whole native run (load-model: executeRun,
# checkpoints, folding). Left out: suites on the TS kernels only (trainer, gradcheck), and the jobs, service,
# CLI and report suites, which call the same kernels under far more JS and would not fit the stage's minutes.
files=(
  test/gemm.test.ts test/gemm-errors.test.ts test/linear.test.ts test/batchnorm.test.ts test/conv.test.ts
  test/pool.test.ts test/elementwise.test.ts test/loss.test.ts test/optim.test.ts test/gather.test.ts
  test/backend.test.ts test/sequential.test.ts test/fold-batchnorm.test.ts test/load-model.test.ts
)

# Reports go to files (one per process, name.PID), whatever vitest does with its workers' stderr.
reports=bench/out/sanitizers
rm -rf "$reports"
mkdir -p "$reports"
status=0
LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$PWD/$reports/asan" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$PWD/$reports/ubsan" \
  NORMNET_ADDON="$addon" REQUIRE_NATIVE=1 \
  npx vitest run "${files[@]}" 2>&1 | tee "$reports/vitest.log" || status=$?

# The second guard: a report that did not fail the test run still fails the stage.
if grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$reports"/* >/dev/null 2>&1; then
  echo "sanitize: sanitizer reports:" >&2
  grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$reports"/* | xargs cat >&2
  exit 1
fi
exit "$status"
