// child_reader.js - child process: a read-only store that follows a writer in another process
// with refresh() until key 'done', then prints JSON {seen, bad}.
import { open } from '../../js/index.js';
import { followUntilDone } from './follow.js';

const db = await open(process.argv[2], { readOnly: true });
process.stdout.write(JSON.stringify(await followUntilDone(db)) + '\n');
db.close();
