/**
 * The console's operator panels (inlined into the page): connectors with pause and resume, and
 * each audit chain's verification status (the dead-letter browser is in page-dlq.ts). Every
 * action is a JSON POST to the hub's own origin; answers and errors are shown next to the button.
 */
export const opsPanels = `
  <section id="connectors-panel"><h2>Connectors</h2>
    <table><thead><tr><th>Connector</th><th>State</th><th>Breakers</th><th></th></tr></thead><tbody id="connectors"></tbody></table>
    <div class="msg" id="connectors-msg"></div></section>
  <section id="audit-panel"><h2>Audit chain</h2><div id="audit">checking…</div>
    <table id="audit-chains"></table><button id="audit-verify">Verify now</button></section>`;

export const opsStyle = `
  button { font: inherit; padding: 2px 10px; margin-right: 4px; cursor: pointer; }
  .msg { color: #555; margin-top: 6px; min-height: 1em; } .bad { color: #b3261e; } .good { color: #1e7d32; }`;

export const opsScript = `
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}
function say(id, text, ok) { const m = document.getElementById(id); m.textContent = text; m.className = 'msg ' + (ok ? 'good' : 'bad'); }
async function loadConnectors() {
  try {
    const list = await api('api/connectors');
    document.getElementById('connectors').innerHTML = list.map((c) => '<tr data-name="' + esc(c.name) + '"><td>' + esc(c.name) +
      '</td><td class="cstate">' + (c.paused ? 'paused' : esc(c.state)) + '</td><td>' + esc(c.breakers.join(', ') || '-') +
      '</td><td><button class="' + (c.paused ? 'resume' : 'pause') + '">' + (c.paused ? 'Resume' : 'Pause') + '</button></td></tr>').join('') ||
      '<tr><td colspan="4">no connector runs in this hub</td></tr>';
  } catch (err) { say('connectors-msg', err.message, false); }
}
document.getElementById('connectors').addEventListener('click', async (e) => {
  const button = e.target.closest('button'); if (!button) return;
  const connector = button.closest('tr').dataset.name; const command = button.className;
  try { await api('api/connectors/control', { connector, command }); say('connectors-msg', command + ' sent to ' + connector, true); }
  catch (err) { say('connectors-msg', err.message, false); }
  setTimeout(loadConnectors, 700);
});
async function loadAudit() {
  const box = document.getElementById('audit'); const table = document.getElementById('audit-chains');
  try {
    const a = await api('api/audit');
    if (!a.running) { box.textContent = a.reason; box.className = ''; table.innerHTML = ''; return; }
    const broken = a.chains.filter((c) => !c.ok);
    box.textContent = (a.chains.length === 0 ? 'no chain yet' : a.ok ? 'verified: all ' + a.chains.length + ' chains ok' : 'BROKEN: ' + broken.map((c) => 'chain ' + c.chain).join(', ')) + ' (checked ' + a.checkedAt + ')';
    box.className = a.ok ? 'good' : 'bad';
    table.innerHTML = '<thead><tr><th>Chain</th><th>Status</th><th>Details</th></tr></thead>' + a.chains.map((c) => '<tr data-chain="' + esc(c.chain) + '"><td>' + esc(c.chain) +
      '</td><td class="verdict ' + (c.ok ? 'good' : 'bad') + '">' + (c.ok ? 'ok' : 'broken') + '</td><td>' + esc(c.ok
        ? c.report.entries + ' entries, ' + c.report.checkpoints + ' checkpoints (last at seq ' + c.report.lastCheckpointSeq + ', ' + c.report.unsealed + ' after it)'
        : 'seq ' + c.problem.seq + ' (' + c.problem.file + ' line ' + c.problem.line + '): ' + c.problem.reason + ': ' + c.problem.message) + '</td></tr>').join('');
  } catch (err) { box.textContent = err.message; box.className = 'bad'; }
}
document.getElementById('audit-verify').addEventListener('click', loadAudit);
loadConnectors(); loadAudit();
setInterval(loadConnectors, 3000); setInterval(loadAudit, 30000);
`;
