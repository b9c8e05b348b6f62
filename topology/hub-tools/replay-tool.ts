import { HubError } from '../../core/errors.ts';
import type { BridgeTool } from '../../mcp-bridge/index.ts';
import type { ActionEmitter, HubContext } from '../../platform/index.ts';
import {
  createTopicCheckpointStore,
  formatPosition,
  parsePosition,
  replayIdFor,
  replayInto,
  resetGroupOffsets,
} from '../replay/index.ts';

/**
 * `replay.start`: the tool form of `tributary replay`. Either copies a range of a topic into
 * another (`into`, resumable by replay id) or moves an inactive consumer group back (`groupId`),
 * so its consumers see the records again. `dryRun` returns the plan and changes nothing.
 */

export interface ReplayToolDeps {
  hub: HubContext;
  actions: ActionEmitter;
  /** Topic of replay checkpoints (default `_tributary.replays`). */
  checkpointTopic?: string;
}

const position = (what: string) => ({
  type: 'string',
  description: `${what}: earliest, latest, an ISO-8601 time, epoch millis, offset:<n> or <partition>:<offset>,...`,
});

export function replayStartTool(deps: ReplayToolDeps): BridgeTool {
  return {
    name: 'replay.start',
    title: 'Replay events',
    description:
      'Re-publishes a range of a topic into another topic (into), or resets an inactive consumer group to a point (groupId) so it consumes again. dryRun shows the plan only.',
    mutating: true,
    inputSchema: {
      type: 'object',
      properties: {
        topic: { type: 'string', description: 'Source topic.' },
        from: position('Start of the range (for a group: where it restarts)'),
        to: position('End of the range, exclusive (into only; default: the end of the log now)'),
        into: { type: 'string', description: 'Target topic of a copy (give into or groupId).' },
        groupId: { type: 'string', description: 'Consumer group to reset (give into or groupId).' },
        types: {
          type: 'array',
          items: { type: 'string' },
          description: 'Only events of these envelope types (into only).',
        },
        createTarget: { type: 'boolean', description: 'Create the into topic when missing.' },
        dryRun: { type: 'boolean', description: 'Plan only, change nothing.', default: false },
      },
      required: ['topic', 'from'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        mode: { type: 'string', enum: ['into', 'group'] },
        dryRun: { type: 'boolean' },
        summary: { type: 'string', description: 'One line saying what happened or would happen.' },
        replayId: { type: 'string' },
        status: { type: 'string' },
        total: { type: 'integer', description: 'Source records in the range.' },
        matching: { type: 'integer', description: 'Records a dry run would write.' },
        written: { type: 'integer' },
        writtenNow: { type: 'integer' },
        groupState: { type: 'string' },
        partitions: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              partition: { type: 'integer' },
              current: { type: ['string', 'null'] },
              next: { type: 'string' },
            },
          },
        },
      },
      required: ['mode', 'dryRun', 'summary'],
    },
    async run(args, context) {
      const topic = String(args.topic);
      const into = typeof args.into === 'string' ? args.into : undefined;
      const groupId = typeof args.groupId === 'string' ? args.groupId : undefined;
      const dryRun = args.dryRun === true;
      if ((into === undefined) === (groupId === undefined)) {
        throw new HubError('REPLAY_BAD_REQUEST', 'give either into (a topic) or groupId (a consumer group)');
      }
      const from = parsePosition(String(args.from), 'from');
      const actor = context.identity.sub;
      if (groupId !== undefined) {
        if (args.to !== undefined || args.types !== undefined) {
          throw new HubError('REPLAY_BAD_REQUEST', 'to and types apply to copies (into) only');
        }
        const r = await resetGroupOffsets({
          kafka: deps.hub.kafka,
          groupId,
          topic,
          to: from,
          dryRun,
          actions: deps.actions,
          actor,
        });
        return {
          structuredContent: {
            mode: 'group',
            dryRun,
            summary: `${r.applied ? 'reset' : 'would reset'} group ${groupId} on ${topic} to ${r.to} (${r.partitions.length} partitions, group ${r.state})`,
            groupState: r.state,
            partitions: r.partitions,
          },
        };
      }
      const target = into as string;
      const to = typeof args.to === 'string' ? parsePosition(args.to, 'to') : undefined;
      const types = Array.isArray(args.types) ? args.types.map(String) : [];
      const id = replayIdFor({
        topic,
        into: target,
        from: formatPosition(from),
        to: to ? formatPosition(to) : 'latest',
        filter: types,
      });
      const r = await replayInto({
        hub: deps.hub,
        checkpoints: createTopicCheckpointStore({
          kafka: deps.hub.kafka,
          producer: deps.hub.producer,
          ...(deps.checkpointTopic ? { topic: deps.checkpointTopic } : {}),
        }),
        topic,
        into: target,
        from,
        ...(to ? { to } : {}),
        filter: { types },
        id,
        dryRun,
        createTarget: args.createTarget === true,
        actions: deps.actions,
        actor,
        signal: context.signal,
        onProgress: (p) => void context.progress(p.scanned, p.total).catch(() => undefined),
      });
      const summary =
        r.status === 'dry-run'
          ? `would copy ${r.matching ?? r.total} of ${r.total} records from ${topic} into ${target}`
          : `copied ${r.writtenNow} records from ${topic} into ${target} (${r.written} in all, replay ${r.id} ${r.status})`;
      return {
        structuredContent: {
          mode: 'into',
          dryRun,
          summary,
          replayId: r.id,
          status: r.status,
          total: r.total,
          ...(r.matching !== undefined ? { matching: r.matching } : {}),
          written: r.written,
          writtenNow: r.writtenNow,
        },
      };
    },
  };
}
