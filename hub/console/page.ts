import { dlqPanel, dlqScript, dlqStyle } from './page-dlq.ts';
import { opsPanels, opsScript, opsStyle } from './page-ops.ts';

/**
 * The hub console (served at `/` by the health server): the topology as a picture, a live
 * table of the components and, per component, throughput and lag charts drawn from polls of
 * `/api/overview`. One self-contained page: no build step, no scripts from elsewhere.
 */
export function consolePage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tributary console</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; color: #1d2430; background: #f5f7fa; }
  header { background: #12355b; color: #fff; padding: 12px 20px; display: flex; gap: 24px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #ready.ok { color: #8fe3a0; } #ready.no { color: #ffb3a7; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  #topology { overflow: auto; max-height: 640px; }
  #topology svg { max-width: 100%; height: auto; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e7ee; }
  #charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 12px; }
  .chart { border: 1px solid #e3e7ee; border-radius: 4px; padding: 6px; }
  .chart svg { width: 100%; height: 80px; }
  .tp { stroke: #1f77b4; fill: none; stroke-width: 2; } .lag { stroke: #d62728; fill: none; stroke-width: 2; }
${opsStyle}
${dlqStyle}
</style>
</head>
<body>
<header><h1>Tributary</h1><span id="instance"></span><span id="ready">…</span></header>
<main>
  <section><h2>Topology</h2><div id="topology">loading…</div></section>
  <section><h2>Components</h2>
    <table><thead><tr><th>Component</th><th>State</th><th>Done (processed, recorded, published)</th><th>Dead-lettered</th><th>Lag</th><th>Breakers</th></tr></thead>
    <tbody id="components"></tbody></table></section>
  <section><h2>Throughput (events/s, blue) and lag (red)</h2><div id="charts"></div></section>
${opsPanels}
${dlqPanel}
</main>
<script>
const history = new Map();
const keep = 60;
const done = (c) => Object.entries(c.counters).filter(([k]) => ['processed', 'recorded', 'published', 'succeeded'].includes(k)).reduce((s, [, v]) => s + v, 0);
function line(points, max, cls) {
  if (points.length < 2) return '';
  const step = 300 / (keep - 1);
  const d = points.map((v, i) => (i ? 'L' : 'M') + (i * step).toFixed(1) + ' ' + (78 - (v / (max || 1)) * 74).toFixed(1)).join(' ');
  return '<path class="' + cls + '" d="' + d + '"/>';
}
function render(overview) {
  document.getElementById('instance').textContent = overview.instanceId + ' · ' + overview.version;
  const ready = document.getElementById('ready');
  ready.textContent = overview.readiness.ready ? 'ready' : 'not ready: ' + overview.readiness.reasons.join('; ');
  ready.className = overview.readiness.ready ? 'ok' : 'no';
  const rows = [];
  const charts = [];
  for (const c of overview.components) {
    const total = done(c);
    const h = history.get(c.name) || { tp: [], lag: [], totals: [] };
    // Counters move at each heartbeat (5 s by default): the rate over the last 10 s, not per poll, so the line is not a row of spikes.
    h.totals.push({ time: overview.time, total });
    while (h.totals.length > 2 && overview.time - h.totals[1].time >= 10000) h.totals.shift();
    const first = h.totals[0];
    const rate = overview.time > first.time ? Math.max(0, (total - first.total) / ((overview.time - first.time) / 1000)) : 0;
    h.tp.push(rate); h.lag.push(c.lag ?? 0);
    if (h.tp.length > keep) { h.tp.shift(); h.lag.shift(); }
    history.set(c.name, h);
    const breakers = Object.entries(c.breakers).map(([k, v]) => k + '=' + v).join(', ') || '-';
    rows.push('<tr data-name="' + c.name + '"><td>' + c.name + '</td><td class="state">' + c.state + '</td><td class="done">' + total +
      '</td><td>' + (c.counters.deadLettered ?? '-') + '</td><td>' + (c.lag ?? '-') + '</td><td>' + breakers + '</td></tr>');
    const max = Math.max(1, ...h.tp, ...h.lag);
    charts.push('<div class="chart" data-name="' + c.name + '"><b>' + c.name + '</b><svg viewBox="0 0 300 80" preserveAspectRatio="none">' +
      line(h.tp, max, 'tp') + line(h.lag, max, 'lag') + '</svg></div>');
  }
  document.getElementById('components').innerHTML = rows.join('');
  document.getElementById('charts').innerHTML = charts.join('');
}
async function poll() {
  try {
    const res = await fetch('api/overview');
    render(await res.json());
  } catch (err) {
    const ready = document.getElementById('ready');
    ready.textContent = 'hub unreachable'; ready.className = 'no';
  }
}
fetch('api/topology.svg').then((r) => r.text()).then((text) => {
  const box = document.getElementById('topology');
  box.innerHTML = text;
  // Graphviz sizes the picture in points; fit the whole of it into the box instead.
  const svg = box.querySelector('svg');
  if (svg) { svg.removeAttribute('width'); svg.removeAttribute('height'); svg.style.width = '100%'; svg.style.height = '600px'; }
});
poll();
setInterval(poll, Number(new URLSearchParams(location.search).get('every') || 2000));
${opsScript}
${dlqScript}
</script>
</body>
</html>
`;
}
