import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

/**
 * The physical ceiling of the login gate: a bare node:http server that checks the same secret
 * (constant time), parses the same JSON and makes the same decision, with no framework, no
 * validation library, no logging and no metrics.
 */

const secretDigest = createHash('sha256')
  .update(process.env['ORY_WEBHOOK_SECRET'] ?? '')
  .digest();
const BLOCK = JSON.stringify({
  messages: [
    {
      instance_ptr: '',
      messages: [
        {
          id: 4100001,
          text: 'Your identity verification was declined.',
          type: 'error',
          context: { reason: 'declined' },
        },
      ],
    },
  ],
});

const server = createServer((req, res) => {
  const secret = req.headers['x-webhook-secret'];
  if (req.method !== 'POST' || req.url !== '/persona/validate' || typeof secret !== 'string') {
    res.writeHead(401).end();
    req.resume();
    return;
  }
  if (!timingSafeEqual(createHash('sha256').update(secret).digest(), secretDigest)) {
    res.writeHead(401).end();
    req.resume();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let body: { persona?: { status?: unknown } | null };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (body.persona?.status === 'declined') {
      res.writeHead(403, { 'Content-Type': 'application/json' }).end(BLOCK);
    } else {
      res.writeHead(204).end();
    }
  });
});

server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
