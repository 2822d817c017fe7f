import { register } from 'prom-client';
import { gaugesOfOneRead } from './one-read-gauges';

describe('gauges of one read', () => {
  const value = async (name: string) => (await register.getSingleMetric(name)!.get()).values[0]?.value;

  it('values each gauge from one read a scrape, and keeps the last values when a read fails', async () => {
    let reads = 0;
    let fail = false;
    gaugesOfOneRead(
      () => {
        reads += 1;
        return fail ? Promise.reject(new Error('database away')) : Promise.resolve({ count: 3, age: 42 });
      },
      {
        count: { name: 'test_one_read_count', help: 'test' },
        age: { name: 'test_one_read_age_seconds', help: 'test' },
      },
    );
    expect([await value('test_one_read_count'), await value('test_one_read_age_seconds')]).toEqual([3, 42]);
    expect(reads).toBe(1);

    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 5000);
    fail = true;
    expect([await value('test_one_read_count'), await value('test_one_read_age_seconds')]).toEqual([3, 42]);
    expect(reads).toBe(2);
  });

  afterAll(() => {
    jest.restoreAllMocks();
    register.removeSingleMetric('test_one_read_count');
    register.removeSingleMetric('test_one_read_age_seconds');
  });
});
