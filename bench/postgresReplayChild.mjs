// Run in a child process, on the compiled package as a user runs it:
//   node bench/postgresReplayChild.mjs moai|raw <url> <schema>
// moai: replay every event of the schema into every projection, with verification.
// raw: the floor, one SELECT of the same rows streamed through a cursor, meta and data JSON.parsed.
import pg from 'pg';
import { replay } from '../dist/src/index.js';
import { openPostgresEventStore } from '../dist/src/postgres.js';

const [mode, url, schema] = process.argv.slice(2);
const started = performance.now();
let events = 0;
if (mode === 'moai') {
  const store = await openPostgresEventStore({ url, schema, migrate: false });
  const report = await replay(store);
  if (!report.ok) throw new Error(`replay diverged: ${report.divergences[0].message}`);
  events = report.eventsRead;
  await store.close();
} else {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(
    `DECLARE all_events NO SCROLL CURSOR FOR SELECT position, stream, version, id, type, schema_version, meta::text, data::text FROM "${schema}".events ORDER BY position`,
  );
  for (;;) {
    const { rows } = await client.query({ text: 'FETCH 5000 FROM all_events', rowMode: 'array' });
    if (rows.length === 0) break;
    for (const row of rows) {
      JSON.parse(row[6]);
      JSON.parse(row[7]);
      events++;
    }
  }
  await client.query('COMMIT');
  await client.end();
}
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, events, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
