// The Vigil console page: plain DOM code over the JSON API under /api/. Data is always
// written with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { me: null, config: null, chart: null, range: null, docTimer: null, series: null };

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const token = sessionStorage.getItem("vigil-token");
  if (token) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (response.status === 401 && state.config && state.config.auth === "cognito") {
    sessionStorage.removeItem("vigil-token");
    showSignIn();
  }
  if (!response.ok) {
    throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  }
  return body;
}

// ---------- sign-in (Cognito, on AWS) ----------

async function cognito(target, body) {
  const c = state.config;
  const response = await fetch(c.endpoint || `https://cognito-idp.${c.region}.amazonaws.com/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService." + target },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message || answer.__type || `sign-in failed (${response.status})`);
  return answer;
}

function showSignIn() {
  for (const id of ["documents", "review", "reports"]) $(id).hidden = true;
  $("signin").hidden = false;
  $("signout").hidden = true;
}

function setUpSignIn() {
  const form = $("signin-form");
  const status = $("signin-status");
  const fields = () => ({ email: form.email.value.trim(), password: form.password.value });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const { email, password } = fields();
    status.textContent = "Signing in…";
    try {
      const r = await cognito("InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH", ClientId: state.config.client_id, AuthParameters: { USERNAME: email, PASSWORD: password } });
      sessionStorage.setItem("vigil-token", r.AuthenticationResult.IdToken);
      status.textContent = "";
      $("signin").hidden = true;
      await start();
    } catch (err) { status.textContent = err.message; }
  });
  $("signup").addEventListener("click", async () => {
    const { email, password } = fields();
    if (!form.reportValidity()) return;
    status.textContent = "Creating your account…";
    try {
      await cognito("SignUp", { ClientId: state.config.client_id, Username: email, Password: password, UserAttributes: [{ Name: "email", Value: email }] });
      status.textContent = "";
      $("confirm-form").hidden = false;
    } catch (err) { status.textContent = err.message; }
  });
  $("confirm-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await cognito("ConfirmSignUp", { ClientId: state.config.client_id, Username: fields().email, ConfirmationCode: e.target.code.value.trim() });
      $("confirm-form").hidden = true;
      status.textContent = "Account confirmed: sign in.";
    } catch (err) { status.textContent = err.message; }
  });
  // Signing out reloads the page, so nothing of the last user's stays on it.
  $("signout").addEventListener("click", () => { sessionStorage.removeItem("vigil-token"); location.hash = "#documents"; location.reload(); });
}

function showError(error) {
  const m = $("message");
  m.textContent = error ? String(error.message || error) : "";
  m.hidden = !error;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

function cell(label, content, cls) {
  const td = el("td", { "data-label": label }, content);
  if (cls) td.className = cls;
  return td;
}

function badge(text) {
  return el("span", { class: "badge " + text }, text.replace("_", " "));
}

function fmtTime(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", "");
}

// ---------- navigation ----------

function route() {
  if (state.config && state.config.auth === "cognito" && !sessionStorage.getItem("vigil-token")) {
    showSignIn();
    return;
  }
  $("signin").hidden = true;
  const name = (location.hash || "#documents").slice(1);
  const allowed = state.me && state.me.analyst ? ["documents", "review", "reports"] : ["documents"];
  const wanted = allowed.includes(name) ? name : "documents";
  for (const id of ["documents", "review", "reports"]) {
    $(id).hidden = id !== wanted;
    const tab = $("tab-" + id);
    if (id === wanted) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  showError(null);
  if (wanted === "documents") loadDocuments();
  if (wanted === "review") loadAlerts();
  if (wanted === "reports") loadReports();
}

// ---------- documents ----------

async function loadDocuments() {
  try {
    const { documents } = await api("/api/documents");
    const body = $("doc-list");
    body.replaceChildren();
    for (const d of documents) {
      const open = el("button", { class: "link", type: "button", onclick: () => showDocument(d.id) }, d.id);
      body.append(el("tr", { "data-id": d.id, "data-verdict": d.verdict },
        cell("Document", open),
        cell("Verdict", badge(d.verdict)),
        cell("Pages", d.pages ?? "", "num"),
        cell("Findings", d.findings, "num"),
        cell("Filed", fmtTime(d.time))));
    }
    $("doc-empty").hidden = documents.length > 0;
    clearTimeout(state.docTimer);
    // Verdicts update as documents are filed (on AWS a moment after the upload).
    if (!$("documents").hidden) {
      const pending = documents.some((d) => d.verdict === "pending");
      state.docTimer = setTimeout(loadDocuments, pending ? 1500 : 5000);
    }
  } catch (e) { showError(e); }
}

async function uploadFile(file) {
  if (!file) return;
  const status = $("upload-status");
  if (file.size > 20 * 1024 * 1024) {
    status.textContent = `${file.name} is larger than 20 MB, the largest accepted.`;
    return;
  }
  status.textContent = `Uploading ${file.name}…`;
  try {
    let d;
    if (state.me && state.me.uploads) {
      const form = new FormData();
      form.append("file", file, file.name);
      d = await api("/api/documents", { method: "POST", body: form });
    } else {
      // On AWS the file goes straight to the upload bucket; the document function files it.
      const target = await api("/api/uploads", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: file.name }) });
      const put = await fetch(target.url, { method: "PUT", headers: target.headers, body: file });
      if (!put.ok) throw new Error(`the upload bucket answered ${put.status}`);
      d = { id: target.id, verdict: "pending", findings: 0 };
    }
    status.textContent = d.verdict === "pending"
      ? `${file.name} uploaded; its verdict appears below when it is filed.`
      : `${file.name}: ${d.verdict.replace("_", " ")} (${d.findings} findings).`;
    await loadDocuments();
    if (d.verdict !== "pending") showDocument(d.id);
  } catch (e) {
    status.textContent = `${file.name} was not accepted: ${e.message}`;
  }
}

async function showDocument(id) {
  const box = $("doc-detail");
  try {
    const { document: d, findings } = await api("/api/documents/" + encodeURIComponent(id));
    box.replaceChildren(el("h3", {}, d.id, " ", badge(d.verdict)));
    if (d.reasons && d.reasons.length) box.append(el("p", {}, d.reasons.join("; ")));
    if (d.downloadable) {
      box.append(el("p", {}, el("a", { href: "/api/documents/" + encodeURIComponent(id) + "/pdf", download: id }, "Download the filed PDF")));
    }
    const all = findings ? [...(findings.entities || []), ...(findings.business || []).map((f) => Object.assign({ business: true }, f))] : [];
    if (!all.length) {
      box.append(el("p", { class: "muted" }, findings ? "No personal data found." : "Waiting to be filed."));
    }
    const pages = [...new Set(all.map((f) => f.page))].sort((a, b) => a - b);
    for (const page of pages) {
      const rows = all.filter((f) => f.page === page).map((f) =>
        el("tr", {},
          cell("Type", f.type + (f.business ? " (business)" : "")),
          cell("Value (masked)", f.masked),
          cell("Score", Number(f.score).toFixed(2), "num"),
          cell("Detector", f.detector),
          cell("Evidence", (f.evidence || []).join("; "))));
      box.append(el("h4", {}, `Page ${page}`),
        el("div", { class: "table-wrap" }, el("table", { class: "cards findings" },
          el("thead", {}, el("tr", {}, ...["Type", "Value (masked)", "Score", "Detector", "Evidence"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, ...rows))));
    }
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  } catch (e) { showError(e); }
}

function setUpDrop() {
  const drop = $("drop");
  const input = $("file");
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
  });
  input.addEventListener("change", () => { uploadFile(input.files[0]); input.value = ""; });
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const ev of ["dragleave", "drop"]) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.remove("over"); });
  }
  drop.addEventListener("drop", (e) => uploadFile(e.dataTransfer.files[0]));
}

// ---------- review ----------

function filterQuery() {
  const form = new FormData($("alert-filter"));
  const params = new URLSearchParams();
  for (const [k, v] of form.entries()) {
    if (!v) continue;
    params.set(k, (k === "from" || k === "to") ? new Date(v + "Z").toISOString() : v);
  }
  params.set("limit", "200");
  return params.toString();
}

async function loadAlerts() {
  try {
    const { alerts } = await api("/api/alerts?" + filterQuery());
    $("alert-count").textContent = `${alerts.length} transactions${alerts.length === 200 ? " (the newest 200)" : ""}`;
    const body = $("alert-list");
    body.replaceChildren(...alerts.map(alertRow));
  } catch (e) { showError(e); }
}

function alertRow(a) {
  const customer = el("span", { class: "customer" }, `${a.customer} · ${a.email}`);
  const reveal = el("button", { class: "link", type: "button", title: "Show the full name (logged)", onclick: async () => {
    try {
      const r = await api("/api/reveal", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ event_id: a.event_id, field: "customer_name" }) });
      customer.textContent = `${r.value} · ${a.email}`;
      reveal.remove();
    } catch (e) { showError(e); }
  } }, "show");
  const current = el("span", { class: "current-label" }, a.label ? badge(a.label) : "");
  const mark = (label) => el("button", { type: "button", "data-label": label, onclick: async () => {
    try {
      const stored = await api("/api/labels", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ event_id: a.event_id, label }) });
      current.replaceChildren(badge(stored.label));
      row.dataset.labelled = stored.label;
    } catch (e) { showError(e); }
  } }, label === "fraud" ? "Fraud" : "Legitimate");
  const row = el("tr", { "data-event": a.event_id },
    cell("Time (UTC)", fmtTime(a.event_time)),
    cell("Outcome", badge(a.outcome)),
    cell("Score", a.score === null || a.score === undefined ? "" : a.score.toFixed(0), "num"),
    cell("Amount", a.amount === null || a.amount === undefined ? "" : `${a.amount.toFixed(2)} ${(a.currency || "").toUpperCase()}`, "num"),
    cell("Customer", el("span", {}, customer, " ", reveal)),
    cell("Reasons", el("ul", {}, ...a.reasons.map((r) => el("li", {}, r))), "reasons-cell"),
    cell("Label", el("div", { class: "label-actions" }, current, mark("fraud"), mark("legit"))));
  if (a.label) row.dataset.labelled = a.label;
  return row;
}

// ---------- reports ----------

async function loadReports() {
  await drawSeries(state.range);
  loadReasons();
}

async function drawSeries(range) {
  try {
    const q = range ? `?from=${Math.floor(range[0])}&to=${Math.ceil(range[1])}` : "";
    const s = await api("/api/series" + q);
    state.series = s;
    const bucket = s.bucket_seconds >= 3600 ? `${s.bucket_seconds / 3600} h` : `${s.bucket_seconds / 60} min`;
    $("chart-range").textContent = `${new Date(s.from * 1000).toISOString().slice(0, 16).replace("T", " ")} – ${new Date(s.to * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC, ${s.times.length} buckets of ${bucket}`;
    const box = $("chart");
    if (typeof uPlot === "undefined") {
      box.replaceChildren(el("p", { class: "muted" }, "Charts are not in this build (uPlot was not found when it was built: run infra/setup.sh build and rebuild). The counts:"), seriesTable(s));
      return;
    }
    const data = [s.times, s.approve, s.review, s.block];
    const width = Math.max(300, box.clientWidth - 16);
    if (state.chart) state.chart.destroy();
    box.replaceChildren();
    state.chart = new uPlot({
      width, height: 300,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      series: [
        { label: "Time (UTC)" },
        { label: "approve", stroke: "#2e7d32", width: 1.5 },
        { label: "review", stroke: "#b54708", width: 1.5 },
        { label: "block", stroke: "#b42318", width: 1.5 },
      ],
      axes: [{}, { label: "transactions", size: 60 }],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 5) return;
          const from = u.posToVal(u.select.left, "x");
          const to = u.posToVal(u.select.left + u.select.width, "x");
          state.range = [from, to];
          drawSeries(state.range);
          loadReasons();
        }],
        setCursor: [(u) => {
          const i = u.cursor.idx;
          if (i === null || i === undefined) return;
          const t = new Date(s.times[i] * 1000).toISOString().slice(0, 16).replace("T", " ");
          $("chart-hover").textContent = `${t} UTC: approve ${s.approve[i]}, review ${s.review[i]}, block ${s.block[i]}`;
          $("chart-hover").dataset.index = i;
        }],
      },
    }, data, box);
  } catch (e) { showError(e); }
}

function seriesTable(s) {
  return el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, ...["Bucket (UTC)", "approve", "review", "block"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...s.times.map((t, i) => el("tr", {},
      el("td", {}, new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ")),
      el("td", { class: "num" }, s.approve[i]), el("td", { class: "num" }, s.review[i]), el("td", { class: "num" }, s.block[i])))));
}

async function loadReasons() {
  try {
    const q = state.range ? `?from=${Math.floor(state.range[0])}&to=${Math.ceil(state.range[1])}` : "";
    const { reasons } = await api("/api/reasons" + q);
    const top = Math.max(1, ...reasons.map((r) => r.transactions));
    $("reasons").replaceChildren(...reasons.map((r) => el("li", {}, `${r.reason} — ${r.transactions}`,
      el("span", { class: "bar-fill", style: `width:${Math.round(160 * r.transactions / top)}px`, "aria-hidden": "true" }))));
  } catch (e) { showError(e); }
}

async function runSql(event) {
  event.preventDefault();
  const status = $("sql-status");
  status.textContent = "Running…";
  try {
    const r = await api("/api/query", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sql: $("sql").value }) });
    status.textContent = `${r.rows.length} rows${r.truncated ? ` (${r.truncated} more not shown)` : ""}`;
    const show = (v) => v === null || v === undefined ? "" : (typeof v === "object" ? JSON.stringify(v) : String(v));
    $("sql-result").replaceChildren(
      el("thead", {}, el("tr", {}, ...r.columns.map((c) => el("th", { scope: "col" }, c)))),
      el("tbody", {}, ...r.rows.map((row) => el("tr", {}, ...r.columns.map((c) => el("td", {}, show(row[c])))))));
  } catch (e) {
    status.textContent = e.message;
    $("sql-result").replaceChildren();
  }
}

// ---------- start ----------

function setUp() {
  setUpDrop();
  setUpSignIn();
  $("alert-filter").addEventListener("submit", (e) => { e.preventDefault(); loadAlerts(); });
  $("sql-form").addEventListener("submit", runSql);
  $("chart-reset").addEventListener("click", () => { state.range = null; loadReports(); });
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", () => {
    if (state.chart) state.chart.setSize({ width: Math.max(300, $("chart").clientWidth - 16), height: 300 });
  });
}

async function start() {
  try {
    state.config = state.config || await api("/api/config");
  } catch (e) { showError(e); return; }
  if (state.config.auth === "cognito" && !sessionStorage.getItem("vigil-token")) {
    showSignIn();
    return;
  }
  $("signout").hidden = state.config.auth !== "cognito";
  try {
    state.me = await api("/api/me");
    $("who").textContent = `${state.me.name}${state.me.analyst ? " · analyst" : ""}`;
    for (const t of document.querySelectorAll(".analyst")) t.hidden = !state.me.analyst;
  } catch (e) { showError(e); return; }
  route();
}

setUp();
start();
