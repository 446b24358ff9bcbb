/**
 * HTTP paths the message protocols share on a host's port (./front.ts), written once for
 * h2 and HTTP/1.1 alike: `POST /m` carries one message up, `GET /down/<w>/<c>` streams a
 * connection's down messages (length-prefixed) for as long as the client holds it.
 */
import { LengthPrefixed } from './message.js';
import type { Request, Response, ServerContext } from './types.js';

/**
 * `POST /m`: one up message (any protocol's; the message says whose). Its answers (the
 * acknowledgement, a login reply) come back length-prefixed in the response; a ping's
 * pong goes with the down messages (./hub.ts). A protocol whose POSTs belong to a
 * connection of its own (longpoll) posts to its own `path` and passes that connection's
 * down `send`, which its hello attaches.
 */
export function postMessage(
  ctx: ServerContext,
  req: Request,
  res: Response,
  path = '/m',
  send?: (b: Buffer) => void,
): boolean {
  if (req.method !== 'POST' || req.url !== path) return false;
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    const answers: Buffer[] = [];
    ctx.hub.receive(Buffer.concat(chunks), send, (b) => answers.push(LengthPrefixed.frame(b)));
    if (res.writableEnded) return;
    if (answers.length === 0) return void res.writeHead(204).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(Buffer.concat(answers));
  });
  req.on('error', () => {});
  return true;
}

/** The frames of a `POST /m` response, each handed to `onFrame`. */
export async function readAnswers(
  body: AsyncIterable<Buffer | Uint8Array>,
  onFrame: (b: Buffer) => void,
): Promise<void> {
  const frames = new LengthPrefixed((f) => onFrame(Buffer.from(f)));
  for await (const chunk of body) frames.push(Buffer.from(chunk));
}

/** `GET /down/<w>/<c>`: a never-ending response carrying the connection's down messages. */
export function downStream(ctx: ServerContext, req: Request, res: Response): boolean {
  const m = req.method === 'GET' ? /^\/down\/(\d+)\/(\d+)$/.exec(req.url ?? '') : null;
  if (m === null) return false;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
  // Headers go out now, not with the first message: the client's request completes.
  (res as { flushHeaders?: () => void }).flushHeaders?.();
  const detach = ctx.hub.attach(Number(m[1]), Number(m[2]), (b) => {
    if (!res.writableEnded && !res.destroyed) res.write(LengthPrefixed.frame(b));
  });
  res.on('close', detach);
  res.on('error', () => {});
  return true;
}
