// The studio page: compose a blueprint, see every problem as you type, diff, preview, save, try.
//
// The page holds the blueprint as JSON (`draft.model`) and the text it was opened from; the
// server renders one into the other, runs the same checks as `dougong validate` and answers
// with the YAML, the problems, the components and the diff (`report`). Nothing is written
// until Save, which shows the diff first. Storefront pages are edited by pages.js.
"use strict";

(() => {
  const { el } = Forms;
  const $ = (id) => document.getElementById(id);
  const state = {
    lang: new URLSearchParams(location.search).get("lang") || localStorage.getItem("dougong-studio-lang") || "zh",
    catalog: {}, templates: {}, draft: null, report: null, selected: null, page: null, block: null, tab: "yaml", sandbox: null, checkTimer: null, checkSeq: 0,
  };
  const t = (key) => (I18N[state.lang] || I18N.en)[key] || I18N.en[key] || key;
  const title = (c) => (c.titles[state.lang] || c.titles.en || c.name);
  const summary = (c) => (c.summaries[state.lang] || c.summaries.en || "");

  async function api(method, url, body) {
    const response = await fetch(url, {
      method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({ error: { code: "BAD_RESPONSE", message: response.statusText } }));
    if (!response.ok) throw Object.assign(new Error(data.error ? data.error.message : response.statusText), { status: response.status, data });
    return data;
  }

  function payload(extra) {
    const d = state.draft;
    return { name: d.name, base_text: d.base_text, base_hash: d.base_hash, model: d.model, ...(extra || {}) };
  }

  function notice(text) { $("notice").textContent = text || ""; }
  function status(text) { $("status").textContent = text || ""; }

  // -- language --------------------------------------------------------------------------------
  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
    $("language").textContent = t("language");
    $("catalog-filter").placeholder = t("filter");
    renderAll();
  }

  // -- catalog -----------------------------------------------------------------------------------
  function provides(c) {
    const p = c.provides || {};
    return [...Object.values(p).flat(), ...(c.emits || []), ...(c.handles || []), c.name, title(c), summary(c)].join(" ").toLowerCase();
  }

  function renderCatalog() {
    const filter = $("catalog-filter").value.trim().toLowerCase();
    const list = $("catalog");
    list.replaceChildren();
    for (const c of Object.values(state.catalog)) {
      if (filter && !provides(c).includes(filter)) continue;
      list.append(el("li", { "data-component": c.name },
        el("button", { class: "link", onclick: () => showDetail(c.name) }, title(c)),
        el("span", { class: "muted" }, ` ${c.name} ${c.version}`),
        el("p", { class: "help" }, summary(c))));
    }
    const choice = $("add-choice");
    choice.replaceChildren(...Object.values(state.catalog).map((c) => el("option", { value: c.name }, `${title(c)} (${c.name})`)));
  }

  function listOf(label, values) {
    return el("p", {}, el("strong", {}, `${label}: `), values && values.length ? values.join(", ") : t("none"));
  }

  function showDetail(name) {
    const c = state.catalog[name];
    state.selected = null;
    const readme = el("div", { class: "readme" });
    readme.innerHTML = c.readme_html; // rendered server-side from Markdown with raw HTML disabled
    const p = c.provides || {};
    $("editor").replaceChildren(el("article", { "data-testid": "catalog-detail" },
      el("h2", {}, `${title(c)} `, el("span", { class: "muted" }, `${c.name} ${c.version}`)),
      el("p", {}, summary(c)),
      listOf(t("depends"), Object.entries(c.depends).map(([n, r]) => `${n} ${r}`)),
      listOf(t("emits"), c.emits), listOf(t("handles"), c.handles),
      listOf(`${t("provides")} (Query)`, p.queries), listOf(`${t("provides")} (Mutation)`, p.mutations),
      listOf(`${t("provides")} (Subscription)`, p.subscriptions), listOf(`${t("provides")} (types)`, p.types),
      el("h3", {}, t("settings")), Forms.build(c.settings_schema, {}, `catalog.${c.name}`, () => {}, t),
      el("h3", {}, t("readme")), readme));
  }

  // -- composition and settings -------------------------------------------------------------------
  function renderComposition() {
    const list = $("composition");
    list.replaceChildren();
    if (!state.report) return;
    for (const row of state.report.composition) {
      const c = state.catalog[row.name];
      const label = c ? title(c) : row.name;
      const why = row.named ? t("named") : `${t("neededBy")} ${row.needed_by.slice(0, -1).join(" → ")}`;
      list.append(el("li", { "data-component": row.name, class: row.name === state.selected ? "selected" : "" },
        el("button", { class: "link", onclick: () => select(row.name), "data-testid": `select-${row.name}` }, label),
        el("span", { class: "muted" }, ` ${row.name} · ${why}`),
        row.named ? el("button", { class: "small", onclick: () => removeComponent(row.name), "data-testid": `remove-${row.name}` }, t("remove")) : null,
        el("p", { class: "problem", "data-problem-for": `components.${row.name}` })));
    }
  }

  function select(name) {
    state.selected = name;
    state.page = null;
    renderEditor();
    renderComposition();
    showProblems();
  }

  function renderEditor() {
    const editor = $("editor");
    const name = state.selected;
    if (state.draft && state.page !== null && Array.isArray(state.draft.model.pages) && state.draft.model.pages[state.page]) {
      editor.replaceChildren(pages.editor());
      showProblems();
      return;
    }
    if (!state.draft || !name) {
      editor.replaceChildren(el("p", { class: "help" }, t("selectHint")));
      return;
    }
    const c = state.catalog[name];
    const blocks = state.draft.model.components || {};
    const settings = { ...(blocks[name] || {}) };
    delete settings.version;
    const form = c ? Forms.build(c.settings_schema, settings, `components.${name}`, (next) => {
      const version = (blocks[name] || {}).version;
      state.draft.model.components = { ...(state.draft.model.components || {}), [name]: version ? { version, ...next } : next };
      scheduleCheck();
    }, t) : el("p", {}, name);
    editor.replaceChildren(el("h2", {}, c ? `${title(c)} ` : "", el("span", { class: "muted" }, name)),
      c ? el("p", { class: "help" }, summary(c)) : null, form);
  }

  function renderBrand() {
    const box = $("brand-form");
    if (!state.draft) { box.replaceChildren(); return; }
    const brand = state.draft.model.brand || {};
    const fields = ["slug", "name", "currency", "timezone"].map((key) => {
      const input = el("input", { id: `brand-${key}`, "data-setting": `brand.${key}`, type: "text" });
      input.value = brand[key] === undefined ? "" : String(brand[key]);
      input.addEventListener("input", () => {
        state.draft.model.brand = { ...(state.draft.model.brand || {}), [key]: input.value };
        scheduleCheck();
      });
      return el("div", { class: "field" }, el("label", { for: `brand-${key}` }, key), input,
        el("p", { class: "problem", "data-problem-for": `brand.${key}` }));
    });
    box.replaceChildren(el("h2", {}, t("brand")), el("div", { class: "brand-grid" }, ...fields));
  }

  // -- problems, panels ------------------------------------------------------------------------
  function showProblems() {
    const problems = (state.report && state.report.problems) || [];
    document.querySelectorAll("[data-problem-for]").forEach((node) => { node.textContent = ""; });
    document.querySelectorAll(".field.invalid").forEach((node) => node.classList.remove("invalid"));
    const list = $("problems");
    if (!state.report) { list.replaceChildren(); return; } // nothing open: nothing checked yet
    list.replaceChildren(...(problems.length ? problems.map((p) => el("li", { class: "problem-line" }, p.text))
      : [el("li", { class: "ok" }, t("noProblems"))]));
    for (const p of problems) {
      // Next to its field: the setting itself, else the nearest enclosing field or component.
      let path = p.setting || "";
      while (path) {
        const slot = document.querySelector(`[data-problem-for="${CSS.escape(path)}"]`);
        if (slot) {
          slot.textContent = p.hint ? `${p.message} (${p.hint})` : p.message;
          const fieldBox = slot.closest(".field");
          if (fieldBox) fieldBox.classList.add("invalid");
          break;
        }
        path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
      }
    }
  }

  function renderPanel() {
    const panel = $("panel");
    document.querySelectorAll("[data-tab]").forEach((b) => b.classList.toggle("active", b.dataset.tab === state.tab));
    if (!state.report) { panel.replaceChildren(); return; }
    if (state.tab === "yaml") panel.replaceChildren(el("pre", { "data-testid": "yaml" }, state.report.text));
    if (state.tab === "diff") panel.replaceChildren(el("pre", { class: "diff", "data-testid": "diff" }, state.report.diff || t("nothingToSave")));
    if (state.tab === "sdl") loadSdl();
    if (state.tab === "try") renderTry();
    if (state.tab === "phone") pages.renderPreview(panel);
  }

  async function loadSdl() {
    const panel = $("panel");
    panel.replaceChildren(el("p", {}, t("checking")));
    const data = await api("POST", "/api/sdl", payload()).catch((e) => ({ error: e.message }));
    if (data.error || !data.sdl) {
      panel.replaceChildren(el("p", { class: "notice" }, data.error || t("fixFirst")));
      return;
    }
    const report = el("div", { "data-testid": "changes" });
    if (!data.changes) report.append(el("p", { class: "help" }, t("newFile")));
    else {
      report.append(el("h3", {}, t("againstSaved")));
      const all = ["breaking", "dangerous", "deprecated", "added"].flatMap((kind) => (data.changes[kind] || []).map((text) => el("li", { class: kind }, `${t("change_" + kind)}: ${text}`)));
      report.append(all.length ? el("ul", {}, ...all) : el("p", {}, t("noChange")));
    }
    panel.replaceChildren(report, el("pre", { "data-testid": "sdl" }, data.sdl));
  }

  function renderTry() {
    const panel = $("panel");
    const button = el("button", { class: "primary", "data-testid": "start-sandbox", onclick: startSandbox }, t("startSandbox"));
    const parts = [button];
    if (state.sandbox) {
      parts.push(el("p", { "data-testid": "sandbox-ready" }, t("sandboxReady"), " ",
        el("a", { href: state.sandbox.url, target: "_blank", "data-testid": "sandbox-link" }, t("openGraphiql"))),
        el("ul", {}, ...state.sandbox.examples.map((x) => el("li", {}, x))));
    }
    panel.replaceChildren(...parts);
  }

  async function startSandbox() {
    status(t("checking"));
    try {
      state.sandbox = await api("POST", "/api/sandbox", payload());
      status("");
      window.open(state.sandbox.url, "_blank");
    } catch (e) {
      status("");
      notice(e.message);
    }
    renderTry();
  }

  function selectPage(index) {
    state.page = index;
    state.block = null;
    state.selected = null;
    renderComposition();
    renderEditor();
    pages.renderList();
    if (state.tab === "phone") renderPanel();
  }

  function renderAll() {
    renderCatalog();
    renderComposition();
    pages.renderList();
    renderBrand();
    renderEditor();
    renderPanel();
    showProblems();
    $("current-file").textContent = state.draft ? state.draft.name : "";
  }

  // -- talking to the server -------------------------------------------------------------------
  function scheduleCheck() {
    status(t("checking"));
    clearTimeout(state.checkTimer);
    state.checkTimer = setTimeout(check, 300);
  }

  async function check() {
    const seq = ++state.checkSeq;
    try {
      const report = await api("POST", "/api/check", payload());
      if (seq !== state.checkSeq) return; // an older answer arriving late must not win
      state.report = report;
      status("");
      renderComposition();
      showProblems();
      if (state.tab === "yaml" || state.tab === "diff") renderPanel();
      pages.afterCheck();
    } catch (e) {
      status("");
      notice(e.message);
    }
  }

  function adopt(data) {
    state.draft = { name: data.name, base_text: data.base_text, base_hash: data.base_hash, model: data.model || state.draft.model };
    state.report = data;
    state.sandbox = null;
    state.page = null;
    state.block = null;
    renderAll();
  }

  async function addComponent() {
    if (!state.draft) { notice(t("openFirst")); return; }
    const name = $("add-choice").value;
    try {
      const data = await api("POST", "/api/compose/add", payload({ component: name }));
      state.draft.model = data.model;
      state.report = data;
      const came = data.came.map((row) => `${row.name} (${t("because")}: ${row.needed_by.slice(0, -1).join(" → ")})`);
      notice(`${t("added")}: ${name}` + (came.length ? `; ${t("cameWith")}: ${came.join(", ")}` : ""));
      select(name);
      renderPanel();
    } catch (e) { notice(e.message); }
  }

  async function removeComponent(name) {
    try {
      const data = await api("POST", "/api/compose/remove", payload({ component: name }));
      state.draft.model = data.model;
      state.report = data;
      if (state.selected === name) state.selected = null;
      notice("");
      renderAll();
    } catch (e) { notice(e.message); }
  }

  async function openSave() {
    if (!state.draft) { notice(t("openFirst")); return; }
    await check();
    $("save-error").textContent = "";
    $("save-diff").textContent = state.report.diff || t("nothingToSave");
    $("save-dialog").showModal();
  }

  async function confirmSave() {
    try {
      const data = await api("POST", "/api/save", payload());
      $("save-dialog").close();
      const [page, block] = [state.page, state.block]; // saving is no reason to lose one's place
      adopt({ ...data, model: state.draft.model });
      if (page !== null) { state.page = page; state.block = block; renderEditor(); pages.renderList(); }
      notice(`${t("saved")}: ${data.name}`);
      await refreshFiles();
    } catch (e) {
      $("save-error").textContent = `${t("conflict")}: ${e.message}`;
      if (e.data && e.data.error && e.data.error.diff) $("save-diff").textContent = e.data.error.diff;
    }
  }

  async function refreshFiles() {
    const data = await api("GET", "/api/files");
    $("file-list").replaceChildren(...data.files.map((f) => el("option", { value: f }, f)));
    if (state.draft) $("file-list").value = state.draft.name;
  }

  async function openFile() {
    const name = $("file-list").value;
    if (!name) return;
    try { adopt(await api("GET", `/api/file?name=${encodeURIComponent(name)}`)); notice(""); } catch (e) { notice(e.message); }
  }

  async function createBrand(event) {
    event.preventDefault();
    try {
      const data = await api("POST", "/api/new", { name: $("new-file").value.trim(), template: $("new-template").value,
        slug: $("new-slug").value.trim() || null, brand_name: $("new-name").value.trim() || null });
      $("new-dialog").close();
      state.selected = null;
      adopt(data);
      notice("");
    } catch (e) { $("new-error").textContent = e.message; }
  }

  async function start() {
    const data = await api("GET", "/api/catalog");
    state.catalog = Object.fromEntries(data.components.map((c) => [c.name, c]));
    state.templates = data.templates;
    $("new-template").replaceChildren(...Object.entries(state.templates).map(([id, titles]) =>
      el("option", { value: id }, titles[state.lang] || titles.en)));
    $("language").addEventListener("click", () => {
      state.lang = state.lang === "zh" ? "en" : "zh";
      localStorage.setItem("dougong-studio-lang", state.lang);
      applyLanguage();
    });
    $("catalog-filter").addEventListener("input", renderCatalog);
    $("add-component").addEventListener("click", addComponent);
    $("open-file").addEventListener("click", openFile);
    $("new-brand").addEventListener("click", () => { $("new-error").textContent = ""; $("new-dialog").showModal(); });
    $("new-create").addEventListener("click", createBrand);
    $("save").addEventListener("click", openSave);
    $("save-confirm").addEventListener("click", confirmSave);
    $("save-cancel").addEventListener("click", () => $("save-dialog").close());
    $("add-page").addEventListener("click", pages.addPage);
    document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => { state.tab = b.dataset.tab; renderPanel(); }));
    await refreshFiles();
    applyLanguage();
    document.body.dataset.ready = "yes"; // the browser test waits for this
  }

  const pages = StudioPages.create({ state, t, api, payload, scheduleCheck, notice, $, renderEditor, selectPage });
  start().catch((e) => notice(e.message));
})();
