import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { HubError } from '../../core/errors.ts';

/**
 * Where a secret comes from. Config files name an environment variable or a file (a mounted
 * Kubernetes/Docker secret), never the secret itself; `value` exists for tests and demos.
 */
export const secretRefSchema = z
  .union([
    z.object({ env: z.string().min(1).describe('Environment variable holding the secret') }).strict(),
    z
      .object({ file: z.string().min(1).describe('File holding the secret (trailing newline dropped)') })
      .strict(),
    z.object({ value: z.string().describe('The secret inline; for demos and tests only') }).strict(),
  ])
  .describe('A secret: { env: NAME } or { file: PATH } (or { value } in demos)');

export type SecretRef = z.infer<typeof secretRefSchema>;

/** Reads a secret; the error names where it looked, never what it found. */
export async function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if ('value' in ref) return ref.value;
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') {
      throw new HubError('SECRET_MISSING', `environment variable ${ref.env} is not set`, {
        hint: `export ${ref.env}=... before starting the connector`,
      });
    }
    return v;
  }
  try {
    return (await readFile(ref.file, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new HubError('SECRET_MISSING', `secret file ${ref.file} cannot be read`, {
      cause: err,
      where: { file: ref.file },
    });
  }
}
