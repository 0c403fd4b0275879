import { randomUUID } from 'node:crypto';

/**
 * The AWS query protocol as the SDK speaks it: a form-encoded POST with `Action`, `Version` and the
 * operation's parameters flattened (`InstanceIds.member.1=…` for Auto Scaling, `InstanceId.1=…`
 * for EC2), answered with XML.
 */
export type QueryParams = Map<string, string>;

export function parseQuery(body: string): QueryParams {
  return new Map(new URLSearchParams(body).entries());
}

/** Values of a flattened list (`prefix.1`, `prefix.2`, …) in index order. */
export function listParam(params: QueryParams, prefix: string): string[] {
  const items: Array<[number, string]> = [];
  for (const [key, value] of params) {
    const m = key.startsWith(`${prefix}.`) ? /^(\d+)$/.exec(key.slice(prefix.length + 1)) : null;
    if (m) items.push([Number(m[1]), value]);
  }
  return items.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
}

/** A service error in the service's own wording; the server renders it in the service's XML error shape. */
export class QueryError extends Error {
  constructor(readonly code: string, message: string, readonly httpStatus = 400) {
    super(message);
  }
}

export function requiredParam(params: QueryParams, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') throw new QueryError('ValidationError', `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

export function integerParam(params: QueryParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new QueryError('ValidationError', `Value '${value}' at '${lowerFirst(name)}' is not an integer`);
  return Number(value);
}

export function booleanParam(params: QueryParams, name: string): boolean | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw new QueryError('ValidationError', `Value '${value}' at '${lowerFirst(name)}' is not a boolean`);
  return value === 'true';
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** An XML element: children are elements, text, or nothing (omitted). */
export type XmlNode = string | number | boolean | undefined | XmlElement | XmlNode[];
export interface XmlElement {
  tag: string;
  children: XmlNode[];
}

export function el(tag: string, ...children: XmlNode[]): XmlElement {
  return { tag, children };
}

export function renderXml(node: XmlNode): string {
  if (node === undefined) return '';
  if (Array.isArray(node)) return node.map(renderXml).join('');
  if (typeof node === 'object') return `<${node.tag}>${node.children.map(renderXml).join('')}</${node.tag}>`;
  return escapeXml(String(node));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function newRequestId(): string {
  return randomUUID();
}

/** Auto Scaling (2011-01-01) wraps results in `<ActionResponse><ActionResult>` and uses `member` list items. */
export function autoScalingResponse(action: string, requestId: string, result?: XmlNode[]): string {
  const ns = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
  const body = renderXml([
    result === undefined ? undefined : el(`${action}Result`, ...result),
    el('ResponseMetadata', el('RequestId', requestId)),
  ]);
  return `<${action}Response xmlns="${ns}">${body}</${action}Response>`;
}

export function autoScalingError(error: QueryError, requestId: string): string {
  const ns = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
  const type = error.httpStatus >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${ns}">${renderXml([
    el('Error', el('Type', type), el('Code', error.code), el('Message', error.message)),
    el('RequestId', requestId),
  ])}</ErrorResponse>`;
}

/** EC2 (2016-11-15) puts fields straight under `<ActionResponse>` and uses `item` list items. */
export function ec2Response(action: string, requestId: string, fields: XmlNode[]): string {
  const ns = 'http://ec2.amazonaws.com/doc/2016-11-15/';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${ns}">${renderXml([el('requestId', requestId), ...fields])}</${action}Response>`;
}

export function ec2Error(error: QueryError, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response>${renderXml([
    el('Errors', el('Error', el('Code', error.code), el('Message', error.message))),
    el('RequestID', requestId),
  ])}</Response>`;
}

export function members(items: XmlNode[]): XmlElement[] {
  return items.map((item) => el('member', item));
}

export function items(entries: XmlNode[]): XmlElement[] {
  return entries.map((entry) => el('item', entry));
}
