import { compileMapping } from '../runtime/mapping.ts';
import { SCIM_ENTERPRISE } from './scim-client.ts';

/** HR (SCIM 2.0) resources <-> hub event data. Field names on the left are the Avro ones. */

const ext = (attribute: string) => `["${SCIM_ENTERPRISE}"].${attribute}`;

/** Lower-cased e-mail address; a value without one @ is a data error at the source. */
function email(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const text = String(value).trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(text)) throw new Error(`"${String(value)}" is not an e-mail address`);
  return text;
}

export const employeeMapping = compileMapping(
  {
    userId: { from: 'id', readOnly: true },
    userName: { type: 'string' },
    givenName: { from: 'name.givenName', nullable: true },
    familyName: { from: 'name.familyName', nullable: true },
    email: { from: 'emails[primary=true].value', nullable: true, transform: email },
    active: { type: 'boolean', default: true },
    employeeNumber: { from: ext('employeeNumber'), type: 'string', nullable: true },
    department: { from: ext('department'), nullable: true },
    managerId: { from: ext('manager.value'), nullable: true },
    modifiedAt: { from: 'meta.lastModified', type: 'timestamp-millis', readOnly: true },
  },
  { name: 'hr.User' },
);

export const groupMapping = compileMapping(
  {
    groupId: { from: 'id', readOnly: true },
    displayName: { type: 'string' },
    memberIds: {
      from: 'members',
      default: [],
      transform: (members) =>
        Array.isArray(members) ? members.map((m) => String((m as { value?: unknown }).value)) : members,
    },
    modifiedAt: { from: 'meta.lastModified', type: 'timestamp-millis', readOnly: true },
  },
  { name: 'hr.Group' },
);
