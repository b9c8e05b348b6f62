import { runTool } from '../media-tools/run-tool.ts';

const cache = new Map<string, Promise<{ voices: Set<string>; variants: Set<string> }>>();

/** Names a `--voices` listing accepts for `-v`: language codes, voice names, files and their base names. */
function namesOf(listing: string): Set<string> {
  const names = new Set<string>();
  for (const line of listing.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const [, language, , voiceName, file, ...others] = cols;
    for (const name of [
      language,
      voiceName,
      file,
      file?.split('/').pop(),
      ...others.map((o) => o.replace(/[()]/g, '')),
    ]) {
      if (name && !/^\d+$/.test(name)) names.add(name.toLowerCase());
    }
  }
  return names;
}

/**
 * Whether espeak-ng knows a voice (`name` or `name+variant`). espeak-ng silently falls back to
 * its default voice for an unknown name (exit code 0), so the name is checked against its list.
 */
export async function isKnownEspeakVoice(command: string, voice: string): Promise<boolean> {
  let lists = cache.get(command);
  if (!lists) {
    lists = Promise.all([runTool(command, ['--voices']), runTool(command, ['--voices=variant'])]).then(
      ([voices, variants]) => ({
        voices: namesOf(voices.stdout.toString('utf8')),
        variants: namesOf(variants.stdout.toString('utf8')),
      }),
    );
    cache.set(command, lists);
    lists.catch(() => cache.delete(command));
  }
  const { voices, variants } = await lists;
  const [base, variant] = voice.toLowerCase().split('+');
  return voices.has(base ?? '') && (variant === undefined || variants.has(variant));
}
