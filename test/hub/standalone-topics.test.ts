import { afterAll, describe, expect, it } from 'vitest';
import { runStandalone } from '../../hub/standalone.ts';
import { ACTIONS_TOPIC } from '../../platform/index.ts';
import { recoveryToolsDeclaration } from '../../topology/recovery-declaration.ts';
import { createTopicsAndWait, testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

/**
 * A standalone runner makes only its registry topic; the topics its components write to come
 * from `tributary topology apply`. Started without them it says which are missing, since every
 * write to them (each audited request, to begin with) would wait out the producer's retries.
 */
describe('a standalone runner started before `tributary topology apply`', () => {
  const kafka = testKafka();
  const prefix = `${uniqueName('solo-topics')}.`;
  const admin = kafka.kafka.admin();
  afterAll(() => admin.disconnect());

  async function linesOfAStart(): Promise<string[]> {
    const lines: string[] = [];
    const running = await runStandalone({
      name: 'solo-topics',
      env: kafka.env,
      declarations: [recoveryToolsDeclaration],
      topicPrefix: prefix,
      http: { host: '127.0.0.1', port: 0 },
      say: (line) => lines.push(line),
    });
    await running.close('test');
    return lines;
  }

  it('names each topic its components write to that does not exist, then none once they do', async () => {
    const written = [...new Set([ACTIONS_TOPIC, ...recoveryToolsDeclaration.produces])]
      .map((t) => prefix + t)
      .sort();
    const warning = (await linesOfAStart()).find((l) =>
      l.startsWith('topics this process writes to do not exist'),
    );
    expect(warning).toBe(
      `topics this process writes to do not exist: ${written.join(', ')}; run \`tributary topology apply\` (until then writes to them wait out the producer's retries and fail)`,
    );

    await admin.connect();
    await createTopicsAndWait(admin, { topics: written.map((topic) => ({ topic, numPartitions: 1 })) });
    expect((await linesOfAStart()).filter((l) => l.includes('do not exist'))).toEqual([]);
  });
});
