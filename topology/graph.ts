import { Graphviz } from '@hpcc-js/wasm-graphviz';
import sharp from 'sharp';
import type { ComponentKind } from '../platform/declaration.ts';
import type { Topology } from './build.ts';

/**
 * Pictures of the topology: components -> topics -> components, laid out left to right in the
 * order data flows (connectors, then processors, then audit and bridge). Output is a pure
 * function of the topology, so the same declarations always give the same bytes.
 */

const kindOrder: ComponentKind[] = ['connector', 'ingress', 'processor', 'bridge', 'audit', 'hub'];
const kindTitles: Record<ComponentKind, string> = {
  connector: 'Connectors',
  ingress: 'Ingress',
  processor: 'Processors',
  bridge: 'MCP bridge',
  audit: 'Audit',
  hub: 'Hub',
};

export interface GraphOptions {
  /** Include `.dlq` and `.retry` topics (default true). */
  includeDerived?: boolean;
}

interface GraphModel {
  groups: { kind: ComponentKind; components: { id: string; name: string }[] }[];
  topics: { id: string; name: string; derived: boolean }[];
  edges: { from: string; to: string }[];
}

function model(topology: Topology, options: GraphOptions): GraphModel {
  const includeDerived = options.includeDerived ?? true;
  const topics = topology.topics.filter((t) => includeDerived || !t.derivedFrom);
  const componentIds = new Map(topology.components.map((c, i) => [c.name, `c${i}`]));
  const topicIds = new Map(topics.map((t, i) => [t.name, `t${i}`]));
  const groups = kindOrder
    .map((kind) => ({
      kind,
      components: topology.components
        .filter((c) => c.kind === kind)
        .map((c) => ({ id: componentIds.get(c.name) ?? '', name: c.name })),
    }))
    .filter((g) => g.components.length > 0);
  const edges: { from: string; to: string }[] = [];
  for (const t of topics) {
    const tid = topicIds.get(t.name) ?? '';
    for (const p of t.producers) edges.push({ from: componentIds.get(p) ?? '', to: tid });
    for (const c of t.consumers) edges.push({ from: tid, to: componentIds.get(c) ?? '' });
  }
  return {
    groups,
    topics: topics.map((t) => ({
      id: topicIds.get(t.name) ?? '',
      name: t.name,
      derived: Boolean(t.derivedFrom),
    })),
    edges: edges.filter((e) => e.from && e.to),
  };
}

/** Mermaid `flowchart LR` text (renders on GitHub and in most Markdown viewers). */
export function topologyToMermaid(topology: Topology, options: GraphOptions = {}): string {
  const m = model(topology, options);
  const q = (s: string) => s.replaceAll('"', '#quot;');
  const lines = ['flowchart LR'];
  for (const g of m.groups) {
    lines.push(`  subgraph ${g.kind}["${kindTitles[g.kind]}"]`);
    for (const c of g.components) lines.push(`    ${c.id}["${q(c.name)}"]`);
    lines.push('  end');
  }
  for (const t of m.topics) lines.push(`  ${t.id}[("${q(t.name)}")]`);
  for (const e of m.edges) lines.push(`  ${e.from} --> ${e.to}`);
  const derived = m.topics.filter((t) => t.derived).map((t) => t.id);
  lines.push('  classDef topic fill:#eef6ff,stroke:#4a7ab5');
  lines.push('  classDef derived fill:#fff3e6,stroke:#c77d2b,stroke-dasharray:4 2');
  const plain = m.topics.filter((t) => !t.derived).map((t) => t.id);
  if (plain.length > 0) lines.push(`  class ${plain.join(',')} topic`);
  if (derived.length > 0) lines.push(`  class ${derived.join(',')} derived`);
  return `${lines.join('\n')}\n`;
}

/** Graphviz DOT text of the same picture. */
export function topologyToDot(topology: Topology, options: GraphOptions = {}): string {
  const m = model(topology, options);
  const q = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  const lines = [
    'digraph tributary {',
    '  rankdir=LR;',
    '  graph [fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.9];',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [color="#667788", arrowsize=0.7];',
  ];
  for (const g of m.groups) {
    lines.push(`  subgraph cluster_${g.kind} {`);
    lines.push(`    label=${q(kindTitles[g.kind])}; style="rounded"; color="#99aabb";`);
    for (const c of g.components) {
      lines.push(`    ${c.id} [label=${q(c.name)}, shape=box, style="rounded,filled", fillcolor="#e8f0e0"];`);
    }
    lines.push('  }');
  }
  for (const t of m.topics) {
    const style = t.derived
      ? 'style="filled,dashed", fillcolor="#fff3e6", color="#c77d2b"'
      : 'style=filled, fillcolor="#eef6ff", color="#4a7ab5"';
    lines.push(`  ${t.id} [label=${q(t.name)}, shape=cylinder, margin="0.2,0.06", ${style}];`);
  }
  for (const e of m.edges) lines.push(`  ${e.from} -> ${e.to};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

let graphviz: Promise<Graphviz> | undefined;

/** SVG rendered by Graphviz (WebAssembly build, no system package needed). */
export async function renderTopologySvg(topology: Topology, options: GraphOptions = {}): Promise<string> {
  graphviz ??= Graphviz.load();
  return (await graphviz).dot(topologyToDot(topology, options), 'svg');
}

/** PNG of the SVG (sharp rasterises it), at `density` dpi. */
export async function renderTopologyPng(
  topology: Topology,
  options: GraphOptions & { density?: number } = {},
): Promise<Buffer> {
  const svg = await renderTopologySvg(topology, options);
  return sharp(Buffer.from(svg), { density: options.density ?? 96 })
    .flatten({ background: '#ffffff' })
    .png()
    .toBuffer();
}
