#!/usr/bin/env bash
# The addon under valgrind (Debian package `valgrind`, 3.19 or later): a build with debug info in build-valgrind/
# (build/Release is left alone), then a short native training step (scripts/valgrind-step.mjs: an MLP with
# BatchNorm, a small CNN, every optimizer, an eval pass, a gather; on the main thread and in a worker thread that
# exits) with Node run under memcheck.
#
# The verdict is on normnet's code only: the script fails on a definitely lost block whose allocation stack has a
# frame in normnet.node, or on any other memcheck error (invalid read/write/free, uninitialised value used, ...)
# with a frame of normnet.node in one of its stacks; Node's and V8's own findings, if any, are counted in the
# summary but do not fail it (so no suppressions file is needed: with Node 20 on Debian there are none to hide).
# "Possibly lost" blocks are expected: the thread pool's workers outlive main() by design (one pool a process),
# and their thread-local scratch buffers and TLS are still held when valgrind takes stock.
#
# CPU paths: valgrind 3.19 does not decode AVX-512 (its CPUID hides it, and an AVX-512 instruction is SIGILL),
# so the vector path checked here is AVX2 (NORMNET_ISA=avx2), then the generic one; on AArch64, NEON and
# generic. The AVX-512 kernels are covered by the sanitizer build (scripts/sanitize.sh) instead.
#
# Usage: scripts/valgrind.sh     after `npm run build:ts`; logs (valgrind's XML, one per path) land in
#                                 bench/out/valgrind/. ~35 s a path on 2 cores, after the build.
#        NORMNET_ADDON=/abs/normnet.node scripts/valgrind.sh    checks that build instead (no build here).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "valgrind: not installed (Debian/Ubuntu: apt-get install valgrind)" >&2; exit 1; }
[ -f dist/nn/index.js ] || { echo "valgrind: dist/ is missing; run npm run build:ts first" >&2; exit 1; }

addon="${NORMNET_ADDON:-}"
if [ -z "$addon" ]; then
  out=build-valgrind
  # -O3 stays (CMakeLists.txt's), as shipped; -g gives the stacks file and line, the frame pointer whole stacks.
  # cmake-js build is incremental: a no-op when nothing changed.
  mkdir -p "$out"
  npx cmake-js build --out "$out" --parallel 2 --CDCMAKE_CXX_FLAGS_RELEASE="-g -fno-omit-frame-pointer" >"$out/build.log" 2>&1 ||
    { cat "$out/build.log" >&2; echo "valgrind: the build failed" >&2; exit 1; }
  addon="$PWD/$out/Release/normnet.node"
fi

logs=bench/out/valgrind
rm -rf "$logs"
mkdir -p "$logs"
case "$(uname -m)" in
  x86_64) isas=(avx2 generic) ;;
  aarch64) isas=(neon generic) ;;
  *) isas=(generic) ;;
esac

status=0
summary=()
for isa in "${isas[@]}"; do
  start=$SECONDS
  # --smc-check=all-non-file: V8 writes and rewrites machine code in anonymous mappings. UV_THREADPOOL_SIZE=1 and
  # two pool threads keep the thread count (and valgrind's serialised scheduling) small.
  rc=0
  UV_THREADPOOL_SIZE=1 NORMNET_NUM_THREADS=2 NORMNET_ISA="$isa" NORMNET_ADDON="$addon" \
    valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
      --errors-for-leak-kinds=definite --error-exitcode=1 --smc-check=all-non-file --num-callers=40 \
      --xml=yes --xml-file="$logs/$isa.xml" --log-file="$logs/$isa.log" \
      node scripts/valgrind-step.mjs >"$logs/$isa.out" 2>&1 || rc=$?
  seconds=$((SECONDS - start))
  # Reads valgrind's XML: totals by leak kind, and the findings with a normnet.node frame.
  line=$(node - "$logs/$isa.xml" "$isa" "$seconds" "$rc" "$logs/$isa.out" <<'EOF'
const { readFileSync } = require('node:fs');
const [xmlFile, isa, seconds, rc, outFile] = process.argv.slice(2);
const xml = readFileSync(xmlFile, 'utf8');
const finished = /valgrind-step: done/.test(readFileSync(outFile, 'utf8')) && /<\/valgrindoutput>/.test(xml);
const bytes = { Leak_DefinitelyLost: 0, Leak_IndirectlyLost: 0, Leak_PossiblyLost: 0 };
let ourBytes = 0;
let errors = 0;
const ours = [];
for (const [, body] of xml.matchAll(/<error>([\s\S]*?)<\/error>/g)) {
  const kind = /<kind>([^<]*)<\/kind>/.exec(body)[1];
  const inNormnet = [...body.matchAll(/<obj>([^<]*)<\/obj>/g)].some(([, obj]) => obj.endsWith('/normnet.node'));
  const leaked = Number(/<leakedbytes>(\d+)<\/leakedbytes>/.exec(body)?.[1] ?? 0);
  if (kind in bytes) bytes[kind] += leaked;
  else errors++;
  if (inNormnet && (kind === 'Leak_DefinitelyLost' || !(kind in bytes))) {
    ours.push({ kind, body });
    ourBytes += leaked;
  }
}
// The findings, each with its first frames, for the log.
const unescape = (t) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
for (const { kind, body } of ours.slice(0, 3)) {
  const what = /<text>([^<]*)<\/text>/.exec(body)?.[1] ?? /<what>([^<]*)<\/what>/.exec(body)?.[1] ?? '';
  const frames = [...body.matchAll(/<frame>([\s\S]*?)<\/frame>/g)].slice(0, 6).map(([, f]) => {
    const field = (name) => { const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(f); return m ? unescape(m[1]) : undefined; };
    return `    ${field('fn') ?? field('ip')} (${field('file') ? `${field('file')}:${field('line')}` : field('obj')})`;
  });
  console.error(`valgrind ${isa}: ${kind}: ${unescape(what)}\n${frames.join('\n')}`);
}
const kinds = [...new Set(ours.map((o) => o.kind))].join(', ');
const verdict = !finished ? 'FAILED (the step did not finish)' : ours.length ? `FAILED: ${ours.length} findings in normnet's code (${kinds})` : 'ok';
console.log(`${isa}: ${verdict}; definitely lost ${bytes.Leak_DefinitelyLost} B (${ourBytes} B from normnet), indirectly ${bytes.Leak_IndirectlyLost} B, possibly ${bytes.Leak_PossiblyLost} B; ${errors} other errors (${ours.filter((o) => !o.kind.startsWith('Leak_')).length} in normnet); valgrind exit ${rc}; ${seconds} s`);
process.exitCode = !finished || ours.length ? 1 : 0;
EOF
  ) || status=1
  summary+=("$line")
  if [ "$status" -ne 0 ]; then
    tail -5 "$logs/$isa.out" >&2
    echo "valgrind: see $logs/$isa.xml" >&2
  fi
done
# The one line.
( IFS='|'; echo "valgrind: ${summary[*]}" | sed 's/|/ | /g' )
exit "$status"
