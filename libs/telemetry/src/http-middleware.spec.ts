import type { NextFunction, Request, Response } from 'express';
import { portGate } from './http-middleware';
import { RequestContext } from './request-context';

function run(gate: ReturnType<typeof portGate>, path: string, localPort: number): number {
  let status = 0;
  const res = {
    status(code: number) {
      status = code;
      return this;
    },
    type() {
      return this;
    },
    json() {
      return this;
    },
  } as unknown as Response;
  const req = { path, method: 'GET', socket: { localPort } } as unknown as Request;
  const next: NextFunction = () => {
    status = 200;
  };
  gate(req, res, next);
  return status;
}

describe('portGate', () => {
  const api = portGate({ publicPort: 3000, opsPort: 9464 });
  it.each([
    ['/metrics', 3000, 404],
    ['/internal/worker/heartbeat', 3000, 404],
    ['/v1/contacts', 3000, 200],
    ['/health', 3000, 200],
    ['/ready', 3000, 200],
    ['/metrics', 9464, 200],
    ['/internal/worker/heartbeat', 9464, 200],
    ['/v1/contacts', 9464, 404],
    ['/docs', 9464, 404],
    ['/health', 9464, 200],
  ])('api: %s on port %i → %i', (path, port, expected) => {
    expect(run(api, path, port)).toBe(expected);
  });

  it('serves only ops paths when there is no public port (worker, beat)', () => {
    const ops = portGate({ opsPort: 9464 });
    expect(run(ops, '/metrics', 9464)).toBe(200);
    expect(run(ops, '/v1/contacts', 9464)).toBe(404);
  });
});

describe('RequestContext.requestIdFrom', () => {
  it('accepts a well-formed client id and replaces anything else', () => {
    expect(RequestContext.requestIdFrom('abc-123_456.789')).toBe('abc-123_456.789');
    for (const bad of ['short', 'x'.repeat(200), 'has space in it', '<script>alert(1)</script>', undefined]) {
      const id = RequestContext.requestIdFrom(bad);
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('carries fields through async work', async () => {
    const seen = await RequestContext.run({ request_id: 'r-1234567' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      RequestContext.assign({ tenant_id: 't1' });
      return RequestContext.current();
    });
    expect(seen).toEqual({ request_id: 'r-1234567', tenant_id: 't1' });
    expect(RequestContext.current()).toEqual({});
  });
});
