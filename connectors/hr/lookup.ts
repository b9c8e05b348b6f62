import type { HttpClient } from '../runtime/http-client.ts';
import { lookupCommand } from '../runtime/lookup.ts';
import type { SinkCommand } from '../runtime/sink-loop.ts';
import { employeeMapping } from './mapping.ts';
import { SCIM_ENTERPRISE, type ScimResource, scimString } from './scim-client.ts';

/** SCIM attribute paths of the fields an employee can be looked up by. */
const lookupAttributes = {
  userName: 'userName',
  employeeNumber: `${SCIM_ENTERPRISE}:employeeNumber`,
} as const;

/** The HR system's query commands: an employee by login name or employee number. */
export function hrLookupCommands(http: HttpClient, topic: (name: string) => string): SinkCommand[] {
  return [
    lookupCommand({
      name: 'hr.employee.get',
      topic: topic('hr.employee.get.cmd'),
      resultTopic: topic('hr.employee.get.res'),
      resultType: 'tributary.hr.EmployeeGetResult',
      keyField: 'key',
      mapping: employeeMapping,
      async find(data, signal) {
        const by = data.by === 'employeeNumber' ? 'employeeNumber' : 'userName';
        const res = await http.request<{ Resources?: ScimResource[] }>({
          path: 'Users',
          query: { filter: `${lookupAttributes[by]} eq ${scimString(String(data.key))}`, count: 2 },
          signal,
        });
        const raw = res.body?.Resources?.[0];
        return { status: res.status, raw, ...(raw ? { systemId: raw.id } : {}) };
      },
    }),
  ];
}
