/**
 * Paths into JSON documents, for mappings: `a.b`, `items[0].qty`, `emails[primary=true].value`
 * (first element whose field equals the value), and `["urn:...:2.0:User"].department` for keys
 * that contain dots (SCIM schema URNs).
 */
export type Segment = { key: string } | { index: number } | { matchKey: string; matchValue: string };

const cache = new Map<string, Segment[]>();

/** Parses a path once; throws on a malformed path (a bug in a mapping, caught at compile time). */
export function parsePath(path: string): Segment[] {
  const hit = cache.get(path);
  if (hit) return hit;
  const segments: Segment[] = [];
  let i = 0;
  const n = path.length;
  while (i < n) {
    const ch = path[i];
    if (ch === '.') {
      i++;
      continue;
    }
    if (ch === '[') {
      const close = path[i + 1] === '"' ? path.indexOf('"]', i + 2) + 1 : path.indexOf(']', i);
      if (close <= 0) throw new Error(`unclosed [ in path ${path}`);
      const inner = path.slice(i + 1, close);
      if (inner.startsWith('"')) segments.push({ key: inner.slice(1, -1) });
      else if (/^\d+$/.test(inner)) segments.push({ index: Number(inner) });
      else if (inner.includes('=')) {
        const [k, v] = inner.split('=', 2) as [string, string];
        segments.push({ matchKey: k, matchValue: v });
      } else throw new Error(`bad selector [${inner}] in path ${path}`);
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < n && path[j] !== '.' && path[j] !== '[') j++;
    segments.push({ key: path.slice(i, j) });
    i = j;
  }
  cache.set(path, segments);
  return segments;
}

/** Reads the value at `path`, or undefined when any step is missing. */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of parsePath(path)) {
    if (cur === null || cur === undefined) return undefined;
    if ('key' in seg) cur = (cur as Record<string, unknown>)[seg.key];
    else if ('index' in seg) cur = Array.isArray(cur) ? cur[seg.index] : undefined;
    else
      cur = Array.isArray(cur)
        ? cur.find((e) => String((e as Record<string, unknown>)?.[seg.matchKey]) === seg.matchValue)
        : undefined;
  }
  return cur;
}

/** Writes `value` at `path`, creating objects and arrays on the way. */
export function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const segs = parsePath(path);
  let cur: Record<string, unknown> | unknown[] = doc;
  segs.forEach((seg, k) => {
    const last = k === segs.length - 1;
    const next = segs[k + 1];
    const fresh = () => (next && 'key' in next ? {} : next ? [] : undefined);
    if ('key' in seg) {
      const obj = cur as Record<string, unknown>;
      if (last) obj[seg.key] = value;
      else {
        obj[seg.key] ??= fresh();
        cur = obj[seg.key] as Record<string, unknown>;
      }
    } else if ('index' in seg) {
      const arr = cur as unknown[];
      if (last) arr[seg.index] = value;
      else {
        arr[seg.index] ??= fresh();
        cur = arr[seg.index] as Record<string, unknown>;
      }
    } else {
      const arr = cur as Record<string, unknown>[];
      let el = arr.find((e) => String(e?.[seg.matchKey]) === seg.matchValue);
      if (!el) {
        const raw = seg.matchValue;
        el = { [seg.matchKey]: raw === 'true' ? true : raw === 'false' ? false : raw };
        arr.push(el);
      }
      if (last) Object.assign(el, value);
      else cur = el;
    }
  });
}
