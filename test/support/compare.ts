/**
 * Elementwise comparison with a stated tolerance, |a - r| <= atol + rtol * |r|; on failure the message lists
 * the first mismatches and the largest difference, as llm.c's test_gpt2.c does.
 */
type Numbers = ArrayLike<number>;

export function mismatches(actual: Numbers, expected: Numbers, rtol: number, atol: number, label = ''): string {
  if (actual.length !== expected.length) return `${label} length ${actual.length}, expected ${expected.length}`;
  const lines: string[] = [];
  let worst = 0;
  let bad = 0;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    const sameNaN = Number.isNaN(actual[i]) && Number.isNaN(expected[i]);
    if (!sameNaN && !(diff <= atol + rtol * Math.abs(expected[i]))) {
      bad++;
      if (lines.length < 5) lines.push(`${label}[${i}] = ${actual[i]}, expected ${expected[i]}`);
    }
    if (Number.isFinite(diff)) worst = Math.max(worst, diff);
  }
  return bad === 0 ? '' : `${bad} mismatches (rtol ${rtol}, atol ${atol}):\n${lines.join('\n')}\nmax |difference| = ${worst}`;
}
