// The dashboard: reads the service's JSON API with the bearer token the user types once.
// The token lives in this tab's sessionStorage and only ever travels in the Authorization
// header. Everything is drawn with DOM calls and textContent (rationales are model text).
const TOKEN_KEY = "trader.token";
const $ = (id) => document.getElementById(id);
const num = (x) => (x === null || x === undefined ? "—" : Number(x).toFixed(2));
const krw = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US"));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function say(text, error = false) {
  const box = $("message");
  box.textContent = text;
  box.className = error ? "error" : "";
  box.hidden = !text;
}

let tokenWaiter = null;
function askToken() {
  if (!tokenWaiter) {
    $("login").hidden = false;
    $("token").focus();
    tokenWaiter = new Promise((resolve) => {
      $("login").addEventListener("submit", (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
        $("token").value = "";
        $("login").hidden = true;
        tokenWaiter = null;
        resolve();
      }, { once: true });
    });
  }
  return tokenWaiter;
}

async function api(path, options = {}) {
  for (;;) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(path, { ...options, headers });
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      await askToken();
      continue;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = body && (body.detail || body.error);
      throw new Error(typeof detail === "string" ? detail : `${response.status} ${response.statusText}`);
    }
    return body;
  }
}

// As notification links write it (`trader.wiring.notify`): the colons of a thread id kept.
const sessionPath = (threadId) => `/sessions/${encodeURIComponent(threadId).replace(/%3A/gi, ":")}`;

function sessionFromPath() {
  const match = location.pathname.match(/^\/sessions\/(.+)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

function describeStatus(view) {
  if (view.awaiting_approval) return "waiting for approval";
  if (view.finished) return `finished (${view.status || "done"})`;
  if (view.stopped_part_way) return "stopped part-way: run it again to continue";
  return view.status || "running";
}

function renderSession(view) {
  $("session-id").textContent = view.thread_id;
  const status = describeStatus(view);
  $("session-status").replaceChildren(
    el("strong", { class: "status", dataset: { status: view.finished ? "finished" : view.awaiting_approval ? "awaiting" : "other" } }, status),
    view.buys_halted ? " · buys halted" : "",
    view.notice ? ` · ${view.notice}` : "",
    view.report && view.report.note ? ` · ${view.report.note}` : "",
  );
  renderSignals(view.signals);
  renderApproval(view);
  renderResults(view);
}

function renderSignals(signals) {
  $("signals-section").hidden = signals.length === 0;
  $("signals").replaceChildren(...signals.map((s) => el("tr", { dataset: { ticker: s.ticker } },
    el("td", {}, s.ticker),
    el("td", { class: s.stance || "" }, s.stance ? `${s.stance} (conviction ${num(s.conviction)})` : s.status,
      s.score !== null && s.score !== undefined ? el("div", { class: "muted" }, `score ${num(s.score)}`) : ""),
    el("td", {}, el("ul", { class: "opinions" }, s.opinions.map((o) => el("li", {},
      el("strong", {}, o.agent), ": ",
      el("span", { class: o.stance || "" }, o.stance ? `${o.stance} (${num(o.conviction)})` : o.status),
      o.rationale ? ` — ${o.rationale}` : "")))),
  )));
  drawCharts(signals);
}

function renderApproval(view) {
  const approval = view.approval;
  $("approval").hidden = !approval;
  if (!approval) return;
  const expires = new Date(approval.expires_at);
  // KRX time: the session's clock may be pinned (tests, replays), so no countdown from ours.
  $("expiry").textContent = `${expires.toLocaleString("en-GB", { timeZone: "Asia/Seoul" })} KST`;
  $("approval-orders").replaceChildren(...approval.orders.map(({ order, risk }) => {
    const action = el("select", { class: "action", name: `action-${order.client_order_id}` },
      ["approve", "reject", "edit"].map((a) => el("option", { value: a }, a)));
    const qty = el("input", { class: "qty", type: "number", min: "1", value: order.qty, disabled: true });
    const price = el("input", { class: "price", type: "number", min: "1", value: order.limit_price_krw ?? "", disabled: true });
    action.addEventListener("change", () => {
      qty.disabled = price.disabled = action.value !== "edit";
    });
    return el("tr", { dataset: { orderId: order.client_order_id, ticker: order.ticker } },
      el("td", {}, order.ticker),
      el("td", { class: order.side }, order.side),
      el("td", { class: "num" }, krw(order.qty)),
      el("td", { class: "num" }, krw(order.limit_price_krw)),
      el("td", {}, order.reason, risk.map((r) => el("div", { class: "risk" }, `${r.kind} [${r.code}]: ${r.reason}`))),
      el("td", {}, action), el("td", {}, qty), el("td", {}, price));
  }));
  $("risk-report").replaceChildren(...approval.risk_report.map((line) => el("li", { class: "risk" }, line)));
}

function answerFromForm(view) {
  const decisions = [];
  for (const { order } of view.approval.orders) {
    const row = document.querySelector(`tr[data-order-id="${CSS.escape(order.client_order_id)}"]`);
    const action = row.querySelector(".action").value;
    const decision = { client_order_id: order.client_order_id, action };
    if (action === "edit") {
      const qty = Number(row.querySelector(".qty").value);
      const price = row.querySelector(".price").value;
      if (qty && qty !== order.qty) decision.qty = qty;
      if (price && Number(price) !== order.limit_price_krw) decision.limit_price_krw = Number(price);
    }
    decisions.push(decision);
  }
  return { decisions, approve_all: false, decided_by: $("decided-by").value.trim() || "dashboard" };
}

function renderResults(view) {
  const report = view.report;
  const review = report ? report.review : [];
  $("results").hidden = review.length === 0;
  const executions = new Map((report ? report.executions : []).map((e) => [e.client_order_id, e]));
  $("result-rows").replaceChildren(...review.map((line) => {
    const done = executions.get(line.client_order_id);
    const status = done ? done.status : line.decision === "reject" ? "rejected" : line.decision;
    const avg = done && done.filled_qty ? Math.round(done.filled_value_krw / done.filled_qty) : null;
    return el("tr", { dataset: { resultId: line.client_order_id, ticker: line.ticker } },
      el("td", {}, line.ticker),
      el("td", { class: `decision ${line.decision}` }, line.decision),
      el("td", { class: "num qty" }, line.approved ? krw(line.approved.qty) : "—"),
      el("td", { class: `status ${status}` }, status),
      el("td", { class: "num filled-qty" }, done ? krw(done.filled_qty) : "0"),
      el("td", { class: "num avg-price" }, krw(avg)),
      el("td", {}, [line.note, done && done.note].filter(Boolean).join(" · ")));
  }));
}

// The session may be redrawn while charts load (the progress stream's `done`, then the POST's
// answer): only the latest drawing adds charts.
let chartsDrawing = 0;

async function drawCharts(signals) {
  const drawing = ++chartsDrawing;
  const box = $("charts");
  box.replaceChildren();
  if (!window.Plotly) return;
  for (const signal of signals) {
    if (drawing !== chartsDrawing) return;
    const div = el("div", { class: "chart", dataset: { ticker: signal.ticker } });
    box.append(div);
    let bars;
    try {
      bars = await api(`/api/bars/${encodeURIComponent(signal.ticker)}?days=60`);
    } catch (error) {
      div.textContent = `${signal.ticker}: no prices (${error.message})`;
      continue;
    }
    if (drawing !== chartsDrawing) return;
    if (!bars.length) continue;
    const last = bars[bars.length - 1];
    const colour = signal.stance === "buy" ? "#11763a" : signal.stance === "sell" ? "#b3261e" : "#8a94a3";
    window.Plotly.newPlot(div, [
      { x: bars.map((b) => b.day), y: bars.map((b) => b.close), type: "scatter", mode: "lines", name: "close", line: { color: "#1d4f91" } },
      { x: [last.day], y: [last.close], type: "scatter", mode: "markers+text", name: "signal",
        text: [signal.stance ? `${signal.stance} ${num(signal.score)}` : signal.status], textposition: "top left",
        marker: { size: 12, color: colour, symbol: signal.stance === "sell" ? "triangle-down" : "triangle-up" } },
    ], { title: { text: signal.ticker, font: { size: 13 } }, margin: { l: 55, r: 10, t: 30, b: 30 }, showlegend: false },
    { displayModeBar: false, responsive: true });
  }
}

async function loadPortfolio() {
  const p = await api("/api/portfolio");
  $("portfolio-summary").textContent =
    `Cash ${krw(p.cash_krw)} KRW · equity ${krw(p.equity_krw)} KRW · P&L ${krw(p.pnl_krw)} KRW (${p.pnl_pct}%) · drawdown ${p.drawdown_pct}%`;
  $("positions").replaceChildren(...p.positions.map((pos) => el("tr", { dataset: { ticker: pos.ticker } },
    el("td", {}, pos.ticker), el("td", { class: "num" }, krw(pos.qty)), el("td", { class: "num" }, krw(pos.avg_price_krw)),
    el("td", { class: "num" }, krw(pos.last_price_krw)), el("td", { class: "num" }, krw(pos.market_value_krw)),
    el("td", { class: "num" }, krw(pos.unrealized_pnl_krw)))));
}

async function loadHistory() {
  const runs = await api("/api/sessions?limit=20");
  $("sessions").replaceChildren(...runs.map((r) => el("tr", {},
    el("td", {}, el("a", { href: sessionPath(r.thread_id) }, r.thread_id)),
    el("td", {}, r.session_date), el("td", {}, r.venue || "—"), el("td", {}, r.status), el("td", { class: "num" }, r.orders))));
  return runs;
}

async function loadBacktests() {
  const runs = await api("/api/backtests?limit=20");
  const pct = (x) => (x === null || x === undefined ? "—" : `${num(x)}%`);
  $("backtests").replaceChildren(...runs.map((b) => el("tr", { dataset: { backtest: b.id } },
    el("td", { class: "num" }, b.id), el("td", {}, b.strategy), el("td", {}, b.tickers.join(", ")),
    el("td", {}, `${b.start_date} – ${b.end_date}`), el("td", {}, b.cost_mode),
    el("td", { class: "num" }, krw(b.final_equity_krw)), el("td", { class: "num" }, pct(b.total_return_pct)),
    el("td", { class: "num" }, pct(b.benchmark_return_pct)), el("td", { class: "num" }, pct(b.max_drawdown_pct)),
    el("td", { class: "num" }, num(b.sharpe)), el("td", { class: "num" }, b.closed_trades ?? "—"))));
}

// Progress of a run as it happens: the thread's server-sent events, read with fetch so the
// token goes in the Authorization header (EventSource cannot send one). Resolves once the
// service says it is subscribed (then the run is triggered); null when it cannot be watched.
async function watchProgress(threadId) {
  const controller = new AbortController();
  const headers = { Accept: "text/event-stream" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`/api/sessions/${encodeURIComponent(threadId)}/events`, { headers, signal: controller.signal });
  } catch {
    return null;
  }
  if (!response.ok || !response.body) return null;
  $("progress").hidden = false;
  $("progress-steps").replaceChildren();
  $("progress-fills").textContent = "";
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let subscribed;
  const ready = new Promise((resolve) => { subscribed = resolve; });
  const onEvent = async (kind, data) => {
    if (kind === "step") {
      $("progress-steps").append(el("li", { dataset: { node: data.node } }, el("strong", {}, data.node), `: ${data.line}`));
    } else if (kind === "fills") {
      $("progress-fills").textContent = data.line;
    } else if (kind === "done") {
      if (data.error) $("progress-steps").append(el("li", { class: "error" }, `stopped: ${data.error}`));
      else show(await api(`/api/sessions/${encodeURIComponent(threadId)}`));
    }
  };
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let kind = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) subscribed();
            else if (line.startsWith("event: ")) kind = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data) await onEvent(kind, JSON.parse(data));
        }
      }
    } catch (error) {
      if (error.name !== "AbortError") say(error.message, true);
    } finally {
      subscribed();
    }
  })();
  await ready;
  return { stop: () => controller.abort(), finished: pump };
}

let current = null;

function show(view) {
  current = view;
  renderSession(view);
}

async function refreshSide() {
  await Promise.all([loadPortfolio(), loadHistory()]);
}

async function start() {
  try {
    const health = await fetch("/api/health").then((r) => r.json());
    $("mode").textContent = `${health.trading_mode} · v${health.version}`;
    const runs = await loadHistory();
    await Promise.all([loadPortfolio(), loadBacktests()]);
    const threadId = sessionFromPath() || (runs.length ? runs[0].thread_id : null);
    if (threadId) show(await api(`/api/sessions/${encodeURIComponent(threadId)}`));
  } catch (error) {
    say(error.message, true);
  }
}

$("run").addEventListener("click", async () => {
  $("run").disabled = true;
  say("Running today's session up to its approval…");
  let watch = null;
  try {
    const today = await api("/api/sessions/today");
    watch = await watchProgress(today.thread_id);
    const triggered = await api("/api/sessions", { method: "POST" });
    history.pushState(null, "", sessionPath(triggered.thread_id));
    show(triggered.session);
    if (!triggered.started && watch) watch.stop();
    say(triggered.started ? "" : "Today's session had run already: shown.");
    await refreshSide();
  } catch (error) {
    if (watch) watch.stop();
    say(error.message, true);
  } finally {
    $("run").disabled = false;
  }
});

$("submit-approval").addEventListener("click", async () => {
  if (!current || !current.approval) return;
  const button = $("submit-approval");
  button.disabled = true;
  say("Sending the decisions…");
  let watch = null;
  try {
    const answer = answerFromForm(current);
    watch = await watchProgress(current.thread_id);
    show(await api(`/api/sessions/${encodeURIComponent(current.thread_id)}/approval`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(answer),
    }));
    say("");
    await refreshSide();
  } catch (error) {
    if (watch) watch.stop();
    say(error.message, true);
  } finally {
    button.disabled = false;
  }
});

window.addEventListener("popstate", start);
start();
