import type { ComponentDeclaration } from '../../platform/declaration.ts';

/** Topic names of the round-trip tests (random per run). */
export interface RoundTripTopics {
  cmd: string;
  res: string;
  silentCmd: string;
  silentRes: string;
}

/** A CRM-like declaration on the given topics: contact upserts are answered, account upserts never. */
export function roundTripDeclaration(names: RoundTripTopics): ComponentDeclaration<unknown> {
  return {
    name: 'connector.crm-roundtrip',
    kind: 'connector',
    description: 'test',
    topics: [
      { name: names.cmd, description: 'cmd', valueSchema: 'tributary.crm.ContactUpsert' },
      { name: names.res, description: 'res', valueSchema: 'tributary.crm.ContactUpsertResult' },
      { name: names.silentCmd, description: 'cmd', valueSchema: 'tributary.crm.AccountUpsert' },
      { name: names.silentRes, description: 'res', valueSchema: 'tributary.crm.AccountUpsertResult' },
    ],
    produces: [],
    consumes: [],
    commands: [
      {
        name: 'crm.contact.upsert',
        description: 'Creates or updates a contact.',
        topic: names.cmd,
        resultTopic: names.res,
        mutating: true,
      },
      {
        name: 'crm.account.upsert',
        description: 'Nobody answers this one.',
        topic: names.silentCmd,
        resultTopic: names.silentRes,
        mutating: true,
      },
    ],
  } as unknown as ComponentDeclaration<unknown>;
}
