import { resolve } from 'node:path';

/**
 * Where the local kit keeps its state. Everything lives in the project folder by default so a
 * clone is self-contained and `.tributary/` (git-ignored) can be deleted to start over.
 */

/** The project root: the folder that holds kit/, found from this file's own location. */
export const projectRoot = resolve(import.meta.dirname, '..');

/** Root of the kit's data: TRIBUTARY_HOME, else `.tributary` in the project root. */
export function tributaryHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRIBUTARY_HOME ? resolve(env.TRIBUTARY_HOME) : resolve(projectRoot, '.tributary');
}

/**
 * Download cache (jars): TRIBUTARY_CACHE, else `.tributary/cache` in the project root. Not under
 * TRIBUTARY_HOME, so a throwaway home (tests, a second cluster) still reuses fetched jars.
 */
export function tributaryCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRIBUTARY_CACHE ? resolve(env.TRIBUTARY_CACHE) : resolve(projectRoot, '.tributary', 'cache');
}
