import { spawn } from 'node:child_process';

/**
 * A tiny detached Node process that kills a cluster's brokers (and optionally deletes its
 * folder) when the process that owns the cluster dies without stopping it: a test run killed
 * by a timeout or Ctrl-C must not leave 512 MB JVMs behind. It reads cluster.json on each tick,
 * so nodes restarted later are covered too, and exits by itself once the brokers are gone.
 */
const script = `
const fs = require('node:fs');
const [ownerPid, dataDir, purge] = [Number(process.argv[1]), process.argv[2], process.argv[3] === 'purge'];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const ours = (pid) => { try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').includes('tributary.kafka.node'); } catch { return true; } };
setInterval(() => {
  let nodes = [];
  try { nodes = JSON.parse(fs.readFileSync(dataDir + '/cluster.json', 'utf8')).nodes; } catch {}
  const pids = nodes.map((n) => n.pid).filter((p) => p && alive(p) && ours(p));
  if (alive(ownerPid)) return;
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  if (purge) { try { fs.rmSync(dataDir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
}, 1000);
`;

/** Starts the watchdog for the cluster in `dataDir`, tied to `ownerPid`; returns its pid. */
export function startClusterWatchdog(options: {
  ownerPid: number;
  dataDir: string;
  purge?: boolean;
}): number {
  const child = spawn(
    process.execPath,
    ['-e', script, String(options.ownerPid), options.dataDir, options.purge ? 'purge' : 'keep'],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  return child.pid ?? -1;
}

/** Stops a watchdog once its cluster was stopped properly. */
export function stopClusterWatchdog(pid: number | undefined): void {
  if (!pid || pid <= 0) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
