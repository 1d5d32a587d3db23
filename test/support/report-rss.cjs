// Preloaded into a child process (node -r): prints its peak resident set size on stderr as it exits.
process.on('exit', () => process.stderr.write(`\nnormnet-test maxRSS ${process.resourceUsage().maxRSS}\n`));
