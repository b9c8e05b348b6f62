import { execFileSync } from 'node:child_process';
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

  it('puts a Node >= 22.18 first on PATH and exports TRIBUTARY_ROOT', () => {
    const [version, rootSeen] = sourced('node --version; echo "$TRIBUTARY_ROOT"').trim().split('\n');
    const [major, minor] = version!.replace(/^v/, '').split('.').map(Number);
    expect(major! > 22 || (major === 22 && minor! >= 18)).toBe(true);
    expect(`${rootSeen}/`).toBe(root);
  });
});
