import { describe, expect, it } from 'vitest';
import {
  keepSection,
  SECTION_END,
  SECTION_START,
  sectionOf,
  withSection,
} from '../../bench/reliability-record.ts';

// npm run soak writes the reliability section of bench/RESULTS.md; npm run bench must keep it.
describe('reliability section of bench/RESULTS.md', () => {
  it('is appended once, replaced in place, and carried into a newly rendered file', () => {
    const first = withSection('# Benchmark results\n\n## Serde\n', 'tally A');
    expect(first.indexOf(SECTION_START)).toBeGreaterThan(first.indexOf('## Serde'));
    expect(sectionOf(first)).toBe('tally A');
    const second = withSection(first, 'tally B');
    expect(second.split(SECTION_START)).toHaveLength(2);
    expect(second.split(SECTION_END)).toHaveLength(2);
    expect(sectionOf(second)).toBe('tally B');
    const rendered = keepSection(second, '# Benchmark results\n\n## Ingest\n');
    expect(rendered).toContain('## Ingest');
    expect(sectionOf(rendered)).toBe('tally B');
    expect(keepSection(undefined, '# fresh\n')).toBe('# fresh\n');
    expect(keepSection('# no section\n', '# fresh\n')).toBe('# fresh\n');
  });
});
