import { describe, expect, it } from 'vitest';
import { buildTopology } from '../../topology/build.ts';
import {
  renderTopologyPng,
  renderTopologySvg,
  topologyToDot,
  topologyToMermaid,
} from '../../topology/graph.ts';
import { testDeclarations } from './fixtures.ts';

const topology = buildTopology(testDeclarations());

function svgTitles(svg: string): string[] {
  // Graphviz writes some characters as numeric entities (`-` becomes `&#45;`).
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    (m[1] ?? '').replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))),
  );
}

describe('topology graph', () => {
  it('draws every component and topic in Mermaid, with edges along the data flow', () => {
    const text = topologyToMermaid(topology);
    expect(text.startsWith('flowchart LR\n')).toBe(true);
    for (const c of topology.components) expect(text).toContain(`["${c.name}"]`);
    for (const t of topology.topics) expect(text).toContain(`[("${t.name}")]`);
    const id = (label: string) =>
      text.match(new RegExp(`(\\w+)\\[\\(?"${label.replaceAll('.', '\\.')}"`))?.[1];
    // connector -> fact topic -> bridge; bridge -> job topic -> processor; everyone -> hub.actions -> audit.
    expect(text).toContain(`${id('connector.crm')} --> ${id('crm.contact.changed')}`);
    expect(text).toContain(`${id('crm.contact.changed')} --> ${id('mcp-bridge')}`);
    expect(text).toContain(`${id('mcp-bridge')} --> ${id('media.image.analyze.req')}`);
    expect(text).toContain(`${id('media.image.analyze.req')} --> ${id('processor.image')}`);
    expect(text).toContain(`${id('hub.actions')} --> ${id('audit')}`);
    expect(topologyToMermaid(buildTopology(testDeclarations()))).toBe(text);
  });

  it('can leave out dead-letter and retry topics', () => {
    const text = topologyToMermaid(topology, { includeDerived: false });
    expect(text).not.toContain('.dlq');
    expect(text).not.toContain('.retry');
  });

  it('renders an SVG with one node per component and topic', async () => {
    const svg = await renderTopologySvg(topology);
    expect(svg).toMatch(/<svg[\s\S]*<\/svg>\s*$/);
    const nodes = svg.match(/<g id="node\d+" class="node">/g) ?? [];
    expect(nodes.length).toBe(topology.components.length + topology.topics.length);
    const edges = svg.match(/<g id="edge\d+" class="edge">/g) ?? [];
    const expected = topology.topics.reduce((n, t) => n + t.producers.length + t.consumers.length, 0);
    expect(edges.length).toBe(expected);
    const titles = svgTitles(svg);
    for (const name of [...topology.components.map((c) => c.name), ...topology.topics.map((t) => t.name)]) {
      expect(titles).toContain(name);
    }
    expect(await renderTopologySvg(topology)).toBe(svg);
    expect(topologyToDot(topology)).toContain('rankdir=LR');
  });

  it('renders a PNG', async () => {
    const png = await renderTopologyPng(topology);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR holds width and height right after the signature and chunk header.
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect(width).toBeGreaterThan(200);
    expect(height).toBeGreaterThan(100);
  });
});
