/** Constructor argument checks shared by the layers: a RangeError or TypeError naming the layer and argument. */
export function checkPositiveInt(layer: string, name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${layer}: ${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${layer}: ${name} must be a positive integer, got ${value}`);
  return value;
}

export function checkNonNegativeInt(layer: string, name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${layer}: ${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${layer}: ${name} must be an integer >= 0, got ${value}`);
  return value;
}
