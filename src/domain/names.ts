import { ValidationError } from './errors';
import { readString } from './json-reader';

/** Names of apps, tiers, nodes and hooks: what Docker accepts in a container name, and safe in a path. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Names may be file names (hooks) and ids: 128 characters at most (app and tier names: 63, see topology.ts). */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 128 && NAME_PATTERN.test(name);
}

/** A tier's flat name names it in plans, allocations and as its container's name on a node. */
export function flatTierName(app: string, tier: string): string {
  return `${app}_${tier}`;
}

// The grammar of an image reference (github.com/distribution/reference): [domain[:port]/]path[:tag][@digest].
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_REFERENCE = new RegExp(
  `^(?<name>(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/**
 * An image reference an engine accepts (`busybox`, `ecoware/busybox:latest`, `host:5000/a/b@sha256:…`).
 * Anything else would only be refused by the engine when a container is created, as an engine failure.
 */
export function isImageReference(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 512) return false;
  const name = IMAGE_REFERENCE.exec(value)?.groups?.name;
  if (name === undefined || name.length > 255) return false;
  // The first part is a registry only with a '.' or a ':' in it, or as localhost; else it is a path, in lower case.
  const first = name.split('/')[0];
  return !name.includes('/') || /[.:]/.test(first) || first === 'localhost' || first === first.toLowerCase();
}

/** A string that is an image reference, refused naming the field otherwise. */
export function readImageReference(value: unknown, field: string): string {
  const image = readString(value, field);
  const shown = image.slice(0, 300);
  if (!isImageReference(image)) {
    throw new ValidationError(field, `'${shown}' is not an image reference ([registry[:port]/]name[:tag][@digest], name in lower case)`);
  }
  return image;
}
