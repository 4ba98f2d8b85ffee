// The reference storefront page: one storefrontPage(slug) query, every block type it knows
// drawn, a placeholder for the others (a third-party component's block, a newer version's).
//
// It asks the schema which block types this brand has (storefrontBlockTypes) first, because a
// GraphQL document may only name fragments of types the schema knows: a brand without
// live_room has no LiveRoomBlock, and `... on LiveRoomBlock` would fail validation.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  const slug = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
  const endpoint = new URL(document.querySelector('meta[name="dougong-graphql"]')?.content || "../graphql", location.href);
  const zh = (params.get("lang") || navigator.language || "zh").toLowerCase().startsWith("zh");
  const words = zh
    ? { unknown: "本页面不认识这种区块", search: "搜索", onAir: "直播中", next: "即将开播", reserved: "人已预约",
        people: "人团", ends: "截止", bids: "次出价", points: "积分", balance: "我的积分", away: "米", noPage: "没有这个页面" }
    : { unknown: "This page does not know this block type", search: "Search", onAir: "On air", next: "Coming up",
        reserved: "reserved", people: "-person group", ends: "ends", bids: "bids", points: "points", balance: "My points",
        away: "m", noPage: "No such page" };

  const MONEY = "fragment Money on Money { amountMinor currency }";
  // What the page asks for each block type it can draw, and how it draws it.
  const KNOWN = {
    CatalogBannerBlock: { fields: "image link alt", draw: banner },
    CatalogSearchBarBlock: { fields: "placeholder", draw: searchBar },
    CatalogProductGridBlock: { fields: "columns products { id title images skus { price { ...Money } } }", draw: grid },
    GroupBuyOffersBlock: { fields: "offers { id groupSize endsAt groupPrice { ...Money } sku { title product { title images } } }", draw: offers },
    AuctionLotsBlock: { fields: "lots { id endsAt bidCount startPrice { ...Money } currentPrice { ...Money } sku { title product { title } } }", draw: lots },
    LiveRoomBlock: { fields: "onAir reservations room { id title coverUrl status scheduledStartAt }", draw: liveRoom },
    PointsMallItemsBlock: { fields: "balance items { id title pointsPrice cashPrice { ...Money } }", draw: pointsItems },
    PickupStoresBlock: { fields: "located stores { distanceMeters store { id name address } }", draw: stores },
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  // Integer minor units, formatted without floating point.
  function money(m) {
    if (!m) return "";
    const sign = m.amountMinor < 0 ? "-" : "";
    const abs = Math.abs(m.amountMinor);
    const symbol = m.currency === "CNY" ? "¥" : `${m.currency} `;
    return `${sign}${symbol}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
  }
  const when = (iso) => new Date(iso).toLocaleString(zh ? "zh-CN" : "en", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
  const picture = (src, alt) => (src ? el("img", { src, alt: alt || "", loading: "lazy" }) : null);

  function banner(b) {
    const img = picture(b.image, b.alt);
    return b.link ? el("a", { href: b.link }, img) : img;
  }
  function searchBar(b) { return el("input", { type: "search", placeholder: b.placeholder, "aria-label": words.search }); }
  function grid(b) {
    const box = el("div", { class: "grid", style: `grid-template-columns: repeat(${b.columns}, minmax(0, 1fr))` });
    for (const p of b.products) {
      box.append(el("div", { class: "card", "data-product": p.id }, picture(p.images[0], p.title),
        el("div", { class: "name" }, p.title), el("div", { class: "price" }, money(p.skus[0] && p.skus[0].price))));
    }
    return box;
  }
  function offers(b) {
    return el("div", {}, ...b.offers.map((o) => el("div", { class: "row", "data-offer": o.id },
      el("span", {}, o.sku ? `${o.sku.product ? o.sku.product.title : ""} ${o.sku.title}` : o.id),
      el("span", {}, el("span", { class: "price" }, money(o.groupPrice)), el("span", { class: "muted" }, ` ${o.groupSize}${words.people}`)))));
  }
  function lots(b) {
    return el("div", {}, ...b.lots.map((l) => el("div", { class: "row", "data-lot": l.id },
      el("span", {}, l.sku && l.sku.product ? l.sku.product.title : l.id),
      el("span", {}, el("span", { class: "price" }, money(l.currentPrice || l.startPrice)),
        el("span", { class: "muted" }, ` ${l.bidCount} ${words.bids} · ${words.ends} ${when(l.endsAt)}`)))));
  }
  function liveRoom(b) {
    const r = b.room;
    if (!r) return null;
    return el("div", {}, picture(r.coverUrl, r.title),
      el("div", {}, b.onAir ? el("span", { class: "live" }, words.onAir) : el("span", { class: "muted" }, `${words.next} ${when(r.scheduledStartAt)}`),
        ` ${r.title}`),
      b.onAir ? null : el("div", { class: "muted" }, `${b.reservations} ${words.reserved}`));
  }
  function pointsItems(b) {
    return el("div", {}, b.balance === null ? null : el("div", { class: "muted" }, `${words.balance}: ${b.balance}`),
      ...b.items.map((i) => el("div", { class: "row", "data-item": i.id }, el("span", {}, i.title),
        el("span", { class: "price" }, `${i.pointsPrice} ${words.points}${i.cashPrice.amountMinor ? " + " + money(i.cashPrice) : ""}`))));
  }
  function stores(b) {
    return el("div", {}, ...b.stores.map((s) => el("div", { class: "row", "data-store": s.store.id },
      el("span", {}, s.store.name, el("div", { class: "muted" }, s.store.address)),
      b.located ? el("span", { class: "muted" }, `${s.distanceMeters}${words.away}`) : null)));
  }
  function placeholder(b) {
    return el("p", {}, `${words.unknown}: `, el("code", {}, b.blockType), ` (${b.__typename})`);
  }

  async function ask(query, variables) {
    const response = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }) });
    const body = await response.json();
    if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
    return body.data;
  }

  function documentFor(present) {
    const known = Object.entries(KNOWN).filter(([type]) => present.has(type));
    const fragments = known.map(([type, k]) => `... on ${type} { ${k.fields} }`).join(" ");
    const usesMoney = known.some(([, k]) => k.fields.includes("...Money"));
    return `query StorefrontPage($slug: String!, $lat: Float, $lng: Float) {
      storefrontPage(slug: $slug, latitude: $lat, longitude: $lng) { slug title blocks { __typename key blockType title ${fragments} } }
    }${usesMoney ? "\n" + MONEY : ""}`;
  }

  async function render() {
    const types = (await ask("query StorefrontBlockTypes { storefrontBlockTypes { graphqlType } }")).storefrontBlockTypes;
    const present = new Set(types.map((t) => t.graphqlType));
    const number = (name) => (params.has(name) && params.get(name) !== "" ? Number(params.get(name)) : null);
    const page = (await ask(documentFor(present), { slug, lat: number("lat"), lng: number("lng") })).storefrontPage;
    if (!page) throw new Error(`${words.noPage}: ${slug}`);
    document.title = page.title;
    document.getElementById("page-title").textContent = page.title;
    const list = document.getElementById("blocks");
    list.replaceChildren(...page.blocks.map((b) => {
      const known = KNOWN[b.__typename];
      const body = known ? known.draw(b) : placeholder(b);
      return el("section", { class: `block ${known ? b.blockType.split(".").pop().replace(/_/g, "-") : "placeholder"}`,
        "data-block-type": b.blockType, "data-key": b.key, "data-known": known ? "yes" : "no" },
        b.title ? el("h2", {}, b.title) : null, body);
    }));
  }

  render().catch((e) => {
    const box = document.getElementById("page-error");
    box.textContent = e.message;
    box.hidden = false;
  }).finally(() => { document.body.dataset.ready = "yes"; });
})();
