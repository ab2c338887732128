// Time to first chunk through Node's built-in http client (the transport
// the official OpenAI SDK uses), for bench/e2e.sh MODE=ttft.
//
//   node bench/ttft_node.mjs PORT COUNT WARMUP BODY
//
// Sends WARMUP + COUNT streaming POSTs one after another through a
// keep-alive Agent with one socket and prints, for each of the last COUNT,
// the microseconds from the req.end(body) call to the first 'data' event of the
// response body. Every response is read to its end before the next request
// and must be a 200 on the reused socket.
import http from 'node:http';

const [port, count, warmup] = process.argv.slice(2, 5).map(Number);
const body = Buffer.from(process.argv[5]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function fail(message) {
  process.stderr.write(`ttft_node: ${message}\n`);
  process.exit(1);
}

function oneRequest(first) {
  return new Promise((resolve) => {
    let t0 = 0n;
    let t1 = 0n;
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', agent,
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'text/event-stream',
        'Content-Length': body.length,
      },
    }, (res) => {
      if (res.statusCode !== 200) fail(`status ${res.statusCode}`);
      if (!first && !req.reusedSocket) fail('keep-alive socket not reused');
      res.on('data', (chunk) => {
        if (t1 !== 0n) return;
        t1 = process.hrtime.bigint();
        if (!chunk.toString('latin1', 0, 5).startsWith('data:')) {
          fail(`body does not start with an SSE event: ${JSON.stringify(chunk.toString().slice(0, 40))}`);
        }
      });
      res.on('end', () => {
        if (t1 === 0n) fail('empty body');
        resolve(Number((t1 - t0) / 1000n));
      });
      res.on('error', (e) => fail(e.message));
    });
    req.on('error', (e) => fail(e.message));
    req.setTimeout(10000, () => fail('timeout'));
    t0 = process.hrtime.bigint();
    req.end(body);
  });
}

const out = [];
for (let i = 0; i < warmup + count; i++) {
  const us = await oneRequest(i === 0);
  if (i >= warmup) out.push(us);
}
agent.destroy();
process.stdout.write(out.join('\n') + '\n');
