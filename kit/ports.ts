import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { HubError } from '../core/errors.ts';

/** A server listening on host:port (port 0: one the OS picks), or undefined when it is taken. */
function holdPort(port: number, host: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

const release = (server: Server) => new Promise((resolve) => server.close(resolve));

/** True when nothing listens on host:port (we could bind it ourselves). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = await holdPort(port, host);
  if (server) await release(server);
  return server !== undefined;
}

/** The first port of the OS's ephemeral range, where outgoing connections take their local ports. */
async function ephemeralLow(): Promise<number> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  return Number(text.trim().split(/\s+/)[0]) || 32768;
}

/** Lowest port freePorts picks from when the ephemeral range leaves room below it. */
const pickFloor = 15_000;

/**
 * `count` distinct free ports, free now, not reserved. They are picked at random below the OS's
 * ephemeral range when there is room, because a port there is never handed to an outgoing
 * connection: a server that takes seconds to bind (a JVM) would otherwise, on a busy machine,
 * find its port used as the local end of some client's connection. Each port is held while the
 * rest are chosen, so they are distinct; otherwise the OS chooses (port 0).
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const low = await ephemeralLow();
  const held: Server[] = [];
  try {
    for (let tries = 0; held.length < count && low - pickFloor >= 1000 && tries < count * 50; tries++) {
      const server = await holdPort(pickFloor + Math.floor(Math.random() * (low - pickFloor)), host);
      if (server) held.push(server);
    }
    while (held.length < count) {
      const server = await holdPort(0, host);
      if (!server) throw new Error(`no free port on ${host}`);
      held.push(server);
    }
    return held.map((s) => {
      const address = s.address();
      return typeof address === 'object' && address ? address.port : 0;
    });
  } finally {
    await Promise.all(held.map(release));
  }
}

export interface PortOwner {
  pid: number;
  command: string;
}

/** Best effort (Linux /proc): which process listens on a TCP port. Undefined when unknown. */
export async function findPortOwner(port: number): Promise<PortOwner | undefined> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local_address rem_address st ... uid timeout inode
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        return { pid: Number(pid), command: cmdline.split('\0').filter(Boolean).join(' ').slice(0, 200) };
      }
    }
  }
  return undefined;
}

/** Throws KIT_PORT_TAKEN naming the first taken port and, when findable, the process holding it. */
export async function assertPortsFree(
  ports: Array<{ port: number; role: string }>,
  host = '127.0.0.1',
): Promise<void> {
  for (const { port, role } of ports) {
    if (await isPortFree(port, host)) continue;
    const owner = await findPortOwner(port);
    const by = owner ? ` by pid ${owner.pid} (${owner.command})` : ' by another process';
    throw new HubError('KIT_PORT_TAKEN', `Port ${port} (${role}) on ${host} is already in use${by}`, {
      where: { port, ...(owner ? { pid: owner.pid } : {}) },
      hint: 'stop that process, or choose other ports with --port <base> (the kit uses <base>..<base>+2n-1)',
    });
  }
}
