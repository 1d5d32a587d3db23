#!/usr/bin/env node
/**
 * The `normnet` command. Commands: `info` (backend, CPU path, threads), `--version`, `--help`.
 * Training, evaluation and experiments come as further commands.
 */
import { getBackend } from '../kernels/backend.js';
import { version } from '../version.js';

const USAGE = `Usage: normnet <command> [options]

Commands:
  info [--json]   which backend loaded, the CPU path it takes (avx512 / avx2 / generic) and its threads

Options:
  --version       print the version
  --help          print this help

Environment:
  NORMNET_BACKEND       native | ts (default: native when the addon loads)
  NORMNET_NUM_THREADS   threads of the native pool (default: the machine's cores)
  NORMNET_ISA           force a lower CPU path: avx2 | generic`;

function info(args: string[]): number {
  const unknown = args.filter((arg) => arg !== '--json');
  if (unknown.length > 0) return usageError(`unknown option for info: ${unknown[0]}`);
  const details = { version, node: process.version, platform: `${process.platform}-${process.arch}`, ...getBackend().info() };
  if (args.includes('--json')) {
    console.log(JSON.stringify(details));
  } else {
    console.log(`normnet ${details.version} (node ${details.node}, ${details.platform})`);
    console.log(`backend:  ${details.backend}${details.addonPath ? ` (${details.addonPath})` : ''}`);
    console.log(`cpu path: ${details.isa} (best on this CPU: ${details.detectedIsa})`);
    console.log(`threads:  ${details.threads}`);
  }
  return 0;
}

function usageError(message: string): number {
  console.error(`normnet: ${message} (see normnet --help)`);
  return 2;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command) {
    case '--version':
    case '-v':
      console.log(version);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return 0;
    case 'info':
      return info(rest);
    default:
      return usageError(`unknown command: ${command}`);
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(`normnet: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
