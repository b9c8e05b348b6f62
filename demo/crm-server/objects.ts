/** The sObjects the demo CRM knows: their fields, required fields and Id prefixes (as Salesforce's). */
export interface SObjectType {
  prefix: string;
  fields: string[];
  required: string[];
  externalIds: string[];
}

const system = ['Id', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp', 'IsDeleted'];

export const sobjectTypes: Record<string, SObjectType> = {
  Account: {
    prefix: '001',
    fields: [
      ...system,
      'Name',
      'ExtId__c',
      'Industry',
      'AnnualRevenue',
      'BillingCity',
      'BillingCountry',
      'Phone',
      'Website',
    ],
    required: ['Name'],
    externalIds: ['ExtId__c'],
  },
  Contact: {
    prefix: '003',
    fields: [...system, 'AccountId', 'ExtId__c', 'FirstName', 'LastName', 'Email', 'Phone', 'Title'],
    required: ['LastName'],
    externalIds: ['ExtId__c'],
  },
  Opportunity: {
    prefix: '006',
    fields: [...system, 'AccountId', 'ExtId__c', 'Name', 'StageName', 'Amount', 'CloseDate', 'Probability'],
    required: ['Name', 'StageName', 'CloseDate'],
    externalIds: ['ExtId__c'],
  },
};

export const readOnlyFields = new Set(system);
