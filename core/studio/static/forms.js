// Settings forms generated from a component's JSON Schema (the manifest's settings_schema).
//
// Values go back to the model typed as the schema says when the text reads as that type,
// and as the raw text otherwise: "abc" in a whole-number field is sent as "abc" so that the
// server's check (the very one `dougong validate` runs) reports it next to the field, rather
// than the page silently dropping it. An emptied field is removed (the default applies).
"use strict";

const Forms = (() => {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function typeOf(schema) {
    if (schema.enum) return "enum";
    const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== "null") : schema.type;
    if (t === "string" && schema["x-widget"]) return schema["x-widget"];
    return t || "string";
  }

  function parseValue(kind, text, schema) {
    const trimmed = text.trim();
    if (trimmed === "") return undefined;
    if (kind === "integer") return /^-?\d+$/.test(trimmed) ? parseInt(trimmed, 10) : text;
    if (kind === "number") return /^-?\d+(\.\d+)?$/.test(trimmed) ? parseFloat(trimmed) : text;
    if (kind === "enum") {
      const match = schema.enum.find((v) => String(v) === text);
      return match === undefined ? text : match;
    }
    if (kind === "array") {
      const itemKind = typeOf(schema.items || {});
      return trimmed.split(",").map((part) => parseValue(itemKind, part, schema.items || {})).filter((v) => v !== undefined);
    }
    return text;
  }

  function show(value) {
    if (value === undefined || value === null) return "";
    if (Array.isArray(value)) return value.join(", ");
    return String(value);
  }

  function placeholder(kind, schema, t) {
    if (schema.default !== undefined && typeof schema.default !== "object") return `${t("default")}: ${schema.default}`;
    if (Array.isArray(schema.default)) return `${t("default")}: ${schema.default.join(", ")}`;
    if (kind === "duration") return "30m";
    if (kind === "money") return "99.00";
    return "";
  }

  function range(schema, t) {
    const parts = [];
    if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
    if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
    return parts.length ? `${t("range")}: ${parts.join(", ")}` : "";
  }

  // One field; `path` is the dotted setting path the server's problems use.
  function field(name, schema, value, path, onChange, t) {
    const kind = typeOf(schema);
    const id = "field-" + path.replace(/[^A-Za-z0-9_-]/g, "-");
    const help = [schema.description, range(schema, t), kind === "duration" ? t("durationHelp") : "",
      kind === "money" ? t("moneyHelp") : ""].filter(Boolean).join(" · ");
    let input;
    if (kind === "object") {
      const inner = value && typeof value === "object" && !Array.isArray(value) ? value : {};
      const box = el("fieldset", { class: "nested", "data-setting": path }, el("legend", {}, name));
      if (schema.description) box.append(el("p", { class: "help" }, schema.description));
      for (const [key, sub] of Object.entries(schema.properties || {})) {
        box.append(field(key, sub, inner[key], `${path}.${key}`, (v) => {
          const next = { ...inner };
          if (v === undefined) delete next[key]; else next[key] = v;
          onChange(Object.keys(next).length ? next : undefined);
        }, t));
      }
      return box;
    }
    if (kind === "boolean") {
      input = el("select", { id, "data-setting": path },
        el("option", { value: "" }, schema.default !== undefined ? `(${t("default")}: ${schema.default})` : ""),
        el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
      input.value = value === undefined ? "" : String(value);
      input.addEventListener("change", () => onChange(input.value === "" ? undefined : input.value === "true"));
    } else if (kind === "enum") {
      input = el("select", { id, "data-setting": path },
        el("option", { value: "" }, schema.default !== undefined ? `(${t("default")}: ${schema.default})` : ""),
        ...schema.enum.map((v) => el("option", { value: String(v) }, String(v))));
      input.value = value === undefined ? "" : String(value);
      input.addEventListener("change", () => onChange(parseValue(kind, input.value, schema)));
    } else {
      input = el("input", { id, type: "text", "data-setting": path, placeholder: placeholder(kind, schema, t),
        inputmode: kind === "integer" || kind === "number" ? "decimal" : undefined });
      input.value = show(value);
      input.addEventListener("input", () => onChange(parseValue(kind, input.value, schema)));
    }
    return el("div", { class: "field", "data-field": path },
      el("label", { for: id }, name, el("span", { class: "kind" }, t("kind_" + kind))),
      input,
      help ? el("p", { class: "help" }, help) : null,
      el("p", { class: "problem", "data-problem-for": path }));
  }

  // The whole form of one component block (`settings` without the reserved `version`).
  function build(schema, settings, prefix, onChange, t) {
    const form = el("div", { class: "form" });
    const props = (schema && schema.properties) || {};
    if (!Object.keys(props).length) form.append(el("p", { class: "help" }, t("noSettings")));
    const current = { ...(settings || {}) };
    for (const [key, sub] of Object.entries(props)) {
      form.append(field(key, sub, current[key], `${prefix}.${key}`, (v) => {
        if (v === undefined) delete current[key]; else current[key] = v;
        onChange({ ...current });
      }, t));
    }
    return form;
  }

  return { build, el };
})();
