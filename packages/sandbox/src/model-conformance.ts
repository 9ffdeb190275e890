/**
 * The sandbox held against Amazon's own models, operation by operation. For each
 * operation it sends, over HTTP:
 *  - every request-body example the model carries (dates moved into the report
 *    type's retention, as Amazon would refuse 2022 today);
 *  - two requests generated from the model's schemas: only what is required, and
 *    every field filled (values only the server can issue — tokens, ids — come from
 *    the sandbox's world, never from the generator);
 *  - for each required field and each enum inside those, a request without the field
 *    or with a value outside the enum, which must be refused;
 *  - for each required header, a request without it (refused); where the model takes a
 *    DSP account (Amazon-Ads-AccountId) instead of the profile scope, a request with the
 *    account and no scope (accepted) and one with neither (refused);
 * and judges every answer by the model: an accepted request answers 2xx, a broken one
 * a 4xx, and either way the status, Content-Type and body must be the model's.
 */
import { randomUUID } from 'node:crypto';
import { modelDocument, resolvePointer } from '@adsync/amazon-models/models';
import {
  declaredResponse,
  isJsonMediaType,
  successStatus,
  type ModelOperation,
} from '@adsync/amazon-models/operations';
import { UNDOCUMENTED, mutationsOf, sampleOf, sampleVariantsOf, type JsonPath } from '@adsync/amazon-models/samples';
import type { ModelValidator } from '@adsync/amazon-models/validate';

export type ProbeKind = 'example' | 'generated' | 'required' | 'enum' | 'header';

export interface Probe {
  kind: ProbeKind;
  label: string;
  expect: 'accepted' | 'refused';
  query?: Record<string, string>;
  pathParams?: Record<string, string>;
  headers?: Record<string, string | null>;
  body?: unknown;
}

export interface ProbeResult {
  probe: Probe;
  status: number;
  /** Empty when the answer is what the model says it should be. */
  problems: string[];
}

export interface OperationReport {
  op: ModelOperation;
  results: ProbeResult[];
  /** Why the operation could not be probed at all (no fixture for a path parameter, …). */
  unprobed?: string;
}

/** What the harness needs from the world behind the sandbox: ids that exist, and "today". */
export interface Fixtures {
  /** A value for a path parameter of an operation (may create the resource, e.g. a report). */
  pathParam(op: ModelOperation, name: string): Promise<string | null>;
  /** Values only the server can issue or that must name real things, by operation and place in the body. */
  seed(op: ModelOperation, path: JsonPath): unknown;
  /** Query parameters never generated (tokens issued by the server). */
  skip(op: ModelOperation, name: string): boolean;
  /** A query parameter that must name real things (a publisher, an advertiser): its value, or undefined to generate one. */
  queryValue?(op: ModelOperation, name: string): string | undefined;
  /** Headers an operation needs beyond the credentials (an Accept naming the resource's own media type). */
  headers?(op: ModelOperation): Record<string, string>;
  /**
   * A request made with Amazon-Ads-AccountId instead of the profile scope, where the model takes
   * one (its headers, and a body or path parameters that belong to that account); null: none.
   */
  accountProbe?(op: ModelOperation): Promise<Pick<Probe, 'headers' | 'body' | 'pathParams'> | null>;
  /** An example's body made current (dates within retention). */
  currentExample(op: ModelOperation, value: unknown): unknown;
  today: string;
}

export interface Target {
  baseUrl: string;
  headers: Record<string, string>;
  validator: ModelValidator;
  /** The schema an error answer must fit when the operation declares none for its status (the family's own). */
  undeclaredErrorCheck: (op: ModelOperation, status: number, body: Buffer, contentType: string) => string[];
}

/** The probes of one operation (every example, two generated requests and each of their breakages). */
export async function probesOf(
  op: ModelOperation,
  fx: Fixtures,
  validator: ModelValidator,
  sentHeaders: Record<string, string> = {},
): Promise<Probe[]> {
  const doc = modelDocument(op.model);
  const probes: Probe[] = [];
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const sampleQuery = (full: boolean) => {
    const q: Record<string, string> = {};
    for (const p of queryParams) {
      if (!p.required && (!full || fx.skip(op, p.name))) continue;
      // The model's own example of the parameter, where it gives one: a bare schema (a string)
      // says less than the example of what Amazon takes ("6753579448901,8753890875385").
      const v =
        fx.queryValue?.(op, p.name) ??
        p.example ??
        sampleOf(doc, resolvePointer(doc, p.schemaPointer), { full, today: fx.today });
      if (v !== undefined) q[p.name] = Array.isArray(v) ? v.join(',') : String(v);
    }
    return q;
  };
  const bodySchema = op.requestBody?.content.find(
    (c) => isJsonMediaType(c.mediaType) && c.schemaPointer,
  )?.schemaPointer;
  const sampleOptions = (full: boolean) => ({
    full,
    today: fx.today,
    skip: (name: string, path: JsonPath) => fx.seed(op, path) === SKIP || /^(nextToken|startingToken)$/.test(name),
    seed: (path: JsonPath) => {
      const v = fx.seed(op, path);
      return v === SKIP ? undefined : v;
    },
  });
  const sampleBody = (full: boolean) =>
    bodySchema ? sampleOf(doc, resolvePointer(doc, bodySchema), sampleOptions(full)) : undefined;

  for (const ex of op.requestBody?.examples ?? [])
    probes.push({
      kind: 'example',
      label: `example ${ex.name}`,
      expect: 'accepted',
      body: fx.currentExample(op, ex.value),
      headers: { 'content-type': ex.mediaType },
    });
  for (const full of [false, true]) {
    const query = sampleQuery(full);
    const body = sampleBody(full);
    const label = full ? 'generated, every field' : 'generated, required fields only';
    probes.push({ kind: 'generated', label, expect: 'accepted', query, body });
    // Breakages come from the fullest request, so every required field and enum it carries is tried.
    if (!full) continue;
    for (const p of queryParams) {
      if (!(p.name in query)) continue;
      if (p.required) {
        const { [p.name]: _gone, ...rest } = query;
        probes.push({ kind: 'required', label: `without query ${p.name}`, expect: 'refused', query: rest, body });
      }
      const schema = p.schema.type === 'array' ? ((p.schema.items as Record<string, unknown>) ?? {}) : p.schema;
      // An enum the model (with its documented leniencies) still takes the value of is no breakage.
      if (Array.isArray(schema.enum) && !validator.validatorAt(op.model, p.schemaPointer)(UNDOCUMENTED))
        probes.push({
          kind: 'enum',
          label: `query ${p.name}=${UNDOCUMENTED}`,
          expect: 'refused',
          query: { ...query, [p.name]: UNDOCUMENTED },
          body,
        });
    }
    // Each anyOf/oneOf branch in turn (an SB target list by each filter type), and its breakages.
    if (bodySchema && body !== undefined)
      for (const variant of sampleVariantsOf(doc, resolvePointer(doc, bodySchema), sampleOptions(true))) {
        if (variant.label)
          probes.push({
            kind: 'generated',
            label: `generated, ${variant.label}`,
            expect: 'accepted',
            query,
            body: variant.value,
          });
        for (const m of mutationsOf(doc, resolvePointer(doc, bodySchema), variant.value, variant.branches))
          if (!validator.validatorAt(op.model, bodySchema)(m.value))
            probes.push({
              kind: m.kind,
              label: `${m.describe}${variant.label ? ` (${variant.label})` : ''}`,
              expect: 'refused',
              query,
              body: m.value,
            });
      }
    probes.push(...(await headerProbes(op, fx, sentHeaders, query, body)));
  }
  return dedupe(probes);
}

const SCOPE = 'amazon-advertising-api-scope';
const ACCOUNT = 'amazon-ads-accountid';

/** Each required header left out (refused), and the DSP account in place of the scope where the model takes it. */
async function headerProbes(
  op: ModelOperation,
  fx: Fixtures,
  sent: Record<string, string>,
  query: Record<string, string>,
  body: unknown,
): Promise<Probe[]> {
  const probes: Probe[] = [];
  const headers = op.parameters.filter((p) => p.in === 'header');
  for (const h of headers.filter((x) => x.required && x.name.toLowerCase() in sent))
    probes.push({
      kind: 'header',
      label: `without header ${h.name}`,
      expect: 'refused',
      query,
      body,
      headers: { [h.name.toLowerCase()]: null },
    });
  const scope = headers.find((h) => h.name.toLowerCase() === SCOPE);
  if (scope && !scope.required && headers.some((h) => h.name.toLowerCase() === ACCOUNT)) {
    probes.push({
      kind: 'header',
      label: `without ${scope.name} or Amazon-Ads-AccountId`,
      expect: 'refused',
      query,
      body,
      headers: { [SCOPE]: null },
    });
    const asAccount = await fx.accountProbe?.(op);
    if (asAccount)
      probes.push({
        kind: 'header',
        label: 'with Amazon-Ads-AccountId in place of the scope',
        expect: 'accepted',
        query,
        body,
        ...asAccount,
        headers: { [SCOPE]: null, ...asAccount.headers },
      });
  }
  return probes;
}

export const SKIP = Symbol('skip');

function dedupe(probes: Probe[]): Probe[] {
  const seen = new Set<string>();
  return probes.filter((p) => {
    const k = `${p.expect}|${JSON.stringify(p.query)}|${JSON.stringify(p.body)}|${JSON.stringify(p.headers)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Sends one probe and judges the answer by the model. */
export async function runProbe(op: ModelOperation, probe: Probe, target: Target, fx: Fixtures): Promise<ProbeResult> {
  let path = op.path;
  for (const k of op.pathKeys) {
    const v = probe.pathParams?.[k] ?? (await fx.pathParam(op, k));
    if (v === null) return { probe, status: 0, problems: [`no value for path parameter ${k}`] };
    path = path.replace(`{${k}}`, encodeURIComponent(v));
  }
  const url = new URL(path, target.baseUrl);
  for (const [k, v] of Object.entries(probe.query ?? {})) url.searchParams.set(k, v);
  const requestMedia = op.requestBody?.content[0]?.mediaType;
  const okResponse = declaredResponse(op, successStatus(op));
  const headers: Record<string, string> = {
    ...target.headers,
    accept: okResponse?.content[0]?.mediaType ?? 'application/json',
    ...(probe.body !== undefined && requestMedia ? { 'content-type': requestMedia } : {}),
    ...fx.headers?.(op),
  };
  for (const [k, v] of Object.entries(probe.headers ?? {})) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  const res = await fetch(url, {
    method: op.method,
    headers,
    body: probe.body === undefined ? undefined : JSON.stringify(probe.body),
  });
  const body = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type') ?? '';
  const problems: string[] = [];
  const accepted = res.status >= 200 && res.status < 300;
  if (probe.expect === 'accepted' && !accepted)
    problems.push(`refused with ${res.status}: ${body.toString('utf8').slice(0, 300)}`);
  if (probe.expect === 'refused' && !(res.status >= 400 && res.status < 500))
    problems.push(`answered ${res.status} where the model refuses the request`);
  const declared = declaredResponse(op, res.status);
  if (declared) problems.push(...target.validator.checkResponse(op, { status: res.status, contentType, body }));
  else if (res.status >= 400) problems.push(...target.undeclaredErrorCheck(op, res.status, body, contentType));
  else problems.push(`status ${res.status} is not among the model's answers`);
  return { probe, status: res.status, problems };
}

export async function probeOperation(op: ModelOperation, target: Target, fx: Fixtures): Promise<OperationReport> {
  const results: ProbeResult[] = [];
  for (const probe of await probesOf(op, fx, target.validator, target.headers))
    results.push(await runProbe(op, probe, target, fx));
  return { op, results };
}

/** One line per operation: what was sent, what held, and the first few things off the model. */
export function reportLine(r: OperationReport): string {
  const count = (kind: ProbeKind) => {
    const of = r.results.filter((x) => x.probe.kind === kind);
    return `${of.filter((x) => x.problems.length === 0).length}/${of.length}`;
  };
  const bad = r.results.filter((x) => x.problems.length > 0);
  const head = `${bad.length === 0 && !r.unprobed ? 'on model ' : 'OFF MODEL'} ${r.op.method.padEnd(6)} ${r.op.path.padEnd(48)} ${r.op.model}.${r.op.operationId}`;
  const counts = `examples ${count('example')}, generated ${count('generated')}, required ${count('required')}, enums ${count('enum')}, headers ${count('header')}`;
  const why = r.unprobed
    ? `\n    ${r.unprobed}`
    : bad
        .slice(0, Number(process.env.CONFORMANCE_DETAIL ?? 4))
        .map((x) => `\n    ${x.probe.label}: ${x.problems[0]}`)
        .join('');
  return `${head}  (${counts})${why}`;
}

export const freshToken = () => randomUUID();
