/**
 * The console's operator panels (inlined into the page): connectors with pause and resume, the
 * dead-letter browser with redrive, and the audit chain's verification status. Every action is a
 * JSON POST to the hub's own origin; answers and errors are shown next to the button.
 */
export const opsPanels = `
  <section id="connectors-panel"><h2>Connectors</h2>
    <table><thead><tr><th>Connector</th><th>State</th><th>Breakers</th><th></th></tr></thead><tbody id="connectors"></tbody></table>
    <div class="msg" id="connectors-msg"></div></section>
  <section id="dlq-panel"><h2>Dead letters</h2>
    <table><thead><tr><th>DLQ topic</th><th>Records</th><th>Redriven</th><th>From</th><th></th></tr></thead><tbody id="dlq"></tbody></table>
    <div id="dlq-records"></div><div class="msg" id="dlq-msg"></div></section>
  <section id="audit-panel"><h2>Audit chain</h2><div id="audit">checking…</div>
    <button id="audit-verify">Verify now</button></section>`;

export const opsStyle = `
  button { font: inherit; padding: 2px 10px; margin-right: 4px; cursor: pointer; }
  .msg { color: #555; margin-top: 6px; min-height: 1em; } .bad { color: #b3261e; } .good { color: #1e7d32; }
  #dlq-records table { margin-top: 8px; font-size: 13px; }`;

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
async function loadDlq() {
  try {
    const topics = await api('api/dlq');
    document.getElementById('dlq').innerHTML = topics.map((t) => '<tr data-topic="' + esc(t.topic) + '"><td>' + esc(t.topic) + '</td><td class="records">' +
      esc(t.records) + '</td><td class="redriven">' + esc(t.redriven ?? 0) + '</td><td>' + esc(t.source) +
      '</td><td><button class="show">Show</button><button class="redrive">Redrive all</button></td></tr>').join('') ||
      '<tr><td colspan="5">no dead-letter topics</td></tr>';
  } catch (err) { say('dlq-msg', err.message, false); }
}
document.getElementById('dlq').addEventListener('click', async (e) => {
  const button = e.target.closest('button'); if (!button) return;
  const topic = button.closest('tr').dataset.topic;
  try {
    if (button.className === 'show') {
      const letters = await api('api/dlq/records?topic=' + encodeURIComponent(topic));
      document.getElementById('dlq-records').innerHTML = '<table class="letters"><thead><tr><th>Where</th><th>Reason</th><th>Stage</th><th>From</th><th>Failed at</th></tr></thead><tbody>' +
        letters.map((l) => '<tr class="letter"><td>' + esc(l.partition + '/' + l.offset) + '</td><td>' + esc(l.info ? l.info.errorCode + ': ' + l.info.errorMessage : 'no dead-letter headers') +
          '</td><td>' + esc(l.info && l.info.stage) + '</td><td>' + esc(l.info && l.info.originalTopic + '/' + l.info.originalPartition + '/' + l.info.originalOffset) +
          '</td><td>' + esc(l.info && l.info.time) + '</td></tr>').join('') + '</tbody></table>';
    } else {
      const r = await api('api/dlq/redrive', { topic });
      say('dlq-msg', 'redrove ' + r.records.length + ' of ' + r.considered + ' records from ' + topic + (r.alreadyRedriven ? ' (' + r.alreadyRedriven + ' already redriven)' : ''), true);
      loadDlq();
    }
  } catch (err) { say('dlq-msg', err.message, false); }
});
async function loadAudit() {
  const box = document.getElementById('audit');
  try {
    const a = await api('api/audit');
    if (!a.running) { box.textContent = a.reason; box.className = ''; return; }
    const chains = a.chains.map((c) => 'chain ' + c.chain + ': ' + c.entries + ' entries, ' + c.checkpoints + ' checkpoints').join('; ');
    box.textContent = (a.ok ? 'verified: ' + (chains || 'no entries yet') : 'BROKEN: chain ' + a.problem.chain + ' seq ' + a.problem.seq + ': ' + a.problem.reason + ': ' + a.problem.message) + ' (checked ' + a.checkedAt + ')';
    box.className = a.ok ? 'good' : 'bad';
  } catch (err) { box.textContent = err.message; box.className = 'bad'; }
}
document.getElementById('audit-verify').addEventListener('click', loadAudit);
loadConnectors(); loadDlq(); loadAudit();
setInterval(loadConnectors, 3000); setInterval(loadDlq, 5000); setInterval(loadAudit, 30000);
`;
