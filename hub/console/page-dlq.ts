/**
 * The console's dead-letter browser (inlined into the page after page-ops' helpers): the DLQ
 * topics holding letters with their counts (the empty ones only counted), a topic's letters
 * with why and where they failed, one letter in full, and redrive of one letter or of all of a
 * topic (JSON POSTs to the hub's own origin).
 */
export const dlqPanel = `
  <section id="dlq-panel"><h2>Dead letters</h2>
    <table><thead><tr><th>DLQ topic</th><th>Records</th><th>Redriven</th><th>From</th><th></th></tr></thead><tbody id="dlq"></tbody></table>
    <div id="dlq-records"></div><pre id="dlq-letter" hidden></pre><div class="msg" id="dlq-msg"></div></section>`;

export const dlqStyle = `
  #dlq-records table { margin-top: 8px; font-size: 13px; }
  #dlq-letter { background: #f5f7fa; padding: 8px; font-size: 12px; max-height: 320px; overflow: auto; white-space: pre-wrap; }`;

export const dlqScript = `
let shownTopic; let shownLetters = [];
async function loadDlq() {
  try {
    const all = await api('api/dlq');
    // Every stream has a DLQ topic; the empty ones are counted, not listed.
    const topics = all.filter((t) => t.records > 0 || t.topic === shownTopic);
    const empty = all.length - topics.length;
    document.getElementById('dlq').innerHTML = topics.map((t) => '<tr data-topic="' + esc(t.topic) + '"><td>' + esc(t.topic) + '</td><td class="records">' +
      esc(t.records) + '</td><td class="redriven">' + esc(t.redriven ?? 0) + '</td><td>' + esc(t.source) +
      '</td><td><button class="show">Show</button><button class="redrive">Redrive all</button></td></tr>').join('') +
      (empty > 0 ? '<tr class="empty"><td colspan="5">' + (topics.length ? 'and ' : '') + empty + ' empty dead-letter topics</td></tr>' : '') ||
      '<tr><td colspan="5">no dead-letter topics</td></tr>';
  } catch (err) { say('dlq-msg', err.message, false); }
}
async function showLetters(topic) {
  shownTopic = topic;
  shownLetters = await api('api/dlq/records?topic=' + encodeURIComponent(topic));
  document.getElementById('dlq-letter').hidden = true;
  document.getElementById('dlq-records').innerHTML = '<b>' + esc(topic) + '</b><table class="letters"><thead><tr><th>Where</th><th>Reason</th><th>Stage</th><th>From</th><th>Failed at</th><th></th></tr></thead><tbody>' +
    shownLetters.map((l, i) => '<tr class="letter" data-i="' + i + '" data-partition="' + esc(l.partition) + '" data-offset="' + esc(l.offset) + '"><td>' + esc(l.partition + '/' + l.offset) +
      '</td><td>' + esc(l.info ? l.info.errorCode + ': ' + l.info.errorMessage : 'no dead-letter headers') + '</td><td>' + esc(l.info && l.info.stage) +
      '</td><td>' + esc(l.info && l.info.originalTopic + '/' + l.info.originalPartition + '/' + l.info.originalOffset) + '</td><td>' + esc(l.info && l.info.time) +
      '</td><td><button class="view">View</button>' + (l.info ? '<button class="redrive-one">Redrive</button>' : '') + '</td></tr>').join('') + '</tbody></table>';
}
function redriven(r) {
  const sent = r.records.map((x) => x.partition + '/' + x.offset + ' -> ' + x.target + ' ' + x.targetPartition + '/' + x.targetOffset).join(', ');
  return 'redrove ' + r.records.length + ' of ' + r.considered + ' records from ' + r.topic + (r.alreadyRedriven ? ' (' + r.alreadyRedriven + ' already redriven)' : '') + (sent ? ': ' + sent : '');
}
document.getElementById('dlq').addEventListener('click', async (e) => {
  const button = e.target.closest('button'); if (!button) return;
  const topic = button.closest('tr').dataset.topic;
  try {
    if (button.className === 'show') await showLetters(topic);
    else { say('dlq-msg', redriven(await api('api/dlq/redrive', { topic })), true); loadDlq(); }
  } catch (err) { say('dlq-msg', err.message, false); }
});
document.getElementById('dlq-records').addEventListener('click', async (e) => {
  const button = e.target.closest('button'); if (!button) return;
  const row = button.closest('tr');
  const letter = shownLetters[Number(row.dataset.i)];
  if (button.className === 'view') {
    const box = document.getElementById('dlq-letter');
    box.textContent = JSON.stringify(letter, null, 2); box.hidden = false;
    return;
  }
  try {
    const r = await api('api/dlq/redrive', { topic: shownTopic, partition: Number(row.dataset.partition), offset: row.dataset.offset });
    say('dlq-msg', redriven(r), true); loadDlq();
  } catch (err) { say('dlq-msg', err.message, false); }
});
loadDlq(); setInterval(loadDlq, 5000);
`;
