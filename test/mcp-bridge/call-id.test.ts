import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { commandIdFor, IDEMPOTENCY_META_KEY, idempotencyKeyOf } from '../../mcp-bridge/call-id.ts';

describe('idempotency keys of tool calls', () => {
  it('reads the key from _meta, else from the Idempotency-Key header', () => {
    expect(idempotencyKeyOf({ [IDEMPOTENCY_META_KEY]: 'k1' }, { 'idempotency-key': 'h' })).toBe('k1');
    expect(idempotencyKeyOf(undefined, { 'idempotency-key': ['h1', 'h2'] })).toBe('h1');
    expect(idempotencyKeyOf({}, {})).toBeUndefined();
  });

  it('refuses a key that is not a string of 1 to 200 characters, naming the field', () => {
    for (const bad of [42, '', 'x'.repeat(201), { k: 1 }]) {
      let caught: unknown;
      try {
        idempotencyKeyOf({ [IDEMPOTENCY_META_KEY]: bad }, undefined);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(McpError);
      expect((caught as Error).message).toContain(IDEMPOTENCY_META_KEY);
    }
  });

  it('derives one UUIDv5 command id per caller, tool and key', () => {
    const id = commandIdFor('alice', 'crm.account.upsert', 'k1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(commandIdFor('alice', 'crm.account.upsert', 'k1')).toBe(id);
    const others = [
      commandIdFor('bob', 'crm.account.upsert', 'k1'),
      commandIdFor('alice', 'crm.contact.upsert', 'k1'),
      commandIdFor('alice', 'crm.account.upsert', 'k2'),
      // The separator keeps "a"+"b\u0000c" apart from "a\u0000b"+"c".
      commandIdFor('alice\u0000crm.account.upsert', 'k1', ''),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
  });
});
