#!/usr/bin/env node
// Parse and semantically check KQL with Microsoft's Kusto language service
// (npm @kusto/language-service-next, a Bridge.NET build of Kusto.Language).
//
// stdin:  {"query": "...", "tables": {"TableName": "(Col:type, ...)"}}
//         or {"queries": [...], "tables": {...}} to check several queries in one run
//         or {"checks": [{"query": "...", "tables": {...}}, ...]} (each with its own tables)
// stdout: {"diagnostics": [{code, severity, message, start, length}],
//          "resultColumns": [{name, type}]}  (one object, or a list for queries/checks)
// Loading the bundle takes seconds: batch the checks into one run.
"use strict";

const path = require("path");

const pkg = path.join(__dirname, "node_modules", "@kusto", "language-service-next");
// bridge.js defines the global Bridge runtime; the Kusto bundle registers global Kusto.
require(path.join(pkg, "bridge.js"));
require(path.join(pkg, "Kusto.Language.Bridge.js"));
const K = global.Kusto;

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function listItems(list) {
  const out = [];
  if (!list) return out;
  for (let i = 0; i < list.Count; i++) out.push(list.getItem(i));
  return out;
}

function globalsFor(tables) {
  const symbols = Object.entries(tables).map(([name, schema]) =>
    K.Language.Symbols.TableSymbol.From(schema).WithName(name)
  );
  const db = new K.Language.Symbols.DatabaseSymbol.ctor("db", symbols);
  return K.Language.GlobalState.Default.WithDatabase(db);
}

function check(query, globals) {
  const code = K.Language.KustoCode.ParseAndAnalyze(query, globals);
  const diagnostics = listItems(code.GetDiagnostics()).map((d) => ({
    code: d.Code,
    severity: d.Severity,
    message: d.Message,
    start: d.Start,
    length: d.Length,
  }));
  const result = code.ResultType;
  const resultColumns = [];
  if (result && result.Columns) {
    for (const c of listItems(result.Columns)) {
      resultColumns.push({ name: c.Name, type: c.Type ? c.Type.Name : null });
    }
  }
  return { diagnostics, resultColumns };
}

(async () => {
  const input = JSON.parse(await readStdin());
  let out;
  if (Array.isArray(input.checks)) {
    const cache = new Map();
    out = input.checks.map((c) => {
      const key = JSON.stringify(c.tables || {});
      if (!cache.has(key)) cache.set(key, globalsFor(c.tables || {}));
      return check(c.query, cache.get(key));
    });
  } else {
    const globals = globalsFor(input.tables || {});
    out = Array.isArray(input.queries)
      ? input.queries.map((q) => check(q, globals))
      : check(input.query, globals);
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
