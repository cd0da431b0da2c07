// child_reader.js - child process: a read-only store that follows a writer in another process
// with refresh() until key 'done', then prints JSON {seen, bad}.
import { open } from '../../js/index.js';

const db = await open(process.argv[2], { readOnly: true });
const deadline = Date.now() + 20000;
let refreshes = 0;
while (!db.has('done') && Date.now() < deadline) {
  if (db.refresh()) refreshes++;
  await new Promise((r) => setTimeout(r, 2));
}
let seen = 0;
let bad = 0;
for (let i = 0; ; i++) {
  const v = db.get(`n-${i}`, Uint32Array);
  if (v === undefined) break;
  if (v[0] !== i) bad++;
  seen++;
}
process.stdout.write(JSON.stringify({ seen, bad, refreshes, done: db.has('done') }) + '\n');
db.close();
