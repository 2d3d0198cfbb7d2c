// Runs SQL queries with DuckDB (the npm package @duckdb/node-api) and prints
// their results as one JSON document: [{columns, types, rows}, ...], values
// in DuckDB's lossless JSON form (big integers as strings).
//
// usage: node duckdb_query.cjs NODE_MODULES_PARENT 'SQL' ['SQL' ...]
'use strict';
const path = require('path');

async function main() {
  const [moduleDir, ...queries] = process.argv.slice(2);
  if (!moduleDir || queries.length === 0) {
    throw new Error('usage: node duckdb_query.cjs NODE_MODULES_PARENT SQL...');
  }
  const duckdb = require(path.join(moduleDir, 'node_modules', '@duckdb', 'node-api'));
  const instance = await duckdb.DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  const out = [];
  for (const sql of queries) {
    const reader = await connection.runAndReadAll(sql);
    out.push({
      columns: reader.columnNames(),
      types: reader.columnTypes().map((t) => t.toString()),
      rows: reader.getRowsJson(),
    });
  }
  connection.disconnectSync();
  process.stdout.write(JSON.stringify({ version: duckdb.version(), results: out }) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
