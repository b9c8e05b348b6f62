import { compileMapping } from '../runtime/mapping.ts';

/** CRM (Salesforce-style) records <-> hub event data. Field names on the left are the Avro ones. */

const modifiedAt = { from: 'SystemModstamp', type: 'timestamp-millis', readOnly: true } as const;

export const accountMapping = compileMapping(
  {
    accountId: { from: 'Id', readOnly: true },
    externalId: { from: 'ExtId__c', nullable: true, readOnly: true },
    name: { from: 'Name', type: 'string' },
    industry: { from: 'Industry', nullable: true },
    annualRevenue: { from: 'AnnualRevenue', type: 'decimal', scale: 2, nullable: true },
    billingCity: { from: 'BillingCity', nullable: true },
    billingCountry: { from: 'BillingCountry', nullable: true },
    phone: { from: 'Phone', nullable: true, transform: 'trim' },
    website: { from: 'Website', nullable: true, transform: 'lower' },
    modifiedAt,
  },
  { name: 'crm.Account' },
);

export const contactMapping = compileMapping(
  {
    contactId: { from: 'Id', readOnly: true },
    accountId: { from: 'AccountId', nullable: true },
    externalId: { from: 'ExtId__c', nullable: true, readOnly: true },
    firstName: { from: 'FirstName', nullable: true },
    lastName: { from: 'LastName', type: 'string' },
    email: { from: 'Email', nullable: true, transform: 'lower' },
    phone: { from: 'Phone', nullable: true },
    title: { from: 'Title', nullable: true },
    modifiedAt,
  },
  { name: 'crm.Contact' },
);

export const opportunityMapping = compileMapping(
  {
    opportunityId: { from: 'Id', readOnly: true },
    accountId: { from: 'AccountId', nullable: true },
    externalId: { from: 'ExtId__c', nullable: true, readOnly: true },
    name: { from: 'Name', type: 'string' },
    stage: { from: 'StageName', type: 'string' },
    amount: { from: 'Amount', type: 'decimal', scale: 2, nullable: true },
    closeDate: { from: 'CloseDate', type: 'date' },
    probability: { from: 'Probability', type: 'double', nullable: true },
    modifiedAt,
  },
  { name: 'crm.Opportunity' },
);

/** Source fields each sObject query selects (the mapping's `from` paths). */
export const crmQueryFields = {
  Account: [
    'ExtId__c',
    'Name',
    'Industry',
    'AnnualRevenue',
    'BillingCity',
    'BillingCountry',
    'Phone',
    'Website',
  ],
  Contact: ['AccountId', 'ExtId__c', 'FirstName', 'LastName', 'Email', 'Phone', 'Title'],
  Opportunity: ['AccountId', 'ExtId__c', 'Name', 'StageName', 'Amount', 'CloseDate', 'Probability'],
} as const;
