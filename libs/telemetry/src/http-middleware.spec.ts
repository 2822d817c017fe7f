import type { NextFunction, Request, Response } from 'express';
import { publicListenerOnly } from './http-middleware';
import { ServerPorts } from './routes';
import { RequestContext } from './request-context';

function run(gate: ReturnType<typeof publicListenerOnly>, localPort: number): number {
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
  const req = { path: '/docs', method: 'GET', socket: { localPort } } as unknown as Request;
  const next: NextFunction = () => {
    status = 200;
  };
  gate(req, res, next);
  return status;
}

function ports(publicPort: number | undefined, opsPort: number | undefined): ServerPorts {
  const p = new ServerPorts();
  p.publicPort = publicPort;
  p.opsPort = opsPort;
  return p;
}

describe('publicListenerOnly (mounts outside Nest: docs, Bull Board)', () => {
  it('serves on the public listener and answers 404 on the ops listener', () => {
    const gate = publicListenerOnly(ports(3000, 9464));
    expect(run(gate, 3000)).toBe(200);
    expect(run(gate, 9464)).toBe(404);
  });

  it('serves nothing of it on a process with only an ops listener (worker, beat)', () => {
    expect(run(publicListenerOnly(ports(undefined, 9464)), 9464)).toBe(404);
  });

  it('treats a process with no ops listener (a test app) as all public', () => {
    expect(run(publicListenerOnly(ports(4000, undefined)), 4000)).toBe(200);
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
