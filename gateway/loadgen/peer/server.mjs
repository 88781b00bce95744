// The benchmark peer: what an operator would otherwise pick for a Socket.IO
// cluster, doing exactly what the gateway's /relay namespace does
// (gateway/relay) and nothing more. socket.io 4 speaking Engine.IO 3 to our
// load generator (allowEIO3), broadcasting across nodes through the Redis
// adapter, no persistence.
//
//   PORT=8091 REDIS_URL=redis://127.0.0.1:6379/0 node server.mjs
//
// Namespace /relay:
//   join  {room}        → joins the room; ack {ok: true}
//   relay {room, data}  → `relay` {room, data} to everyone in the room on
//                         every node except the sender; ack {ok: true}
// GET /healthz answers 200 once Redis is connected; GET /metrics gives the
// process's memory and connection count (Prometheus text).

import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';

const port = Number(process.env.PORT || 8091);
const host = process.env.HOST || '127.0.0.1';
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379/0';

const pub = createClient({ url: redisUrl });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on('error', (err) => console.error('redis:', err.message));
await Promise.all([pub.connect(), sub.connect()]);

let io; // set below; /metrics reads its connection count

const http = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.url === '/metrics') {
    // The few series the load generator reads, in Prometheus' text format.
    const m = process.memoryUsage();
    const lines = [
      `process_resident_memory_bytes ${m.rss}`,
      `nodejs_heap_used_bytes ${m.heapUsed}`,
      `nodejs_external_memory_bytes ${m.external}`,
      `nodejs_array_buffers_bytes ${m.arrayBuffers}`,
      `socketio_connections ${io ? io.engine.clientsCount : 0}`,
    ];
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.join('\n') + '\n');
    return;
  }
  res.writeHead(404).end();
});

io = new Server(http, {
  allowEIO3: true, // the load generator speaks Engine.IO 3 / Socket.IO 2, like our gateway
  serveClient: false,
  adapter: createAdapter(pub, sub),
  maxHttpBufferSize: 64 * 1024, // the gateway's packet limit
});

const ok = { ok: true };
const bad = (message) => ({ ok: false, error: { code: 'bad_request', message } });
const validRoom = (r) => typeof r === 'string' && r.length > 0 && r.length <= 128;

io.of('/relay').on('connection', (socket) => {
  socket.on('join', (p, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    if (!p || !validRoom(p.room)) return reply(bad('room is required'));
    socket.join(p.room);
    reply(ok);
  });
  socket.on('relay', (p, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    if (!p || !validRoom(p.room)) return reply(bad('room is required'));
    socket.to(p.room).emit('relay', p);
    reply(ok);
  });
});

http.listen(port, host, () => console.log(`peer listening on ${host}:${port} (pid ${process.pid})`));

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  io.close();
  await Promise.allSettled([pub.quit(), sub.quit()]);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
