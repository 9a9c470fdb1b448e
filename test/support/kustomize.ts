import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isRecord } from '../../src/http/is-record';

/**
 * `kubectl kustomize <dir>` for the features deploy/kubernetes uses, and no others: `resources`
 * (files and directories holding a kustomization.yaml), `namespace`, `images` and `patches` given
 * as strategic-merge files. A kustomization using anything else fails the rendering, so a test
 * can never pass on output kustomize would have rendered differently. No npm package renders
 * kustomizations; the Go binary is not installed where the tests run.
 */
export type Tree = Record<string, unknown>;

/** Every document of a YAML file; a syntax error or duplicate key throws, naming the file. */
export function yamlDocuments(file: string): Tree[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? ''}`);
  }
  return list.map((doc) => {
    const js: unknown = doc.toJS();
    return isRecord(js) ? js : {};
  });
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

/** The list fields kustomize merges item by item on `name` (their patchMergeKey), as used here. */
const MERGED_BY_NAME = new Set(['containers', 'initContainers', 'env', 'volumes', 'volumeMounts']);

/** The resources `dir`'s kustomization renders, in order. */
export function kustomize(dir: string): Tree[] {
  const file = join(dir, 'kustomization.yaml');
  const [k = {}] = yamlDocuments(file);
  const unknown = Object.keys(k).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) throw new Error(`${file}: not rendered by this walk: ${unknown.join()}`);

  let out = strings(k.resources, file, 'resources').flatMap((entry) => {
    const path = join(dir, entry);
    if (!existsSync(path)) throw new Error(`${file}: no such resource ${entry}`);
    return statSync(path).isDirectory() ? kustomize(path) : yamlDocuments(path);
  });

  for (const patch of list(k.patches, file, 'patches')) {
    if (!isRecord(patch) || Object.keys(patch).join() !== 'path' || typeof patch.path !== 'string')
      throw new Error(`${file}: only { path } patches are rendered by this walk`);
    for (const p of yamlDocuments(join(dir, patch.path))) {
      const target = out.find((r) => r.kind === p.kind && name(r) === name(p));
      if (!target) throw new Error(`${file}: patch ${patch.path} matches no resource`);
      out = out.map((r) => (r === target ? merge(r, p) : r));
    }
  }

  for (const image of list(k.images, file, 'images')) {
    if (!isRecord(image) || typeof image.name !== 'string')
      throw new Error(`${file}: an image needs a name`);
    out = out.map((r) => withImage(r, image));
  }

  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') throw new Error(`${file}: namespace must be a string`);
    const namespace = k.namespace;
    out = out.map((r) => ({ ...r, metadata: { ...tree(r.metadata), namespace } }));
  }
  return out;
}

const tree = (v: unknown): Tree => (isRecord(v) ? v : {});
const name = (r: Tree): unknown => tree(r.metadata).name;

function list(v: unknown, file: string, field: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${file}: ${field} must be a list`);
  return v;
}

function strings(v: unknown, file: string, field: string): string[] {
  return list(v, file, field).map((s) => {
    if (typeof s !== 'string') throw new Error(`${file}: ${field} must list paths`);
    return s;
  });
}

/** A strategic merge patch as kustomize applies it, for maps and the MERGED_BY_NAME lists. */
function merge(base: Tree, patch: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new Error(`patch directive ${key} is not rendered by this walk`);
    const prev = out[key];
    if (isRecord(prev) && isRecord(value)) out[key] = merge(prev, value);
    else if (MERGED_BY_NAME.has(key) && Array.isArray(prev) && Array.isArray(value))
      out[key] = mergeByName(prev, value);
    else out[key] = value;
  }
  return out;
}

function mergeByName(base: unknown[], patch: unknown[]): unknown[] {
  const out = [...base];
  for (const item of patch) {
    const i = out.findIndex((b) => isRecord(b) && isRecord(item) && b.name === item.name);
    if (i >= 0) out[i] = merge(tree(out[i]), tree(item));
    else out.push(item);
  }
  return out;
}

/** `images:`: a container image named `name` (any tag or digest) gets the new name, tag or digest. */
function withImage(resource: Tree, image: Tree): Tree {
  const spec = tree(resource.spec);
  const template = tree(spec.template);
  const pod = tree(template.spec);
  if (pod.containers === undefined) return resource;
  const swap = (c: unknown): unknown => {
    const container = tree(c);
    const current = String(container.image);
    const [imageName = ''] = current.split('@')[0]?.split(/:(?=[^/]*$)/) ?? [];
    if (imageName !== image.name) return c;
    const newName = typeof image.newName === 'string' ? image.newName : imageName;
    const suffix =
      typeof image.digest === 'string'
        ? `@${image.digest}`
        : typeof image.newTag === 'string'
          ? `:${image.newTag}`
          : current.slice(imageName.length);
    return { ...container, image: `${newName}${suffix}` };
  };
  const containers = Array.isArray(pod.containers) ? pod.containers.map(swap) : pod.containers;
  const initContainers = Array.isArray(pod.initContainers)
    ? pod.initContainers.map(swap)
    : pod.initContainers;
  return {
    ...resource,
    spec: {
      ...spec,
      template: {
        ...template,
        spec: { ...pod, containers, ...(initContainers ? { initContainers } : {}) },
      },
    },
  };
}
