import { HubError } from '../../core/errors.ts';
import { type HttpClient, httpFailure } from '../runtime/http-client.ts';
import type { PushAnswer, SinkCommand } from '../runtime/sink-loop.ts';
import { employeeMapping } from './mapping.ts';
import { findUser, SCIM_ENTERPRISE, SCIM_PATCH, SCIM_USER, type ScimResource } from './scim-client.ts';

const withoutNulls = (data: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null && v !== undefined));

/** PatchOp operations for the fields whose value differs from the user as it is now. */
function patchOperations(current: ScimResource, wanted: Record<string, unknown>) {
  const now = employeeMapping.apply(current);
  const changed = Object.fromEntries(
    Object.entries(wanted).filter(([k, v]) => k !== 'userName' && now[k] !== v),
  );
  if (Object.keys(changed).length === 0) return [];
  // One replace without a path: its value holds the attributes to set (RFC 7644 3.5.2.3).
  return [{ op: 'replace', value: employeeMapping.reverse(changed) }];
}

/** Sends PATCH operations; nothing is sent when nothing would change (a retried command stays one change). */
async function patchUser(
  http: HttpClient,
  user: ScimResource,
  operations: unknown[],
  ctx: { commandId: string; signal: AbortSignal },
): Promise<PushAnswer> {
  if (operations.length === 0)
    return { status: 200, systemId: user.id, answer: { unchanged: true, id: user.id } };
  const res = await http.request<ScimResource>({
    method: 'PATCH',
    path: `Users/${encodeURIComponent(user.id)}`,
    body: { schemas: [SCIM_PATCH], Operations: operations },
    headers: { 'content-type': 'application/scim+json' },
    idempotencyKey: ctx.commandId,
    signal: ctx.signal,
  });
  return { status: res.status, systemId: user.id, answer: res.body };
}

/** Creates the employee (POST) or applies the changed fields (PATCH). */
export async function upsertEmployee(
  http: HttpClient,
  data: Record<string, unknown>,
  ctx: { commandId: string; signal: AbortSignal },
): Promise<PushAnswer> {
  const userName = String(data.userName);
  const wanted = withoutNulls(data);
  const existing = await findUser(http, userName, ctx.signal);
  if (existing) return patchUser(http, existing, patchOperations(existing, wanted), ctx);
  try {
    const res = await http.request<ScimResource>({
      method: 'POST',
      path: 'Users',
      body: { schemas: [SCIM_USER, SCIM_ENTERPRISE], active: true, ...employeeMapping.reverse(wanted) },
      headers: { 'content-type': 'application/scim+json' },
      idempotencyKey: ctx.commandId,
      signal: ctx.signal,
    });
    return { status: res.status, systemId: res.body?.id, answer: res.body };
  } catch (err) {
    // 409: created meanwhile, e.g. by our own first attempt whose answer was lost. Converge instead.
    if (httpFailure(err)?.status !== 409) throw err;
    const now = await findUser(http, userName, ctx.signal);
    if (!now) throw err;
    return patchUser(http, now, patchOperations(now, wanted), ctx);
  }
}

/** Deactivates the employee (active=false); a user already inactive is left as is. */
export async function deactivateEmployee(
  http: HttpClient,
  data: Record<string, unknown>,
  ctx: { commandId: string; signal: AbortSignal },
): Promise<PushAnswer> {
  const userName = String(data.userName);
  const user = await findUser(http, userName, ctx.signal);
  if (!user) {
    throw Object.assign(
      new HubError('HR_USER_NOT_FOUND', `no employee has userName ${userName}`, {
        where: { subject: userName, status: 404 },
      }),
      {
        status: 404,
        body: { detail: `no user ${userName}` },
      },
    );
  }
  return patchUser(
    http,
    user,
    user.active === false ? [] : [{ op: 'replace', path: 'active', value: false }],
    ctx,
  );
}

/** The commands the HR sink accepts. */
export function hrSinkCommands(http: HttpClient, topic: (n: string) => string): SinkCommand[] {
  return [
    {
      name: 'hr.employee.upsert',
      topic: topic('hr.employee.upsert.cmd'),
      resultTopic: topic('hr.employee.upsert.res'),
      resultType: 'tributary.hr.EmployeeCommandResult',
      keyField: 'userName',
      push: (data, ctx) => upsertEmployee(http, data, ctx),
    },
    {
      name: 'hr.employee.deactivate',
      topic: topic('hr.employee.deactivate.cmd'),
      resultTopic: topic('hr.employee.deactivate.res'),
      resultType: 'tributary.hr.EmployeeCommandResult',
      keyField: 'userName',
      push: (data, ctx) => deactivateEmployee(http, data, ctx),
    },
  ];
}
