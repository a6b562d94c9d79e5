/** @petrel/cli: the `petrel` command's pieces, for tests and tools that start or poke a cluster. */
export { startChild, stopChildren, type ChildServer } from './onebox.js';
export { RawCluster, freePort } from './raw_cluster.js';
export { runShell, shellUsage, SHELL_FLAGS } from './shell/shell.js';
export { tokenizeLine, type Token } from './shell/tokenizer.js';
export { escapeBytes, quoteBytes } from './shell/escape.js';
export { formatTable, formatPairs } from './shell/format.js';
export { COMMANDS as SHELL_COMMANDS, commandNames as shellCommandNames } from './shell/command_table.js';
export { difference, histogramQuantile, parseMetricsText, sumOf, type Sample as MetricSample } from './shell/metrics_text.js';
