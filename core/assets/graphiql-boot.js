// Starts the vendored GraphiQL with the page's configuration (see core/assets/__init__.py).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("dougong-graphiql-config").textContent);
  var url = config.fetchUrl ? new URL(config.fetchUrl, window.location.href).toString() : window.location.href.split("?")[0];
  var ws = new URL(url);
  ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: ws.toString() });

  // A page with its own tabs (a sandbox's examples) must not be replaced by the tabs
  // GraphiQL saved for another page of the same origin: keep its state in memory only.
  var memory = {};
  var storage = config.rememberTabs ? undefined : {
    getItem: function (k) { return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null; },
    setItem: function (k, v) { memory[k] = String(v); },
    removeItem: function (k) { delete memory[k]; },
    clear: function () { memory = {}; },
    get length() { return Object.keys(memory).length; },
  };
  var tabs = (config.tabs || []).map(function (t) {
    return { query: t.query, variables: t.variables || undefined, headers: t.headers || undefined };
  });
  var props = { fetcher: fetcher, defaultEditorToolsVisibility: true, isHeadersEditorEnabled: true };
  if (tabs.length) { props.defaultTabs = tabs; }
  if (storage) { props.storage = storage; }
  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(GraphiQL, props));
})();
