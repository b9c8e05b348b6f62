import { Session } from 'node:inspector/promises';

/** A function's share of the CPU samples taken while the profiled work ran. */
export interface HotSpot {
  fn: string;
  share: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/**
 * Runs `work` under V8's sampling profiler (in this process, no flags) and returns the
 * functions with the most self time, idle excluded: where the time goes, measured each run.
 */
export async function profileHotSpots(work: () => Promise<void>, top = 6): Promise<HotSpot[]> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    await work();
    const { profile } = (await session.post('Profiler.stop')) as {
      profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    };
    const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    profile.samples.forEach((nodeId, i) => {
      const frame = byNode.get(nodeId)?.callFrame;
      if (!frame || frame.functionName === '(idle)' || frame.functionName === '(program)') return;
      // The profiler's own reply is sampled too; it is not the work's time.
      if (frame.url.startsWith('node:inspector')) return;
      const file = frame.url.split('/').slice(-2).join('/') || 'native';
      const key = `${frame.functionName || '(anonymous)'} (${file}:${frame.lineNumber + 1})`;
      self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
    return [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, time]) => ({ fn, share: time / total }));
  } finally {
    await session.post('Profiler.disable').catch(() => undefined);
    session.disconnect();
  }
}
