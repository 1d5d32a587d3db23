/**
 * A bad user data file (CSV, .npy, idx pair) is a DataFileError whose message starts with the file as the user
 * named it, then where in it (`line 7, column "sepal_len"` for CSV, `sample 3, feature 2` for arrays), then what
 * is wrong. The two value rules every reader shares live here too, so a feature or a label is judged the same
 * way whichever format it came in: features must be finite float32, labels class indices (integers >= 0).
 */
import { readFileSync } from 'node:fs';

export class DataFileError extends Error {
  override name = 'DataFileError';
}

/** The file's bytes; a missing or unreadable file is a DataFileError naming it. */
export function readDataFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new DataFileError(`${path}: cannot read: ${(error as Error).message}`);
  }
}

/** Why `value` cannot be a feature, or null when it can: it must stay finite as a float32. */
export function featureProblem(value: number): string | null {
  if (!Number.isFinite(value)) return 'is not a finite number';
  // A float64 .npy value or a CSV number like 1e39 is finite but would become Infinity in the float32 batch.
  if (!Number.isFinite(Math.fround(value))) return 'is beyond the float32 range';
  return null;
}

/** Why `value` cannot be a label, or null when it can: an integer >= 0 that fits the Int32Array of labels. */
export function labelProblem(value: number): string | null {
  if (!Number.isInteger(value) || value < 0) return 'is not a class index (an integer >= 0)';
  if (value > 0x7fffffff) return 'is too large a class index (at most 2147483647)';
  return null;
}
