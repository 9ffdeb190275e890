/**
 * The OpenAPI document of what the sandbox plays, for the fuzzer: each Amazon
 * operation exactly as Amazon's model declares it (its components renamed
 * "<Model>_<Name>" so nine models fit in one document), plus the operations no
 * model covers (AMC, Login with Amazon), described from the guides.
 */
import { modelDocument, type ModelName } from '@adsync/amazon-models/models';
import type { ModelOperation } from '@adsync/amazon-models/operations';
import { documentedPaths, type Documented } from './endpoint.ts';

type Json = Record<string, unknown>;

/** Rewrites local references into the renamed components of the merged document. */
function renamed<T>(node: T, model: ModelName): T {
  if (Array.isArray(node)) return node.map((n) => renamed(n, model)) as T;
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json))
    out[k] =
      k === '$ref' && typeof v === 'string'
        ? v.replace(
            /^#\/components\/([^/]+)\/(.+)$/,
            (_m, kind: string, name: string) => `#/components/${kind}/${model}_${name}`,
          )
        : renamed(v, model);
  return out as T;
}

export function sandboxOpenApi(operations: ModelOperation[], documented: Documented[], title: string): Json {
  const paths: Record<string, Json> = {};
  const components: Record<string, Json> = {};
  const models = new Set<ModelName>();
  for (const op of operations) {
    const doc = modelDocument(op.model);
    const item = doc.paths[op.path] as Json;
    const target = (paths[op.path] ??= {});
    const shared = item.parameters as unknown[] | undefined;
    const raw = item[op.method.toLowerCase()] as Json;
    target[op.method.toLowerCase()] = renamed(
      {
        ...raw,
        operationId: `${op.model}_${op.operationId.replace(/[^A-Za-z0-9_]/g, '_')}`,
        parameters: [...(shared ?? []), ...((raw.parameters as unknown[] | undefined) ?? [])],
      },
      op.model,
    );
    models.add(op.model);
  }
  for (const model of models)
    for (const [kind, entries] of Object.entries(modelDocument(model).components ?? {}))
      for (const [name, value] of Object.entries(entries))
        (components[kind] ??= {})[`${model}_${name}`] = renamed(value, model);
  for (const [path, item] of Object.entries(documentedPaths(documented))) paths[path] = { ...paths[path], ...item };
  return { openapi: '3.0.3', info: { title, version: '1' }, paths, components };
}
