import { readFile } from 'node:fs/promises';

/** Lower-cases and strips what a pronunciation dictionary does not hold (punctuation, digits). */
export function normaliseWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z' ]+/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

const dictionaries = new Map<string, Promise<Set<string>>>();

/** The words of a CMU-style pronunciation dictionary (alternates like `word(2)` folded in). */
export function loadDictionaryWords(path: string): Promise<Set<string>> {
  let words = dictionaries.get(path);
  if (!words) {
    words = readFile(path, 'utf8').then(
      (text) => new Set(text.split('\n').map((line) => line.split(/\s/, 1)[0]!.replace(/\(\d+\)$/, ''))),
    );
    dictionaries.set(path, words);
  }
  return words;
}

export interface HintGrammar {
  /** JSGF text, or null when no hint is usable (then the language model is used). */
  jsgf: string | null;
  /** Hint words the dictionary lacks; pocketsphinx cannot recognise them. */
  unknownWords: string[];
}

/**
 * Turns vocabulary hints into a JSGF grammar: an utterance is one or more of the hint phrases
 * or their single words. Phrases stay as units so multi-word names are preferred whole; words
 * missing from the pronunciation dictionary are left out (and reported) because pocketsphinx
 * refuses a grammar with unknown words.
 */
export function hintsToJsgf(hints: string[], dictionary: Set<string>): HintGrammar {
  const unknown = new Set<string>();
  const alternatives = new Set<string>();
  for (const hint of hints) {
    const words = normaliseWords(hint);
    const known = words.filter((w) => {
      if (dictionary.has(w)) return true;
      unknown.add(w);
      return false;
    });
    if (known.length === words.length && words.length > 1) alternatives.add(words.join(' '));
    for (const w of known) alternatives.add(w);
  }
  if (alternatives.size === 0) return { jsgf: null, unknownWords: [...unknown] };
  const jsgf = [
    '#JSGF V1.0;',
    'grammar hints;',
    'public <utterance> = <hint>+ ;',
    `<hint> = ${[...alternatives].join(' | ')} ;`,
    '',
  ].join('\n');
  return { jsgf, unknownWords: [...unknown] };
}
