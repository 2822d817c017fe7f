import { loggedUrl } from './logging';

describe('loggedUrl', () => {
  it('redacts a token query value wherever it is, and leaves other URLs alone', () => {
    expect(loggedUrl('/console/sign-in?token=hl_secret')).toBe('/console/sign-in?token=[redacted]');
    expect(loggedUrl('/console/sign-in?a=1&TOKEN=hl_secret&b=2')).toBe(
      '/console/sign-in?a=1&TOKEN=[redacted]&b=2',
    );
    expect(loggedUrl('/v1/contacts?limit=3&cursor=abc')).toBe('/v1/contacts?limit=3&cursor=abc');
    expect(loggedUrl('/v1/contacts?mytoken=x')).toBe('/v1/contacts?mytoken=x');
    expect(loggedUrl(undefined)).toBeUndefined();
  });
});
