import { describe, expect, it } from 'vitest';
import { ingressDeclaration, ingressTypesOf } from '../../ingress/index.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { loadCatalog } from '../../schemas/index.ts';
import { pushTargetDeclaration } from './fixture.ts';

describe('ingress declaration', () => {
  it('derives what it produces from the other components’ commands, lazily, and owns no topic', async () => {
    const list: ComponentDeclaration<unknown>[] = [];
    const declaration = ingressDeclaration(() => list);
    list.push(pushTargetDeclaration, declaration as ComponentDeclaration<unknown>);
    expect(declaration.kind).toBe('ingress');
    expect(declaration.topics).toEqual([]);
    expect(declaration.produces).toEqual([
      'hub.actions',
      'crm.account.upsert.cmd',
      'media.image.analyze.req',
    ]);
    expect(declaration.config.parse({})).toMatchObject({ port: 7400, maxBodyBytes: 256 * 1024 });
  });

  it('resolves types by command, with the topic prefix, and refuses a command on an undeclared topic', async () => {
    const catalog = await loadCatalog();
    const types = ingressTypesOf([pushTargetDeclaration], catalog, 'p.');
    expect(types.map((t) => [t.name, t.schema, t.topic])).toEqual([
      ['crm.account.upsert', 'tributary.crm.AccountUpsert', 'p.crm.account.upsert.cmd'],
      ['image.analyze', 'tributary.media.ImageAnalyzeRequest', 'p.media.image.analyze.req'],
    ]);
    const broken = { ...pushTargetDeclaration, topics: [] };
    expect(() => ingressTypesOf([broken], catalog)).toThrow(/INGRESS_TOPIC_UNDECLARED|no component declares/);
  });
});
