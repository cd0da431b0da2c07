// hold_writer.js - child process: opens a store read-write through the given backend, prints
// "ready", and keeps the writer lock until stdin closes. Used for the LOCKED test.
import { backends } from './backends.js';

const [path, name] = process.argv.slice(2);
const b = (await backends()).find((x) => x.name === name);
const db = await b.api.open(path);
db.put('held', 'yes');
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => { db.close(); process.exit(0); });
