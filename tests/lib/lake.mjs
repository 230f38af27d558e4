// DuckDB for tests/t/lake.t, through the npm package @duckdb/node-api.
//
//   node lake.mjs probe            where the package is: its path on stdout,
//                                  exit 0; exit 2 with the reason on stderr
//   node lake.mjs run FILE...      run each file (one SQL statement) in turn on
//                                  one in-memory connection; for each, a line
//                                  "== FILE", then its rows, one a line, values
//                                  joined by '|', NULL for null
//
// The package is looked up from the node_modules directory named by
// $DUCKDB_NODE_MODULES, then from `npm root -g`.  An ESM import does not
// look at NODE_PATH, so the lookup goes through createRequire.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const PKG = '@duckdb/node-api';

function candidates() {
	const out = [];
	if (process.env.DUCKDB_NODE_MODULES)
		out.push(process.env.DUCKDB_NODE_MODULES);
	try {
		const g = execFileSync('npm', ['root', '-g'], {
			encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
		}).trim();
		if (g)
			out.push(g);
	} catch {
		// no npm: only $DUCKDB_NODE_MODULES
	}
	return out;
}

// The resolved entry of the package, or null.
function locate() {
	for (const dir of candidates()) {
		// a file inside dir: its lookup starts at dir itself
		const req = createRequire(path.join(path.resolve(dir), 'lake-resolve.js'));
		try {
			return { file: req.resolve(PKG), req };
		} catch {
			// not in this one
		}
	}
	return null;
}

const [mode, ...files] = process.argv.slice(2);
const found = locate();
if (found === null) {
	process.stderr.write(`${PKG} not found (DUCKDB_NODE_MODULES=` +
	    `${process.env.DUCKDB_NODE_MODULES ?? ''}, npm root -g)\n`);
	process.exit(2);
}
if (mode === 'probe') {
	process.stdout.write(found.file + '\n');
	process.exit(0);
}
if (mode !== 'run') {
	process.stderr.write('usage: node lake.mjs probe | run FILE...\n');
	process.exit(64);
}

const { DuckDBInstance } = found.req(PKG);
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
let failed = 0;
for (const file of files) {
	process.stdout.write(`== ${path.basename(file)}\n`);
	let reader;
	try {
		reader = await con.runAndReadAll(readFileSync(file, 'utf8'));
	} catch (e) {
		// on stdout too, so that the test shows it beside the results
		process.stdout.write(`ERROR ${String(e.message).split('\n')[0]}\n`);
		failed = 1;
		continue;
	}
	for (const row of reader.getRowsJson())
		process.stdout.write(row.map((v) => v === null ? 'NULL' :
		    typeof v === 'object' ? JSON.stringify(v) : String(v)).join('|') + '\n');
}
process.exitCode = failed;
