import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { HubError } from '../core/errors.ts';

const execFileAsync = promisify(execFile);

/** The oldest Java the kit runs on: Kafka 4.x brokers need Java 17. */
export const minimumJavaVersion = 17;

const installHint =
  'install Java 17 or newer (Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`), ' +
  'or set JAVA_HOME to one; or point the hub at an existing broker with KAFKA_BROKERS';

export interface JavaRuntime {
  /** Absolute path of the java executable. */
  path: string;
  /** Major version, e.g. 17. */
  major: number;
  /** The version string java printed, e.g. "17.0.15". */
  version: string;
}

/** Finds an executable by name on a PATH string, without running a shell. */
export function findOnPath(name: string, pathValue: string | undefined): string | undefined {
  for (const dir of (pathValue ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Parses the major version out of `java -version` output ("1.8.0_392" is 8, "17.0.15" is 17). */
export function parseJavaVersion(output: string): { major: number; version: string } | undefined {
  const match = /version "([^"]+)"/.exec(output) ?? /^\S+ (\d+[\d.]*)/m.exec(output);
  const version = match?.[1];
  if (!version) return undefined;
  const parts = version.split(/[._-]/).map((p) => Number.parseInt(p, 10));
  const major = parts[0] === 1 ? parts[1] : parts[0];
  return major === undefined || Number.isNaN(major) ? undefined : { major, version };
}

/**
 * Locates Java (JAVA_HOME first, then PATH) and checks it is new enough.
 * Throws KIT_JAVA_MISSING or KIT_JAVA_TOO_OLD with install instructions.
 */
export async function requireJava(env: NodeJS.ProcessEnv = process.env): Promise<JavaRuntime> {
  const fromHome = env.JAVA_HOME ? findOnPath('java', join(env.JAVA_HOME, 'bin')) : undefined;
  const path = fromHome ?? findOnPath('java', env.PATH);
  if (!path) {
    throw new HubError('KIT_JAVA_MISSING', 'Java was not found (no java in JAVA_HOME/bin or on PATH)', {
      hint: installHint,
    });
  }
  let output: string;
  try {
    const result = await execFileAsync(path, ['-version'], { env, timeout: 20_000 });
    output = `${result.stderr}\n${result.stdout}`;
  } catch (err) {
    throw new HubError('KIT_JAVA_MISSING', `Java at ${path} does not run: ${(err as Error).message}`, {
      hint: installHint,
      cause: err,
    });
  }
  const parsed = parseJavaVersion(output);
  if (!parsed) {
    throw new HubError('KIT_JAVA_MISSING', `Could not read the version of Java at ${path}`, {
      hint: installHint,
    });
  }
  if (parsed.major < minimumJavaVersion) {
    throw new HubError(
      'KIT_JAVA_TOO_OLD',
      `Java ${parsed.version} at ${path} is too old; the Kafka kit needs Java ${minimumJavaVersion} or newer`,
      { hint: installHint },
    );
  }
  return { path, ...parsed };
}
