import { join } from 'node:path';
import type { Checkpoint } from './entry.ts';
import type { AuditKeyRing } from './keys.ts';
import { createSegmentStore } from './segment-store.ts';
import type { AuditStore } from './store.ts';
import { openSubjectKeyFile } from './subject-keys.ts';
import { type ChainReport, type VerifyProblem, type VerifyResult, verifyChain } from './verify.ts';

export interface VerifyDirOptions {
  /** The audit store folder (chain-<id>/ segments and subject-keys.json). */
  dir: string;
  keys: AuditKeyRing;
  /** Also decrypt and authenticate every entry body. */
  decrypt?: boolean;
  /** Checkpoints anchored elsewhere (Kafka), read only when the folder has chains. */
  anchors?: () => Promise<Map<string, Checkpoint>>;
  /** Names the anchors' origin in problems. */
  anchorOrigin?: string;
  /** Only these chains (default: every chain in the folder). */
  chains?: readonly string[];
}

/** A store that shows only some of its chains, so each can be verified on its own. */
const onlyChains = (store: AuditStore, chains: readonly string[]): AuditStore => ({
  location: store.location,
  chainIds: async () => (await store.chainIds()).filter((id) => chains.includes(id)),
  openAppender: (id) => store.openAppender(id),
  readEntries: (id) => store.readEntries(id),
  readCheckpoints: (id) => store.readCheckpoints(id),
  lastSourceOffsets: () => store.lastSourceOffsets(),
  activeWriter: (id) => store.activeWriter(id),
});

/**
 * What `tributary audit verify` computes for a store folder: every chain's hashes, sequence,
 * signatures and checkpoints (and bodies with `decrypt`); null when the folder holds no chain.
 */
export async function verifyAuditDir(options: VerifyDirOptions): Promise<VerifyResult | null> {
  const all = createSegmentStore({ dir: options.dir });
  const store = options.chains ? onlyChains(all, options.chains) : all;
  if ((await store.chainIds()).length === 0) return null;
  const subjectKeys = await openSubjectKeyFile(join(options.dir, 'subject-keys.json'), options.keys);
  const anchors = options.anchors ? await options.anchors() : undefined;
  return await verifyChain(store, options.keys, {
    decrypt: options.decrypt ?? false,
    subjectKeys,
    ...(anchors ? { anchors, ...(options.anchorOrigin ? { anchorOrigin: options.anchorOrigin } : {}) } : {}),
  });
}

/** One chain's verification: its report when it holds, else the first bad entry and why. */
export type ChainVerdict =
  | { chain: string; ok: true; report: ChainReport }
  | { chain: string; ok: false; problem: VerifyProblem };

/**
 * Verifies every chain of a folder on its own, so a broken chain does not hide the state of the
 * others (verify stops at the first problem of the chains it checks).
 */
export async function verifyEachChain(options: Omit<VerifyDirOptions, 'chains'>): Promise<ChainVerdict[]> {
  const ids = await createSegmentStore({ dir: options.dir }).chainIds();
  const verdicts: ChainVerdict[] = [];
  for (const chain of ids) {
    const result = await verifyAuditDir({ ...options, chains: [chain] });
    if (!result) continue;
    if (!result.ok) verdicts.push({ chain, ok: false, problem: result.problem });
    else if (result.chains[0]) verdicts.push({ chain, ok: true, report: result.chains[0] });
  }
  return verdicts;
}
