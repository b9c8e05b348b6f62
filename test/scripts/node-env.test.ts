import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * scripts/node-env.sh is sourced by the project's scripts (and by people in their own shell):
 * it must put a usable Node first on PATH without changing the caller's shell options, so a
 * failing command after it does not end the caller's shell or script.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

function sourced(script: string): string {
  return execFileSync(
    'bash',
    ['-c', `set +e +u +o pipefail; source scripts/node-env.sh >/dev/null 2>&1; ${script}`],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
}

describe('scripts/node-env.sh', () => {
  it("leaves the caller's shell options as they were", () => {
    const out = sourced(
      'echo "options=$-"; shopt -o pipefail | tr -s " \\t" " "; false; echo "after a failing command"',
    );
    const options = /options=(\S*)/.exec(out)?.[1] ?? '';
    expect(options).not.toContain('e');
    expect(options).not.toContain('u');
    expect(out).toContain('pipefail off');
    expect(out).toContain('after a failing command');
  });

  it('puts Node 24 or newer first on PATH and exports TRIBUTARY_ROOT', () => {
    const [version, rootSeen] = sourced('node --version; echo "$TRIBUTARY_ROOT"').trim().split('\n');
    expect(Number(version!.replace(/^v/, '').split('.')[0])).toBeGreaterThanOrEqual(24);
    expect(`${rootSeen}/`).toBe(root);
  });

  /**
   * In a copy of the project with a stand-in for the fetched Node (.tools/node24, reporting
   * v24.99.0) and a stand-in Node first on PATH reporting `onPath`: the Node left first on PATH.
   */
  function chosenWith(onPath: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-node-env-'));
    try {
      const fake = (version: string) => `#!/bin/sh\necho ${version}\n`;
      mkdirSync(join(dir, 'scripts'));
      copyFileSync(join(root, 'scripts/node-env.sh'), join(dir, 'scripts/node-env.sh'));
      const fetched = join(dir, '.tools/node24/node_modules/node/bin');
      mkdirSync(fetched, { recursive: true });
      writeFileSync(join(fetched, 'node'), fake('v24.99.0'), { mode: 0o755 });
      mkdirSync(join(dir, 'path'));
      writeFileSync(join(dir, 'path/node'), fake(onPath), { mode: 0o755 });
      return execFileSync(
        'bash',
        [
          '-c',
          `PATH="${dir}/path:$PATH"; source "${dir}/scripts/node-env.sh" >/dev/null 2>&1; node --version`,
        ],
        { encoding: 'utf8' },
      ).trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('uses Node 24 when the Node on PATH is older, 22 included, and keeps a Node on PATH that is 24 or newer', () => {
    expect(chosenWith('v20.19.5')).toBe('v24.99.0');
    expect(chosenWith('v22.20.0')).toBe('v24.99.0');
    expect(chosenWith('v24.1.0')).toBe('v24.1.0');
    expect(chosenWith('v25.2.1')).toBe('v25.2.1');
  });
});
