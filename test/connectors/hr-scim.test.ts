import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScimChanges } from '../../connectors/hr/scim-client.ts';
import { deactivateEmployee, upsertEmployee } from '../../connectors/hr/sink.ts';
import { createHttpClient, type HttpClient } from '../../connectors/runtime/http-client.ts';
import type { SourceCursor } from '../../connectors/runtime/source-types.ts';
import { HubError } from '../../core/errors.ts';
import { type HrServer, startHrServer } from '../../demo/hr-server/server.ts';

// The SCIM protocol layer of the HR connector against scimmy, without Kafka.
let hr: HrServer;
let http: HttpClient;
const signal = new AbortController().signal;
const ctx = () => ({ commandId: crypto.randomUUID(), signal });
const employee = (userName: string, extra: Record<string, unknown> = {}) => ({
  userName,
  givenName: 'Grace',
  familyName: 'Hopper',
  email: `${userName}@corp.test`,
  active: true,
  employeeNumber: '1906',
  department: 'Navy',
  managerId: null,
  ...extra,
});

beforeAll(async () => {
  hr = await startHrServer();
  http = createHttpClient({
    endpoints: { urls: [hr.url] },
    auth: { type: 'bearer', token: { value: hr.token } },
    retry: { retries: 3, initialDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 1_000 },
  });
});
afterAll(async () => {
  http?.close();
  await hr?.close();
});

describe('employee pushes over SCIM', () => {
  it('creates, patches only what changed, skips a no-op and deactivates', async () => {
    expect((await upsertEmployee(http, employee('grace.h'), ctx())).status).toBe(201);
    await upsertEmployee(http, employee('grace.h', { department: 'Research', givenName: null }), ctx());
    const user = [...hr.users.values()].find((u) => u.userName === 'grace.h')!;
    expect(
      (user['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'] as { department: string })
        .department,
    ).toBe('Research');
    expect((user.name as { givenName: string }).givenName).toBe('Grace');
    expect(hr.changes.get('Users:grace.h')).toBe(2);
    // The same command again changes nothing, so nothing is written.
    const again = await upsertEmployee(http, employee('grace.h', { department: 'Research' }), ctx());
    expect(again.answer).toMatchObject({ unchanged: true });
    expect(hr.changes.get('Users:grace.h')).toBe(2);
    await deactivateEmployee(http, { userName: 'grace.h' }, ctx());
    expect([...hr.users.values()].find((u) => u.userName === 'grace.h')!.active).toBe(false);
    expect(hr.changes.get('Users:grace.h')).toBe(3);
  });

  it('converges when a create was applied but its answer lost (409 on retry)', async () => {
    hr.faults.inject({ kind: 'apply-then-drop' }, 1, (req) => req.method === 'POST');
    const res = await upsertEmployee(http, employee('ada.l'), ctx());
    expect(res.answer).toMatchObject({ unchanged: true });
    expect(hr.changes.get('Users:ada.l')).toBe(1);
  });

  it('fails a deactivation of an unknown employee for good, naming the 404', async () => {
    const err = (await deactivateEmployee(http, { userName: 'nobody' }, ctx()).catch(
      (e: unknown) => e,
    )) as HubError & { status: number };
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe('HR_USER_NOT_FOUND');
    expect(err.retriable).toBe(false);
    expect(err.status).toBe(404);
  });
});

describe('change reads over SCIM', () => {
  it('reads every user once across pages and stops at the end even though scimmy ignores a startIndex past it', async () => {
    for (let i = 0; i < 9; i++) await upsertEmployee(http, employee(`page.${i}`), ctx());
    const all = [...hr.users.values()].map((u) => u.id);
    const seen: string[] = [];
    let cursor: SourceCursor | undefined;
    for await (const page of readScimChanges(http, { resource: 'Users', pageSize: 4 }, undefined, signal)) {
      seen.push(...page.records.map((r) => r.key));
      cursor = page.cursor;
    }
    expect(seen.sort()).toEqual([...all].sort());
    const rest: string[] = [];
    for await (const page of readScimChanges(http, { resource: 'Users', pageSize: 4 }, cursor, signal))
      rest.push(...page.records.map((r) => r.key));
    expect(rest).toEqual([]);
  });
});
