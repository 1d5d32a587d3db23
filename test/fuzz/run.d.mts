/** Types of run.mjs, for test/fuzz.test.ts. */
export const GROUPS: string[];
export interface FuzzSummary {
  group: string;
  seed: number;
  runs: number;
  skipped?: string;
  targets: { name: string; calls: number; seconds: number }[];
  findings: { target: string; why: string; counterexample: string; replay: string }[];
  known: { target: string; why: string; known: string }[];
  handles: string[];
}
export interface ChildResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  seconds: number;
  summary?: FuzzSummary;
  stderr: string;
  lastCall: string;
}
export function runChild(args: string[], timeoutMs: number): Promise<ChildResult>;
export function problems(result: ChildResult): string[];
