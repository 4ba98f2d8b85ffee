// The studio's Pages panel: storefront pages (店铺装修) edited in the blueprint being composed.
//
// A page is a list of blocks; the block types offered are those of the components the draft
// loads (named or pulled in), read from the catalog. Add, reorder (drag and drop, or the ↑ ↓
// buttons and Alt+↑ / Alt+↓ on a focused block), configure (forms from each block's JSON
// Schema, by forms.js like component settings) and remove; problems come from the server's
// check like every other problem, next to the field they name (`pages[0].blocks[2].settings.limit`).
// The phone tab shows the page being edited, unsaved edits included, rendered by the reference
// storefront page from the studio's sandbox (whose pages are swapped in place while the
// components stay the same, so a preview takes a moment rather than a boot).
"use strict";

const StudioPages = (() => {
  const { el } = Forms;
  // The placement's own keys (core/pages.py), as a schema so forms.js draws them too.
  const PLACEMENT = { type: "object", properties: {
    title: { type: "string", description: "heading shown above the block" },
    key: { type: "string", description: "stable name of the block on its page (default: its position)" },
    from: { type: "string", description: "show from (2026-11-01T00:00:00+08:00; no zone: the brand's)" },
    until: { type: "string", description: "show until" },
    members_only: { type: "boolean", default: false, description: "only signed-in members see it" },
    show_empty: { type: "boolean", default: false, description: "show it even when it has nothing in it" },
  } };
  const OWN = Object.keys(PLACEMENT.properties);

  function create(ctx) {
    const { state, t, api, payload, scheduleCheck, notice, $ } = ctx;
    let dragging = null;
    let previewSeq = 0;

    const pages = () => (state.draft && Array.isArray(state.draft.model.pages) ? state.draft.model.pages : null);
    const current = () => (pages() && state.page !== null ? pages()[state.page] : null);

    function blockTypes() {
      const rows = (state.report && state.report.composition) || [];
      const found = {};
      for (const row of rows) {
        for (const b of ((state.catalog[row.name] || {}).page_blocks || [])) found[b.name] = b;
      }
      return found;
    }
    const typeTitle = (b) => (b ? b.titles[state.lang] || b.titles.en || b.name : "");

    function changed(structure) {
      scheduleCheck();
      if (structure) ctx.renderEditor();
      renderList();
    }

    // -- the list of pages (left) ----------------------------------------------------------------
    function renderList() {
      const list = $("pages-list");
      if (!list) return;
      list.replaceChildren();
      if (!state.draft) return;
      const model = state.draft.model;
      if (typeof model.pages === "string") {
        list.append(el("li", { class: "help" }, `${t("pagesInFile")} ${model.pages}`));
        return;
      }
      (pages() || []).forEach((p, i) => list.append(el("li", { class: i === state.page ? "selected" : "" },
        el("button", { class: "link", "data-testid": `page-${p.slug}`, onclick: () => ctx.selectPage(i) }, p.title || p.slug),
        el("span", { class: "muted" }, ` ${p.slug} · ${(p.blocks || []).length} ${t("blocks")}`),
        el("p", { class: "problem", "data-problem-for": `pages[${i}]` }))));
    }

    function addPage() {
      if (!state.draft) { notice(t("openFirst")); return; }
      if (typeof state.draft.model.pages === "string") return;
      const input = $("new-page-slug");
      const slug = input.value.trim();
      if (!slug) { input.focus(); return; }
      state.draft.model.pages = [...(pages() || []), { slug, title: slug, blocks: [] }];
      input.value = "";
      ctx.selectPage(state.draft.model.pages.length - 1);
      scheduleCheck();
    }

    // -- one page (center) -----------------------------------------------------------------------
    function editor() {
      const page = current();
      const index = state.page;
      const kinds = blockTypes();
      const title = el("input", { id: "page-title", type: "text", "data-setting": `pages[${index}].title` });
      title.value = page.title || "";
      title.addEventListener("input", () => { page.title = title.value; scheduleCheck(); renderList(); });
      const choice = el("select", { "data-testid": "block-choice", "aria-label": t("addBlock") },
        ...Object.values(kinds).map((b) => el("option", { value: b.name }, `${typeTitle(b)} (${b.name})`)));
      const blocks = el("ol", { class: "blocks", "data-testid": "page-blocks" },
        ...(page.blocks || []).map((b, i) => blockRow(page, b, i, kinds)));
      const chosen = state.block !== null && page.blocks && page.blocks[state.block];
      return el("div", { "data-testid": "page-editor" },
        el("h2", {}, `${t("page")} `, el("span", { class: "muted" }, page.slug),
          el("button", { class: "small", "data-testid": "remove-page", onclick: removePage }, t("removePage"))),
        el("div", { class: "field" }, el("label", { for: "page-title" }, t("pageTitle")), title,
          el("p", { class: "problem", "data-problem-for": `pages[${index}].title` })),
        el("p", { class: "problem", "data-problem-for": `pages[${index}].slug` }),
        el("h3", {}, t("blocksHeading")), el("p", { class: "help" }, t("reorderHint")), blocks,
        Object.keys(kinds).length
          ? el("div", { class: "row" }, choice, el("button", { "data-testid": "add-block", onclick: () => addBlock(choice.value) }, t("addBlock")))
          : el("p", { class: "help" }, t("noBlockTypes")),
        chosen ? blockForm(page, state.block, kinds) : null);
    }

    function blockRow(page, block, i, kinds) {
      const kind = kinds[block.type];
      const path = `pages[${state.page}].blocks[${i}]`;
      const row = el("li", { class: `block-row${i === state.block ? " selected" : ""}`, draggable: "true", tabindex: "0",
        "data-block-index": String(i), "data-block-type": block.type, "data-testid": `block-${i}`,
        "aria-label": `${typeTitle(kind) || block.type} ${i + 1}/${page.blocks.length}` },
        el("span", { class: "grip", "aria-hidden": "true" }, "⠿"),
        el("button", { class: "link", "data-testid": `configure-block-${i}`, onclick: () => { state.block = i; ctx.renderEditor(); } },
          block.title || typeTitle(kind) || block.type),
        el("span", { class: "muted" }, ` ${block.type}`),
        el("span", { class: "row-buttons" },
          el("button", { class: "small", "data-testid": `up-${i}`, "aria-label": t("moveUp"), disabled: i === 0 ? "" : null, onclick: () => move(i, i - 1) }, "↑"),
          el("button", { class: "small", "data-testid": `down-${i}`, "aria-label": t("moveDown"),
            disabled: i === page.blocks.length - 1 ? "" : null, onclick: () => move(i, i + 1) }, "↓"),
          el("button", { class: "small", "data-testid": `remove-block-${i}`, "aria-label": t("removeBlock"), onclick: () => removeBlock(i) }, "✕")),
        el("p", { class: "problem", "data-problem-for": path }),
        el("p", { class: "problem", "data-problem-for": `${path}.type` }));
      row.addEventListener("dragstart", (e) => { dragging = i; e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", String(i)); });
      row.addEventListener("dragover", (e) => { e.preventDefault(); row.classList.add("drop-target"); });
      row.addEventListener("dragleave", () => row.classList.remove("drop-target"));
      row.addEventListener("drop", (e) => {
        e.preventDefault();
        const from = dragging !== null ? dragging : Number(e.dataTransfer.getData("text/plain"));
        dragging = null;
        if (!Number.isNaN(from)) move(from, i);
      });
      row.addEventListener("keydown", (e) => {
        if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
        e.preventDefault();
        move(i, e.key === "ArrowUp" ? i - 1 : i + 1, true);
      });
      return row;
    }

    function blockForm(page, i, kinds) {
      const block = page.blocks[i];
      const kind = kinds[block.type];
      const path = `pages[${state.page}].blocks[${i}]`;
      const own = Object.fromEntries(OWN.filter((k) => block[k] !== undefined).map((k) => [k, block[k]]));
      return el("div", { class: "block-form", "data-testid": "block-form" },
        el("h3", {}, `${typeTitle(kind) || block.type} `, el("span", { class: "muted" }, block.type)),
        kind ? Forms.build(kind.settings_schema, block.settings || {}, `${path}.settings`, (next) => {
          if (Object.keys(next).length) block.settings = next; else delete block.settings;
          changed(false);
        }, t) : el("p", { class: "help" }, t("unknownBlockType")),
        el("p", { class: "problem", "data-problem-for": `${path}.settings` }),
        el("h3", {}, t("placement")),
        Forms.build(PLACEMENT, own, path, (next) => {
          for (const k of OWN) { if (next[k] === undefined) delete block[k]; else block[k] = next[k]; }
          changed(false);
        }, t));
    }

    function addBlock(type) {
      const page = current();
      page.blocks = [...(page.blocks || []), { type }];
      state.block = page.blocks.length - 1;
      changed(true);
    }

    function move(from, to, keepFocus) {
      const blocks = current().blocks;
      if (to < 0 || to >= blocks.length || from === to) return;
      const [moved] = blocks.splice(from, 1);
      blocks.splice(to, 0, moved);
      if (state.block === from) state.block = to;
      else if (state.block !== null && from < state.block && to >= state.block) state.block -= 1;
      else if (state.block !== null && from > state.block && to <= state.block) state.block += 1;
      changed(true);
      if (keepFocus) { const row = document.querySelector(`[data-block-index="${to}"]`); if (row) row.focus(); }
    }

    function removeBlock(i) {
      current().blocks.splice(i, 1);
      if (state.block === i) state.block = null;
      else if (state.block !== null && state.block > i) state.block -= 1;
      changed(true);
    }

    function removePage() {
      state.draft.model.pages.splice(state.page, 1);
      if (!state.draft.model.pages.length) delete state.draft.model.pages;
      state.page = null;
      state.block = null;
      changed(true);
    }

    // -- the phone preview (right) ---------------------------------------------------------------
    function renderPreview(panel) {
      const all = pages() || [];
      const page = current() || all[0];
      if (!page) { panel.replaceChildren(el("p", { class: "help" }, t("noPages"))); return; }
      const frame = el("iframe", { class: "phone", title: t("phone"), "data-testid": "phone-preview" });
      panel.replaceChildren(el("p", { class: "help", "data-testid": "preview-status" }, t("previewing"), " ", el("strong", {}, page.slug)),
        el("div", { class: "phone-frame" }, frame));
      refreshPreview();
    }

    async function refreshPreview() {
      const frame = document.querySelector('[data-testid="phone-preview"]');
      const page = current() || (pages() || [])[0];
      if (!frame || !page) return;
      const seq = ++previewSeq;
      const line = document.querySelector('[data-testid="preview-status"]');
      try {
        const data = await api("POST", "/api/preview", payload({ slug: page.slug }));
        if (seq !== previewSeq) return;
        frame.src = `${data.url}?lang=${state.lang}&v=${seq}`;
        if (line) line.replaceChildren(t("previewing"), " ", el("strong", {}, page.slug));
      } catch (e) {
        if (seq === previewSeq && line) line.replaceChildren(el("span", { class: "notice" }, e.message));
      }
    }

    function afterCheck() {
      if (state.tab === "phone" && state.report && !state.report.problems.length) refreshPreview();
    }

    return { renderList, editor, addPage, renderPreview, afterCheck, move };
  }

  return { create };
})();
