import { silentLogger } from '../../core/logger.ts';
import { hubTools } from '../../mcp-bridge/hub-tools.ts';
import { serveStdio } from '../../mcp-bridge/stdio.ts';
import { testPolicy, testTools } from './fixture-tools.ts';

// A bridge over stdio for the stdio test: operator name and roles from argv; audit actions go to
// stderr as JSON lines so the test can read them.
const [name = 'operator', roles = ''] = process.argv.slice(2);
await serveStdio(
  { name, roles: roles.split(',').filter(Boolean) },
  {
    tools: [...hubTools, ...testTools],
    policy: testPolicy,
    logger: silentLogger(),
    emitAction: (action) => void process.stderr.write(`ACTION ${JSON.stringify(action)}\n`),
  },
);
