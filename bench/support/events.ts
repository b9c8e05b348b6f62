import { randomBytes, randomUUID } from 'node:crypto';
import { type EventName, type HubEvent, newEvent } from '../../schemas/index.ts';

/**
 * Realistic events of the hub's own schemas (the catalog), built the way connectors and the
 * bridge build them: typed by the generated types, so a schema change breaks the build here
 * instead of silently benchmarking something else.
 */

export interface SampleEvent {
  /** Avro full name of the schema. */
  schema: EventName;
  /** Topic the event would travel on (for the serde's subject). */
  topic: string;
  event: HubEvent<unknown>;
}

const actor = 'svc-connector@tributary';
const now = Date.UTC(2026, 10, 24, 10, 0, 0);

/** A sales order with `lines` items (about 60 bytes of Avro per item). */
export function salesOrderChanged(orderNo: number, lines: number): HubEvent<unknown> {
  const orderId = `SO-${String(orderNo).padStart(8, '0')}`;
  return newEvent(
    'tributary.erp.SalesOrderChanged',
    { source: 'connector.erp', subject: orderId, actor, correlationId: randomUUID(), time: now },
    {
      orderId,
      customerId: `C-${String(orderNo % 5000).padStart(6, '0')}`,
      status: 'OPEN',
      currency: 'EUR',
      netAmount: '1249.50',
      orderDate: Math.floor(now / 86_400_000) - 1, // days since the epoch (Avro date)
      items: Array.from({ length: lines }, (_, i) => ({
        line: (i + 1) * 10,
        product: `MAT-${String(1000 + i).padStart(6, '0')}-STEEL-BOLT-M8`,
        quantity: `${1 + (i % 7)}.000`,
        unitPrice: `${10 + i}.25`,
      })),
      // The source system's version tag, as a connector reads it (16 hex digits, like before).
      etag: `W/"${((orderNo * 2654435761) >>> 0).toString(16).padStart(8, '0')}${(orderNo >>> 0).toString(16).padStart(8, '0')}"`,
      modifiedAt: now,
    },
  );
}

/**
 * A contact change whose free-text fields are long enough for a ~1 KB event: strings and
 * timestamps only, no decimal, to compare with the decimal-heavy sales order of the same size.
 */
export function contactChangedLong(n: number, titleLength: number): HubEvent<unknown> {
  const contactId = `003Dn${String(n).padStart(13, '0')}`;
  const words = 'Head of Analytical Engines and Difference Machines, Programme Notes; ';
  return newEvent(
    'tributary.crm.ContactChanged',
    { source: 'connector.crm', subject: contactId, actor, correlationId: randomUUID(), time: now },
    {
      contactId,
      accountId: '001Dn00000AbCdEIAZ',
      externalId: `ext-42-${n}`,
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada.lovelace@example.com',
      phone: '+44 20 7946 0018',
      title: words.repeat(Math.ceil(titleLength / words.length)).slice(0, titleLength),
      modifiedAt: now,
    },
  );
}

/** One event of each of a representative set of the catalog's schemas (facts, commands, audit, media). */
export function sampleEvents(): SampleEvent[] {
  const contactId = '003Dn00000Q1xYzIAB';
  return [
    {
      schema: 'tributary.crm.ContactChanged',
      topic: 'crm.contact.changed',
      event: newEvent(
        'tributary.crm.ContactChanged',
        { source: 'connector.crm', subject: contactId, actor, time: now },
        {
          contactId,
          accountId: '001Dn00000AbCdEIAZ',
          externalId: 'ext-42-0001',
          firstName: 'Ada',
          lastName: 'Lovelace',
          email: 'ada.lovelace@example.com',
          phone: '+44 20 7946 0018',
          title: 'Head of Analytical Engines',
          modifiedAt: now,
        },
      ),
    },
    {
      schema: 'tributary.erp.SalesOrderChanged',
      topic: 'erp.sales-order.changed',
      event: salesOrderChanged(1, 5),
    },
    {
      schema: 'tributary.hr.EmployeeChanged',
      topic: 'hr.employee.changed',
      event: newEvent(
        'tributary.hr.EmployeeChanged',
        { source: 'connector.hr', subject: 'u-2c1f', actor, time: now },
        {
          userId: '2c1f4a8e-5b7d-4e0a-9f3c-1d2e3f4a5b6c',
          userName: 'grace.hopper',
          givenName: 'Grace',
          familyName: 'Hopper',
          email: 'grace.hopper@example.com',
          active: true,
          employeeNumber: 'E-1906',
          department: 'Compilers',
          managerId: null,
          modifiedAt: now,
        },
      ),
    },
    {
      schema: 'tributary.audit.Action',
      topic: 'hub.actions',
      event: newEvent(
        'tributary.audit.Action',
        { source: 'mcp-bridge', subject: contactId, actor: 'alice@example.com', time: now },
        {
          action: 'crm.contact.upsert',
          actor: 'alice@example.com',
          resource: `crm/contact/${contactId}`,
          outcome: 'succeeded',
          argsDigest: randomBytes(32).toString('hex'),
          subjectId: contactId,
          details: { tool: 'crm_contact_upsert', httpStatus: '200', durationMs: '84' },
        },
      ),
    },
    {
      schema: 'tributary.media.ImageAnalyzeRequest',
      topic: 'media.image.analyze.req',
      event: newEvent(
        'tributary.media.ImageAnalyzeRequest',
        { source: 'mcp-bridge', subject: 'img-7781', actor: 'alice@example.com', time: now },
        {
          image: {
            uri: 'blob://media/2026/11/24/img-7781.png',
            size: 482_113,
            mediaType: 'image/png',
            sha256: randomBytes(32).toString('hex'),
          },
          analyses: ['describe', 'text'],
          prompt: 'What does the invoice total say?',
          language: 'en',
          provider: null,
        },
      ),
    },
  ];
}
