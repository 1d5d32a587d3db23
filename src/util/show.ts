/**
 * A value as an error message shows it, whatever it is: template literals throw on a Symbol, on an object whose
 * toString throws, and on a Proxy of a typed array (its join throws); those become a short description instead.
 * Numbers, strings and booleans print as `${value}` does, so existing messages stay the same.
 */
import { types } from 'node:util';

export function show(value: unknown): string {
  if (typeof value === 'symbol' || typeof value === 'bigint') return typeof value === 'bigint' ? `${value}n` : value.toString();
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? 'a function' : String(value);
  if (types.isProxy(value)) return 'a Proxy';
  if (Array.isArray(value)) return value.length > 16 ? `an array of ${value.length} values` : `[${Array.from(value, show).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `a ${Object.getPrototypeOf(value)?.constructor?.name ?? 'typed array'}`;
  return Object.prototype.toString.call(value).slice(8, -1) === 'Object' ? 'an object' : `a ${Object.prototype.toString.call(value).slice(8, -1)}`;
}

/** JSON.stringify(value) for a message, or show(value) when it does not serialize (a BigInt, a cycle, a throwing getter). */
export function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? show(value);
  } catch {
    return show(value);
  }
}
