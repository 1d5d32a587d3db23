/**
 * Every kernel's arguments as the fuzz driver forms them: the signature's kinds (b boolean, n scalar, d:X a
 * dimension named X, f:expr a float32 array of that length, fo:expr the same or null, i:expr:range an Int32Array of
 * indices in [0, range), u8:expr a Uint8Array, u a uint32 seed), so a generated call has dims mostly small and
 * arrays mostly of the right lengths — and then a few positions replaced by hostile values, two positions made the
 * same array (aliasing), or an argument dropped or added. Lengths are formed from the dims; one that is not a
 * small whole number (a hostile dim) gets an array of 3 values, which the checks must refuse.
 */
import fc from 'fast-check';
import { HOSTILE_NUMBERS, build, hostile, makeArray } from './hostile.mjs';

const WINDOW = 'd:N d:C d:H d:W d:KH d:KW d:stride d:padding';
const CONV = 'd:N d:C d:H d:W d:OC d:KH d:KW d:stride d:padding';
const POOL = 'd:N d:C d:H d:W d:KH d:KW d:stride';
const COLS = 'C*KH*KW*N*OH*OW';

/** kernel -> its arguments, in the order of src/kernels/kernels.ts. */
export const KERNEL_ARGS = {
  gemm: 'b b d:M d:N d:K n f:M*K f:K*N n f:M*N',
  linearForward: 'f:N*O f:N*I f:O*I fo:O d:N d:I d:O',
  linearBackward: 'fo:N*I f:O*I fo:O f:N*O f:N*I f:O*I d:N d:I d:O',
  batchnormForwardTrain: 'f:N*C*S f:C f:C f:C f:C f:N*C*S f:C f:C d:N d:C d:S n n b',
  batchnormForwardEval: 'f:N*C*S f:N*C*S f:C f:C f:C f:C d:N d:C d:S n b',
  batchnormBackward: 'f:N*C*S f:C f:C f:N*C*S f:N*C*S f:C f:C f:C d:N d:C d:S fo:C',
  batchnormPoolForwardTrain: `f:N*C*PH*PW i:N*C*PH*PW:H*W f:C f:C f:C f:C f:N*C*H*W f:C f:C ${POOL} n n b`,
  im2col: `f:${COLS} f:N*C*H*W ${WINDOW}`,
  col2im: `f:N*C*H*W f:${COLS} ${WINDOW}`,
  conv2dForward: `f:N*OC*OH*OW f:N*C*H*W f:OC*C*KH*KW f:OC ${CONV}`,
  conv2dBackwardInput: `f:N*C*H*W f:N*OC*OH*OW f:OC*C*KH*KW ${CONV}`,
  conv2dBackwardParams: `f:OC*C*KH*KW f:OC f:N*OC*OH*OW f:N*C*H*W ${CONV}`,
  maxpoolForward: `f:N*C*PH*PW i:N*C*PH*PW:H*W f:N*C*H*W ${POOL}`,
  maxpoolBackward: `f:N*C*H*W f:N*C*PH*PW i:N*C*PH*PW:H*W ${POOL}`,
  reluForward: 'f:L f:L d:L',
  reluBackward: 'f:L f:L f:L d:L',
  sigmoidForward: 'f:L f:L d:L',
  sigmoidBackward: 'f:L f:L f:L d:L',
  dropoutForward: 'f:L f:L f:L d:L n u',
  dropoutBackward: 'f:L f:L f:L d:L',
  softmaxCrossEntropyForward: 'f:N*C f:N*C i:N:C d:N d:C',
  softmaxCrossEntropyBackward: 'f:N*C f:N*C i:N:C d:N d:C n',
  sgdUpdate: 'f:L f:L d:L n n',
  momentumUpdate: 'f:L f:L f:L d:L n n n n d:step',
  nesterovUpdate: 'f:L f:L f:L d:L n n n d:step',
  adagradUpdate: 'f:L f:L f:L d:L n n n n d:step',
  rmspropUpdate: 'f:L f:L f:L d:L n n n n',
  adamUpdate: 'f:L f:L f:L f:L d:L n n n n n d:step',
  gatherScale: 'f:N*D u8:R*D i:N:R d:N d:D n',
  prefetchRows: 'u8:R*D i:N:R d:N d:D',
};

const DIM_NAMES = ['M', 'N', 'K', 'I', 'O', 'C', 'S', 'H', 'W', 'OC', 'KH', 'KW', 'stride', 'padding', 'L', 'D', 'R', 'step'];
const SCALARS = [0, 0.1, 0.5, 0.9, 1, 1e-5, 2, -1, NaN, Infinity, -Infinity];

const dim = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
);

/** One call's descriptor: dims, array kinds (view and fill), scalars, then the hostile edits. */
export function kernelCall(name) {
  const kinds = KERNEL_ARGS[name].split(' ');
  const arrayArb = fc.record({
    view: fc.oneof({ weight: 10, arbitrary: fc.constant('plain') }, { weight: 1, arbitrary: fc.constantFrom('sab', 'offset', 'detached', 'resizable', 'f64', 'proxy', 'fakeProto', 'short', 'long') }),
    fill: fc.constantFrom('zeros', 'ramp', 'special'),
    index: fc.oneof({ weight: 8, arbitrary: fc.constant('valid') }, { weight: 1, arbitrary: fc.constantFrom('negative', 'big', 'edge') }),
    isNull: fc.boolean(),
  });
  return fc.record({
    dims: fc.record(Object.fromEntries(DIM_NAMES.map((d) => [d, dim]))),
    args: fc.tuple(...kinds.map(() => arrayArb)),
    scalars: fc.tuple(...kinds.map(() => fc.constantFrom(...SCALARS)), fc.boolean()),
    edits: fc.array(fc.record({ at: fc.nat(kinds.length - 1), value: hostile(1) }), { maxLength: 2 }),
    alias: fc.option(fc.tuple(fc.nat(kinds.length - 1), fc.nat(kinds.length - 1)), { freq: 4 }),
    count: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, -1, 1),
  });
}

function evaluate(expr, dims) {
  return Function(...Object.keys(dims), `return ${expr};`)(...Object.values(dims));
}

const small = (n) => Number.isSafeInteger(n) && n >= 0 && n <= 4096;

/** The argument list a kernelCall descriptor stands for. */
export function kernelArgs(name, call) {
  const kinds = KERNEL_ARGS[name].split(' ');
  const dims = { ...call.dims };
  const out = (size, window, stride, padding) => Math.floor((size + 2 * padding - window) / stride) + 1;
  dims.OH = out(dims.H, dims.KH, dims.stride, dims.padding);
  dims.OW = out(dims.W, dims.KW, dims.stride, dims.padding);
  dims.PH = out(dims.H, dims.KH, dims.stride, 0);
  dims.PW = out(dims.W, dims.KW, dims.stride, 0);
  const args = kinds.map((kind, i) => {
    const [type, expr, range] = kind.split(':');
    const a = call.args[i];
    const sized = (t, length, r = 0) => makeArray({ t, n: small(length) ? length : 3, view: a.view, fill: t === 'i32' ? a.index : a.fill }, r);
    switch (type) {
      case 'b': return call.scalars[kinds.length];
      case 'n': return call.scalars[i];
      case 'u': return a.isNull ? call.scalars[i] : 12345;
      case 'd': return dims[expr];
      case 'f': return sized('f32', evaluate(expr, dims));
      case 'fo': return a.isNull ? null : sized('f32', evaluate(expr, dims));
      case 'u8': return sized('u8', evaluate(expr, dims));
      case 'i': return sized('i32', evaluate(expr, dims), evaluate(range, dims));
      default: throw new Error(`bad kind ${kind}`);
    }
  });
  for (const { at, value } of call.edits) args[at] = build(value);
  if (call.alias) args[call.alias[0]] = args[call.alias[1]];
  if (call.count < 0) args.pop();
  if (call.count > 0) args.push(new Float32Array(1));
  return args;
}
