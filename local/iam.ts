/**
 * IAM, locally, for DynamoDB: every DynamoDB call a handler makes is checked against the
 * synthesized IAM policy of that handler's function role (actions and table ARNs, with `*`
 * wildcards), and a call the role does not allow fails with `AccessDeniedException`, as in AWS.
 * So a missing or excessive grant shows up in `npm test`, and a rogue agent cannot write a table
 * locally any more than it could in AWS.
 *
 * How a call is attributed: the Lambda adapter runs each invocation inside
 * {@link runAsPrincipal} (an `AsyncLocalStorage` context naming the function); while a runtime is
 * active, outgoing HTTP requests carry that name in a header, and a loopback proxy in front of
 * DynamoDB Local authorizes the request before forwarding it. Calls made by the runtime itself
 * (outside any invocation) carry no principal and pass: they stand for the AWS services and the
 * operator, not for a function.
 *
 * What is checked: the operation's action on every table it names (Batch* and Transact* per item;
 * a transaction's items map to PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem).
 * Conditions in policies are not evaluated (this stack uses none on DynamoDB grants).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http, { createServer, type IncomingMessage, type RequestOptions, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalTemplate } from './template';

/** Header naming the calling function on requests to the local DynamoDB proxy. */
export const PRINCIPAL_HEADER = 'x-local-principal';

const principal = new AsyncLocalStorage<string>();

/** Runs `fn` with its outgoing DynamoDB calls attributed to `functionName`. */
export function runAsPrincipal<T>(functionName: string, fn: () => T): T {
  return principal.run(functionName, fn);
}

/** One Allow statement of a role: actions and resources (wildcards allowed). */
export interface AllowStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** Function name -> the Allow statements of its role. */
export type FunctionPolicies = ReadonlyMap<string, readonly AllowStatement[]>;

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/**
 * Reads every function's role policies from the template (inline role policies and
 * `AWS::IAM::Policy` resources attached to the role), resolving intrinsics to local ARNs.
 * @returns function physical name -> its Allow statements.
 */
export function functionPolicies(tpl: LocalTemplate): Map<string, AllowStatement[]> {
  const byRole = new Map<string, AllowStatement[]>();
  const add = (roleId: string, doc: { Statement?: unknown[] } | undefined) => {
    for (const raw of doc?.Statement ?? []) {
      const s = raw as { Effect?: string; Action?: string | string[]; Resource?: unknown };
      if (s.Effect !== 'Allow') continue;
      const resources = asArray(tpl.resolve(s.Resource) as string | string[]).map(String);
      byRole.set(roleId, [...(byRole.get(roleId) ?? []), { actions: asArray(s.Action), resources }]);
    }
  };
  for (const id of tpl.ofType('AWS::IAM::Role')) {
    for (const p of (tpl.res(id).Properties?.Policies as { PolicyDocument?: { Statement?: unknown[] } }[] | undefined) ?? []) add(id, p.PolicyDocument);
  }
  for (const id of tpl.ofType('AWS::IAM::Policy')) {
    const props = tpl.res(id).Properties ?? {};
    for (const role of asArray(props.Roles as unknown)) {
      const ref = (role as { Ref?: string }).Ref;
      if (ref) add(ref, props.PolicyDocument as { Statement?: unknown[] });
    }
  }
  const out = new Map<string, AllowStatement[]>();
  for (const id of tpl.ofType('AWS::Lambda::Function')) {
    const role = (tpl.res(id).Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    out.set(tpl.ref(id), role ? (byRole.get(role) ?? []) : []);
  }
  return out;
}

function wildcard(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(value);
}

/** True when some statement allows `action` on `resource`. */
export function isAllowed(statements: readonly AllowStatement[], action: string, resource: string): boolean {
  return statements.some((s) => s.actions.some((a) => wildcard(a, action)) && s.resources.some((r) => wildcard(r, resource)));
}

/** The (action, table) pairs a DynamoDB JSON request needs. */
export function dynamoRequirements(operation: string, body: Record<string, unknown>): Array<{ action: string; table: string }> {
  const out: Array<{ action: string; table: string }> = [];
  const tx: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    for (const table of Object.keys((body.RequestItems as Record<string, unknown>) ?? {})) out.push({ action: operation, table });
  } else if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    for (const item of (body.TransactItems as Record<string, { TableName?: string }>[]) ?? []) {
      for (const [kind, v] of Object.entries(item)) out.push({ action: tx[kind] ?? kind, table: String(v?.TableName) });
    }
  } else if (typeof body.TableName === 'string') out.push({ action: operation, table: body.TableName });
  return out;
}

let patched = false;
let activeProxies = 0;

/**
 * Adds the principal header to outgoing HTTP requests made inside {@link runAsPrincipal} while a
 * proxy runs. Installed when this module loads (before any handler creates an SDK client, since the
 * SDK's HTTP handler keeps the `request` function it first sees), once per process.
 */
function installPrincipalHeader(): void {
  if (patched) return;
  patched = true;
  const original = http.request.bind(http) as (...args: unknown[]) => http.ClientRequest;
  (http as { request: unknown }).request = (...args: unknown[]) => {
    const who = activeProxies > 0 ? principal.getStore() : undefined;
    if (who) {
      const opts = args.find((a) => a && typeof a === 'object' && !(a instanceof URL)) as RequestOptions | undefined;
      if (opts) opts.headers = { ...(opts.headers as Record<string, string> | undefined), [PRINCIPAL_HEADER]: who };
    }
    return original(...args);
  };
}

installPrincipalHeader();

/** A running authorizing proxy. */
export interface DynamoIamProxy {
  /** `http://127.0.0.1:<port>`: point the handlers' SDK here. */
  readonly endpoint: string;
  /** Calls refused so far: principal, action, table. */
  readonly denied: ReadonlyArray<{ principal: string; action: string; table: string }>;
  stop(): Promise<void>;
}

/**
 * Starts the loopback proxy in front of DynamoDB Local.
 * @param target - DynamoDB Local's endpoint.
 * @param policies - function name -> its Allow statements ({@link functionPolicies}).
 * @param tableArn - table name -> its local ARN.
 */
export async function startDynamoIamProxy(target: string, policies: FunctionPolicies, tableArn: (table: string) => string): Promise<DynamoIamProxy> {
  installPrincipalHeader();
  const upstream = new URL(target);
  const denied: Array<{ principal: string; action: string; table: string }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const who = req.headers[PRINCIPAL_HEADER] as string | undefined;
      if (who) {
        const operation =
          String(req.headers['x-amz-target'] ?? '')
            .split('.')
            .pop() ?? '';
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        } catch {
          /* DynamoDB Local answers the malformed request itself */
        }
        const statements = policies.get(who) ?? [];
        for (const need of dynamoRequirements(operation, parsed)) {
          const action = `dynamodb:${need.action}`;
          const resource = tableArn(need.table);
          if (!isAllowed(statements, action, resource)) {
            denied.push({ principal: who, action, table: need.table });
            const message = `User: arn:aws:sts::000000000000:assumed-role/${who}-role/${who} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
            res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'local-iam' });
            res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message, Message: message }));
            return;
          }
        }
      }
      const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
      delete headers[PRINCIPAL_HEADER];
      const fwd = http.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      });
      fwd.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  activeProxies++;
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    denied,
    stop: () =>
      new Promise<void>((resolve) => {
        activeProxies--;
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
