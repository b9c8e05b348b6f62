import { describe, expect, it } from 'vitest';
import { hubDeclaration } from '../../platform/hub-declaration.ts';
import { processorDeclarations } from '../../processors/index.ts';
import { loadCatalog } from '../../schemas/index.ts';
import { buildTopology } from '../../topology/build.ts';

describe('processor declarations', () => {
  const declarations = Object.values(processorDeclarations);

  it('build a valid topology with the hub: request, result, DLQ and progress topics', async () => {
    const catalog = await loadCatalog();
    const topology = buildTopology([hubDeclaration, ...declarations], {
      schemaExists: (n) => catalog.has(n),
    });
    const names = topology.topics.map((t) => t.name);
    for (const base of [
      'image.analyze',
      'audio.transcribe',
      'speech.synthesize',
      'podcast.create',
      'chart.render',
    ]) {
      expect(names).toContain(`media.${base}.req`);
      expect(names).toContain(`media.${base}.req.dlq`);
      expect(names).toContain(`media.${base}.res`);
    }
    expect(names).toContain('media.job.progress');
  });

  it('declare each command on a topic they own, answered on their result topic', () => {
    const commands = declarations.flatMap((d) => (d.commands ?? []).map((c) => ({ ...c, owner: d })));
    expect(commands.map((c) => c.name).sort()).toEqual([
      'audio.transcribe',
      'chart.render',
      'image.analyze',
      'podcast.create',
      'speech.synthesize',
    ]);
    for (const c of commands) {
      expect(c.owner.topics.map((t) => t.name)).toContain(c.topic);
      expect(c.owner.produces).toContain(c.resultTopic);
      expect(c.owner.consumes).toContain(c.topic);
    }
  });

  it('have configs whose defaults parse from nothing', () => {
    for (const d of declarations) {
      const config = d.config.parse({}) as { runner: { maxConcurrent: number }; blobDir: string };
      expect(config.runner.maxConcurrent).toBeGreaterThan(0);
      expect(config.blobDir).toBeTruthy();
    }
  });
});
