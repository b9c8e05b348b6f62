import { runConnectorContract } from './contract.ts';
import { hrSubject } from './subjects/hr.ts';

runConnectorContract(hrSubject());
