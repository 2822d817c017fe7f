import { listenersOf, ROUTE_ACCESS_VALUES } from './route-access';

describe('listenersOf', () => {
  it('keeps ops routes off the public listener and API routes off the ops listener', () => {
    const table = Object.fromEntries(ROUTE_ACCESS_VALUES.map((a) => [a, listenersOf(a)]));
    expect(table).toEqual({
      probe: { public: true, ops: true },
      ops: { public: false, ops: true },
      platform: { public: true, ops: false },
      operator: { public: true, ops: false },
      read: { public: true, ops: false },
      write: { public: true, ops: false },
      admin: { public: true, ops: false },
      public: { public: true, ops: false },
    });
  });
});
