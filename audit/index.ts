/**
 * Public surface of the audit: the consumer and its declaration, the chain verifier, the
 * readers behind `tributary audit show`, and key management. Import from here only.
 */
export { UNDECODABLE_ACTION } from './action-record.ts';
export { ANCHOR_TOPIC, publishAnchor, readAnchors } from './anchors.ts';
export {
  type ChainWriter,
  type ChainWriterOptions,
  createChainWriter,
  openChainWriter,
} from './chain-writer.ts';
export {
  type AuditConsumer,
  type AuditConsumerConfig,
  type AuditConsumerDeps,
  auditConsumerConfigSchema,
  createAuditConsumer,
} from './consumer.ts';
export { auditDeclaration } from './declaration.ts';
export { type DecryptedBody, decryptEntry } from './decrypt.ts';
export {
  type ActionRecord,
  type AuditEntry,
  type Checkpoint,
  entryHash,
  genesisHash,
  type Outcome,
  type SensitiveBody,
  type SourcePosition,
} from './entry.ts';
export {
  type AuditKeyFile,
  type AuditKeyRing,
  createKeyFile,
  generateAuditKeyFile,
  loadAuditKeys,
  parseAuditKeys,
  rotateKeyFile,
} from './keys.ts';
export { createSegmentStore, type SegmentStoreConfig } from './segment-store.ts';
export { readAuditEntries, type ShowFilter, type ShownEntry } from './show.ts';
export { type AuditStore, type ChainAppender, type ChainState, chainIdForPartition } from './store.ts';
export { openSubjectKeyFile, type SubjectKeyStore } from './subject-keys.ts';
export {
  type ChainReport,
  type VerifyProblem,
  type VerifyReason,
  type VerifyResult,
  verifyChain,
} from './verify.ts';
