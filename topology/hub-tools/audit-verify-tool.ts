import { join } from 'node:path';
import { createSegmentStore, loadAuditKeys, openSubjectKeyFile, verifyChain } from '../../audit/index.ts';
import { HubError } from '../../core/errors.ts';
import type { BridgeTool } from '../../mcp-bridge/index.ts';

/**
 * `audit.verify`: checks every hash chain of the audit folder (links, hashes, signed
 * checkpoints; with `decrypt`, every body too) as `tributary audit verify` does, and answers
 * ok or the first bad entry with its chain, seq, file, line and reason.
 */

export interface AuditVerifyDeps {
  /** The audit store folder. */
  dir: string;
  /** The key file; without it the keys come from the environment (TRIBUTARY_AUDIT_KEYS...). */
  keyFile?: string;
  env?: NodeJS.ProcessEnv;
}

export function auditVerifyTool(deps: AuditVerifyDeps): BridgeTool {
  return {
    name: 'audit.verify',
    title: 'Verify the audit chain',
    description:
      'Verifies every audit hash chain (links, hashes, signed checkpoints; with decrypt, the bodies too). Answers ok, or the first bad entry and why.',
    mutating: false,
    inputSchema: {
      type: 'object',
      properties: {
        decrypt: {
          type: 'boolean',
          description: 'Also decrypt and authenticate every body.',
          default: false,
        },
      },
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        ok: { type: 'boolean' },
        chains: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              chain: { type: 'string' },
              entries: { type: 'integer' },
              checkpoints: { type: 'integer' },
              lastCheckpointSeq: { type: 'integer' },
              unsealed: { type: 'integer' },
              headHash: { type: 'string' },
            },
            required: ['chain', 'entries'],
          },
        },
        problem: {
          type: 'object',
          description: 'The first bad entry (only when ok is false).',
          properties: {
            chain: { type: 'string' },
            seq: { type: ['integer', 'null'] },
            file: { type: 'string' },
            line: { type: 'integer' },
            reason: { type: 'string' },
            message: { type: 'string' },
          },
          required: ['chain', 'reason', 'message'],
        },
      },
      required: ['ok', 'chains'],
    },
    async run(args) {
      const keys = await loadAuditKeys({
        ...(deps.keyFile ? { keyFile: deps.keyFile } : {}),
        ...(deps.env ? { env: deps.env } : {}),
      });
      const store = createSegmentStore({ dir: deps.dir });
      if ((await store.chainIds()).length === 0) {
        throw new HubError('AUDIT_NO_CHAINS', 'no audit chain in the audit folder', {
          where: { file: deps.dir },
          hint: 'is the audit consumer running (tributary up, or tributary audit run)?',
        });
      }
      const result = await verifyChain(store, keys, {
        decrypt: args.decrypt === true,
        subjectKeys: await openSubjectKeyFile(join(deps.dir, 'subject-keys.json'), keys),
      });
      const chains = result.chains.map((c) => ({
        chain: c.chain,
        entries: c.entries,
        checkpoints: c.checkpoints,
        lastCheckpointSeq: c.lastCheckpointSeq,
        unsealed: c.unsealed,
        headHash: c.headHash,
      }));
      if (result.ok) return { structuredContent: { ok: true, chains } };
      const p = result.problem;
      return {
        structuredContent: { ok: false, chains, problem: { ...p } },
        text: `audit chain ${p.chain} is broken at seq ${p.seq ?? '?'} (${p.file}:${p.line}): ${p.reason}: ${p.message}`,
      };
    },
  };
}
