import { afterAll } from 'vitest';
import { hrSubject } from '../connectors/subjects/hr.ts';
import { useHarness } from './external-faults-harness.ts';
import { runSinkFaults } from './external-faults-sink.ts';
import { runSourceFaults } from './external-faults-source.ts';
import { createTally } from './tally.ts';

/**
 * External faults (issue 10) at the HR demo system, against the real connector: see
 * external-faults-source.ts and
 * external-faults-sink.ts for what each case checks.
 */
const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const subject = hrSubject();
const harness = useHarness(subject);
runSourceFaults(subject, harness, tally);
runSinkFaults(subject, harness, tally);
