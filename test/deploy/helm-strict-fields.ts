import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isObject } from './metric-names';

/**
 * Unknown fields, as `kubectl --validate=strict` reports them: a misspelt or misindented key
 * that the API server would silently drop. The compiled validators of kubernetes-models check
 * types, required fields and enums but allow any extra key (as the OpenAPI does), so the field
 * lists come from the models' type declarations, one interface per object type, for example
 * `"livenessProbe"?: IIoK8sApiCoreV1Probe;` with `import { IIoK8sApiCoreV1Probe } from "./Probe.js"`.
 * Hand-written: no installed package exposes the Kubernetes field lists another way.
 */
interface ObjectType {
  fields: Set<string>;
  /** Field name → the declaration file of its object type (also for arrays of objects). */
  children: Map<string, string>;
}

const cache = new Map<string, ObjectType | null>();

function resolveImport(from: string, specifier: string, modelsDir: string): string {
  const base = specifier.replace(/\.js$/, '');
  return `${base.startsWith('.') ? join(dirname(from), base) : join(modelsDir, base)}.d.ts`;
}

/** The first interface of a declaration file; null for aliases (quantities, int-or-string). */
function objectType(file: string, modelsDir: string): ObjectType | null {
  const known = cache.get(file);
  if (known !== undefined) return known;
  let result: ObjectType | null = null;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const body = /^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)\n\}/m.exec(text)?.[1];
    if (body !== undefined) {
      const imports = new Map(
        [...text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)].map((m) => [m[1]!, m[2]!]),
      );
      result = { fields: new Set(), children: new Map() };
      // Fields sit at four spaces; deeper lines belong to inline types.
      for (const [, name, type] of body.matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
        result.fields.add(name!);
        const referenced = /^(?:Array<)?(\w+)>?;$/.exec(type!)?.[1];
        const specifier = referenced ? imports.get(referenced) : undefined;
        if (specifier) result.children.set(name!, resolveImport(file, specifier, modelsDir));
      }
    }
  }
  cache.set(file, result);
  return result;
}

function walk(value: unknown, file: string, path: string, modelsDir: string, out: string[]): void {
  const type = objectType(file, modelsDir);
  if (!type) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, file, `${path}/${i}`, modelsDir, out));
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (!type.fields.has(key)) out.push(`${path || '/'} has unknown field ${JSON.stringify(key)}`);
    const childFile = type.children.get(key);
    if (childFile) walk(child, childFile, `${path}/${key}`, modelsDir, out);
  }
}

/** Unknown fields of a manifest whose model declaration is `modelFile` with `.d.ts`. */
export function unknownFields(doc: unknown, modelFile: string, modelsDir: string): string[] {
  const out: string[] = [];
  const declaration = modelFile.replace(/\.js$/, '.d.ts');
  if (!objectType(declaration, modelsDir)) return [`no field list in ${declaration}`];
  walk(doc, declaration, '', modelsDir, out);
  return out;
}
