/**
 * A throwaway ZooKeeper for tests: Debian's `zookeeper` package (3.8) started standalone on a free
 * port of 127.0.0.1 with its data in a temporary directory. `findZookeeper()` says whether it is
 * installed (tests skip with a clear message when not: `apt-get install zookeeper`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const JAVA_DIR = '/usr/share/java';

/** The classpath of the installed ZooKeeper, or undefined. */
export function findZookeeper(): string | undefined {
  if (!existsSync(JAVA_DIR) || !existsSync('/usr/bin/java')) return undefined;
  if (!readdirSync(JAVA_DIR).some((name) => /^zookeeper(-3[\d.]*)?\.jar$/.test(name))) return undefined;
  return `/etc/zookeeper/conf:${JAVA_DIR}/*`;
}

export const ZOOKEEPER_MISSING = 'ZooKeeper is not installed (Debian: apt-get install zookeeper); skipping';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/**
 * Whether the server serves: its port accepts a connection and the four-letter `srvr` command
 * answers with its status. It listens before it serves, and a client that connects in between may
 * be turned away (or, rarely, left without an answer).
 */
function isServing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('connect', () => socket.write('srvr'));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.once('error', () => undefined);
    socket.once('close', () => resolve(answer.includes('Mode: standalone')));
  });
}

export class ZookeeperServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly classpath: string,
  ) {}

  /** `host:port` for clients. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<ZookeeperServer> {
    const classpath = findZookeeper();
    if (classpath === undefined) throw new Error(ZOOKEEPER_MISSING);
    const server = new ZookeeperServer(await freePort(), mkdtempSync(join(tmpdir(), 'petrel-zk-')), classpath);
    await server.run();
    return server;
  }

  private async run(): Promise<void> {
    const config = join(this.dir, 'zoo.cfg');
    writeFileSync(
      config,
      [`dataDir=${join(this.dir, 'data')}`, `clientPort=${this.port}`, 'clientPortAddress=127.0.0.1', 'tickTime=500', 'minSessionTimeout=1000', 'maxSessionTimeout=20000', 'admin.enableServer=false', '4lw.commands.whitelist=srvr'].join('\n') + '\n',
    );
    const child = spawn('java', ['-Xmx256m', '-Dzookeeper.log.dir=' + this.dir, '-cp', this.classpath, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    this.process = child;
    const deadline = Date.now() + 30_000;
    while (!(await isServing(this.port))) {
      if (child.exitCode !== null) throw new Error(`ZooKeeper exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`ZooKeeper did not serve on ${this.port} within 30 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops the server (SIGKILL), keeping its data: `restart()` brings it back. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.run();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
