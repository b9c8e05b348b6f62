import type { HttpClient } from '../runtime/http-client.ts';
import type { SourceStream } from '../runtime/source-types.ts';
import { employeeMapping, groupMapping } from './mapping.ts';
import { readScimChanges } from './scim-client.ts';

export const hrEntities = ['employee', 'group'] as const;
export type HrEntity = (typeof hrEntities)[number];

/** Change streams of HR: Users (employees) and Groups by meta.lastModified. */
export function hrSourceStreams(
  http: HttpClient,
  options: { pageSize: number; topic: (name: string) => string; entities: readonly HrEntity[] },
): SourceStream[] {
  const all: SourceStream[] = [
    {
      name: 'employee',
      topic: options.topic('hr.employee.changed'),
      eventType: 'tributary.hr.EmployeeChanged',
      mapping: employeeMapping,
      read: (cursor, signal) =>
        readScimChanges(http, { resource: 'Users', pageSize: options.pageSize }, cursor, signal),
    },
    {
      name: 'group',
      topic: options.topic('hr.group.changed'),
      eventType: 'tributary.hr.GroupChanged',
      mapping: groupMapping,
      read: (cursor, signal) =>
        readScimChanges(http, { resource: 'Groups', pageSize: options.pageSize }, cursor, signal),
    },
  ];
  return all.filter((s) => options.entities.includes(s.name as HrEntity));
}
