import { runConnectorContract } from './contract.ts';
import { erpSubject } from './subjects/erp.ts';

runConnectorContract(erpSubject());
