/**
 * Every operation of every model, indexed by method and path: its parameters
 * (path-level and operation-level, references resolved), its request media types
 * and examples, and its responses. A concrete request path finds its operation the
 * way a router would: literal segments win over {placeholders}.
 */
import { MODEL_NAMES, deref, modelDocument, pointerOf, type ModelName } from './models.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface OperationParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  /** Where the parameter's schema sits in its model. */
  schemaPointer: string;
  /** The schema, one level of $ref resolved (for reading type, enum, items). */
  schema: Record<string, unknown>;
  style?: string;
  explode?: boolean;
  /** The model's example of the parameter's value, where it gives one. */
  example?: unknown;
}

export interface MediaTypeEntry {
  mediaType: string;
  schemaPointer: string | null;
}

export interface ModelOperation {
  model: ModelName;
  /** The model's operationId, or "METHOD path" where the model gives none. */
  operationId: string;
  method: HttpMethod;
  path: string;
  /** The operation's place in its model. */
  pointer: string;
  parameters: OperationParameter[];
  requestBody: {
    required: boolean;
    content: MediaTypeEntry[];
    /** Named examples of the request body, per media type. */
    examples: { name: string; mediaType: string; value: unknown }[];
  } | null;
  /** By status ("200", "4XX", "default"). */
  responses: Record<string, { content: MediaTypeEntry[] }>;
  /** Placeholder names of the path, in order. */
  pathKeys: string[];
  pathPattern: RegExp;
  /** Literal segments: the more, the more specific (a router prefers them). */
  literalSegments: number;
}

const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

function indexModel(model: ModelName): ModelOperation[] {
  const doc = modelDocument(model);
  const out: ModelOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const pathItem = deref<Record<string, unknown>>(doc, item);
    const shared = (pathItem.parameters as unknown[] | undefined) ?? [];
    for (const method of METHODS) {
      const raw = pathItem[method.toLowerCase()] as Record<string, unknown> | undefined;
      if (!raw) continue;
      const opPointer = pointerOf('paths', path, method.toLowerCase());
      const params = new Map<string, OperationParameter>();
      const addParams = (list: unknown[], base: string) =>
        list.forEach((p, i) => {
          const param = deref<Record<string, unknown>>(doc, p);
          const ref = (p as { $ref?: string }).$ref;
          const at = ref ? `${ref}` : `${base}/parameters/${i}`;
          const entry: OperationParameter = {
            name: String(param.name),
            in: param.in as OperationParameter['in'],
            required: param.required === true || param.in === 'path',
            schemaPointer: `${at}/schema`,
            schema: deref(doc, param.schema ?? {}),
            ...(typeof param.style === 'string' ? { style: param.style } : {}),
            ...(typeof param.explode === 'boolean' ? { explode: param.explode } : {}),
            ...(param.example !== undefined ? { example: param.example } : {}),
          };
          // An operation's parameter overrides the path item's of the same name and place.
          params.set(`${entry.in}:${entry.name.toLowerCase()}`, entry);
        });
      addParams(shared, pointerOf('paths', path));
      addParams((raw.parameters as unknown[] | undefined) ?? [], opPointer);

      let requestBody: ModelOperation['requestBody'] = null;
      if (raw.requestBody) {
        const ref = (raw.requestBody as { $ref?: string }).$ref;
        const rb = deref<{ required?: boolean; content?: Record<string, Record<string, unknown>> }>(
          doc,
          raw.requestBody,
        );
        const base = ref ?? `${opPointer}/requestBody`;
        const content = Object.entries(rb.content ?? {});
        requestBody = {
          required: rb.required === true,
          content: content.map(([mediaType, c]) => ({
            mediaType,
            schemaPointer: c.schema ? `${base}/content/${escapeSegment(mediaType)}/schema` : null,
          })),
          examples: content.flatMap(([mediaType, c]) => [
            ...Object.entries((c.examples as Record<string, unknown> | undefined) ?? {}).map(([name, ex]) => ({
              name,
              mediaType,
              value: deref<{ value?: unknown }>(doc, ex).value,
            })),
            ...('example' in c ? [{ name: 'example', mediaType, value: c.example }] : []),
          ]),
        };
      }

      const responses: ModelOperation['responses'] = {};
      for (const [status, r] of Object.entries((raw.responses as Record<string, unknown> | undefined) ?? {})) {
        const ref = (r as { $ref?: string }).$ref;
        const res = deref<{ content?: Record<string, Record<string, unknown>> }>(doc, r);
        const base = ref ?? `${opPointer}/responses/${escapeSegment(String(status))}`;
        responses[String(status)] = {
          content: Object.entries(res.content ?? {}).map(([mediaType, c]) => ({
            mediaType,
            schemaPointer: c.schema ? `${base}/content/${escapeSegment(mediaType)}/schema` : null,
          })),
        };
      }

      const pathKeys: string[] = [];
      const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, key: string) => {
        pathKeys.push(key);
        return '([^/]+)';
      });
      out.push({
        model,
        operationId: typeof raw.operationId === 'string' ? raw.operationId : `${method} ${path}`,
        method,
        path,
        pointer: opPointer,
        parameters: [...params.values()],
        requestBody,
        responses,
        pathKeys,
        pathPattern: new RegExp(`^${pattern}$`),
        literalSegments: path.split('/').filter((s) => s && !s.includes('{')).length,
      });
    }
  }
  return out;
}

const escapeSegment = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

let all: ModelOperation[] | null = null;

/**
 * Every operation of every model. Where two models declare the same method and path
 * (the retired /v2/reports of SB v3 and SD), the one of the model listed first in the
 * manifest comes first and is the one a request reaches.
 */
export function allOperations(): ModelOperation[] {
  return (all ??= MODEL_NAMES.flatMap(indexModel));
}

/** The operation a concrete request path reaches, and its path parameters (decoded). */
export function findOperation(
  method: string,
  path: string,
): { op: ModelOperation; pathParams: Record<string, string> } | null {
  let best: { op: ModelOperation; pathParams: Record<string, string> } | null = null;
  for (const op of allOperations()) {
    if (op.method !== method.toUpperCase()) continue;
    const m = op.pathPattern.exec(path);
    if (!m) continue;
    if (best && best.op.literalSegments >= op.literalSegments) continue; // the first of equals wins
    const pathParams: Record<string, string> = {};
    op.pathKeys.forEach((k, i) => {
      try {
        pathParams[k] = decodeURIComponent(m[i + 1]!);
      } catch {
        pathParams[k] = m[i + 1]!;
      }
    });
    best = { op, pathParams };
  }
  return best;
}

/** The operation declared at exactly this method and path template. */
export function operationAt(method: string, pathTemplate: string): ModelOperation | null {
  return allOperations().find((o) => o.method === method.toUpperCase() && o.path === pathTemplate) ?? null;
}

/** An operation by its model and operationId ("SponsoredProducts", "ListSponsoredProductsCampaigns"). */
export function operationById(model: string, operationId: string): ModelOperation | null {
  return allOperations().find((o) => o.model === model && o.operationId === operationId) ?? null;
}

/** The declared response of an operation for a status (exact, then its class such as 4XX, then default). */
export function declaredResponse(op: ModelOperation, status: number | string) {
  const s = String(status);
  return op.responses[s] ?? op.responses[`${s[0]}XX`] ?? op.responses.default ?? null;
}

/** The status an operation answers when it succeeds (its first 2xx; 200 when it declares none). */
export const successStatus = (op: ModelOperation) =>
  Number(Object.keys(op.responses).find((s) => /^2\d\d$/.test(s)) ?? 200);

/** Whether a media type carries JSON (application/json, a vendor type ending +json, or any). */
export const isJsonMediaType = (m: string) => {
  const t = m.toLowerCase();
  return t === 'application/json' || t.endsWith('+json') || t === '*/*';
};
