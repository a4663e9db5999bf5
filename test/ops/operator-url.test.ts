/**
 * The ops CLI's call to the operator function URL: a SigV4-signed POST (service lambda) carrying
 * only the action and reason, and the function's refusals surfaced as named errors. Served by a
 * loopback HTTP server standing in for the function URL.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { callOperatorUrl, operatorRequests } from '../../ops/aws-target';

let server: Server;
let url: string;
const seen: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
let reply: { status: number; body: unknown } = { status: 200, body: { action: 'RESUME', changed: true } };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// The same SHA-256 the CLI takes from its Lambda client's config.
const client = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
const signing = { region: 'us-east-1', credentials: client.config.credentials, sha256: client.config.sha256 };
afterAll(() => client.destroy());

it('signs the POST with SigV4 for lambda in the region and sends only action and reason', async () => {
  reply = { status: 200, body: { action: 'RESUME', changed: true } };
  await expect(callOperatorUrl(url, operatorRequests.resume('drill over'), signing)).resolves.toEqual({ action: 'RESUME', changed: true });
  const { headers, body } = seen[seen.length - 1];
  expect(headers.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/lambda\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
  );
  expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  expect(JSON.parse(body)).toEqual({ action: 'resume', reason: 'drill over' });
});

it("surfaces the function's refusal as an error named after it", async () => {
  reply = { status: 400, body: { error: 'ResumeRefused', message: 'Resume refused: a reason is required' } };
  await expect(callOperatorUrl(url, operatorRequests.resume(' '), signing)).rejects.toMatchObject({
    name: 'ResumeRefused',
    message: expect.stringContaining('HTTP 400'),
  });
  reply = { status: 403, body: { Message: 'Forbidden' } };
  await expect(callOperatorUrl(url, operatorRequests.safeMode(false, 'x'), signing)).rejects.toMatchObject({ name: 'Forbidden' });
});
