/**
 * The command line's side of the options: the flag parser and the help text, both driven by the option
 * tables of src/train/config.ts. Unknown flags are UsageErrors.
 */
import { parseValue, TRAIN_OPTIONS, type OptionSpec } from '../train/config.js';

/** A misuse of the command line (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Parses a command's arguments into raw config values: `--flag value`, `--flag=value`, `--no-flag` for
 * booleans, and the command's own switches (listed in `switches`). `table` gives the options (default
 * `normnet train`'s). Unknown flags are UsageErrors.
 */
export function parseFlags(args: readonly string[], switches: readonly string[], valued: readonly string[], table: readonly OptionSpec[] = TRAIN_OPTIONS): { options: Record<string, unknown>; switches: Set<string>; values: Record<string, string> } {
  const options: Record<string, unknown> = {};
  const seen = new Set<string>();
  const values: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument: ${arg}`);
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const takeValue = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= args.length || args[i + 1].startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return args[++i];
    };
    if (switches.includes(flag)) {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
      seen.add(flag);
      continue;
    }
    if (valued.includes(flag)) {
      values[flag] = takeValue();
      continue;
    }
    const negated = flag.startsWith('--no-') ? table.find((o) => o.flag === `--${flag.slice(5)}` && o.type.kind === 'boolean') : undefined;
    if (negated) {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
      options[negated.key] = false;
      continue;
    }
    const spec = table.find((o) => o.flag === flag);
    if (!spec) throw new UsageError(`unknown option: ${flag}`);
    options[spec.key] = spec.type.kind === 'boolean' && inline === undefined ? true : parseValue(spec, takeValue(), flag);
  }
  return { options, switches: seen, values };
}

/** The integer value of a command's own flag (`values` from parseFlags), if given; below `min` is a UsageError. */
export function integerFlag(values: Record<string, string>, flag: string, min: number): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${raw}`);
  return value;
}

/** One line per option; `defaults` (by key) are shown after the help. */
export function optionsHelp(table: readonly OptionSpec[] = TRAIN_OPTIONS, defaults: Record<string, unknown> = {}): string {
  const shown = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));
  return table.map((o) => `  ${(o.flag + (o.type.kind === 'boolean' ? '' : ' V')).padEnd(18)} ${o.help}${defaults[o.key] !== undefined ? ` (default ${shown(defaults[o.key])})` : ''}`).join('\n');
}
