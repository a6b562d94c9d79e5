/**
 * The `petrel` command: `meta`, `replica`, `onebox`, `shell`, `bench` (and `help`). Usage errors print the
 * command's usage and exit 2; failures print the error's code and message and exit 1.
 */
import { isPetrelError } from '@petrel/base';
import { UsageError, usage } from './args.js';
import { benchHelp, runBench } from './bench.js';
import { ONEBOX_FLAGS, runOnebox } from './onebox.js';
import { META_FLAGS, REPLICA_FLAGS, runMeta, runReplica } from './servers.js';
import { runShell, shellUsage } from './shell/shell.js';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<void>; help: () => string; summary: string }> = {
  meta: { run: runMeta, summary: 'run a meta server', help: () => usage('meta', 'Runs a meta server.', META_FLAGS) },
  replica: { run: runReplica, summary: 'run a replica server', help: () => usage('replica', 'Runs a replica server.', REPLICA_FLAGS) },
  onebox: { run: runOnebox, summary: 'run a local cluster (1 meta + N replica servers)', help: () => usage('onebox', 'Runs a local cluster.', ONEBOX_FLAGS) },
  shell: { run: runShell, summary: 'the admin shell (interactive, -e "commands", or a script on stdin)', help: shellUsage },
  bench: { run: runBench, summary: 'the YCSB cluster benchmark against Redis and etcd (needs a checkout; = npm run bench:cluster)', help: benchHelp },
};

function overview(): string {
  return ['usage: petrel <command> [flags]', '', 'commands:', ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`), '', 'petrel <command> --help shows its flags.'].join('\n');
}

// A server started by onebox (or a test) stops when the process that started it is gone — killed
// with -9, it cannot stop its children itself. Set by startChild; servers started otherwise
// (systemd, a shell) never see it.
const parent = Number(process.env.PETREL_PARENT_PID);
if (Number.isInteger(parent) && parent > 0) {
  setInterval(() => {
    if (process.ppid !== parent) {
      console.error('petrel: the process that started this server is gone; stopping');
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1000).unref();
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
  console.log(overview());
} else {
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`petrel: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    process.exitCode = 2;
  } else {
    try {
      await command.run(args);
    } catch (error) {
      if (error instanceof UsageError) {
        console.error(`petrel ${name}: ${error.message}\n\n${command.help()}`);
        process.exitCode = 2;
      } else {
        console.error(`petrel ${name}: ${isPetrelError(error) ? `${error.code}: ${error.message}` : String(error)}`);
        process.exitCode = 1;
      }
    }
  }
}
