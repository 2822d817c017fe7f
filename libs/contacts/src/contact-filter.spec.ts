import { birthdayKeys, likePrefix } from './contact-filter';
import { uuidv7, isUuid } from './ids';

describe('birthdayKeys', () => {
  it('is "today" in the given time zone, not the server’s', () => {
    const instant = new Date('2026-03-14T23:30:00Z');
    expect(birthdayKeys('today', 'UTC', instant)).toEqual([314]);
    expect(birthdayKeys('today', 'Asia/Tokyo', instant)).toEqual([315]);
    expect(birthdayKeys('today', 'America/Los_Angeles', instant)).toEqual([314]);
  });

  it('greets 29 February birthdays on 28 February in common years only', () => {
    expect(birthdayKeys('today', 'UTC', new Date('2027-02-28T12:00:00Z'))).toEqual([228, 229]);
    expect(birthdayKeys('today', 'UTC', new Date('2028-02-28T12:00:00Z'))).toEqual([228]);
    expect(birthdayKeys('today', 'UTC', new Date('2028-02-29T12:00:00Z'))).toEqual([229]);
  });

  it('takes MM-DD and refuses days that do not exist', () => {
    expect(birthdayKeys('12-31', 'UTC')).toEqual([1231]);
    expect(birthdayKeys('02-29', 'UTC')).toEqual([229]);
    expect(birthdayKeys('02-30', 'UTC')).toBeUndefined();
    expect(birthdayKeys('13-01', 'UTC')).toBeUndefined();
    expect(birthdayKeys('00-10', 'UTC')).toBeUndefined();
    expect(birthdayKeys('1-1', 'UTC')).toBeUndefined();
  });
});

describe('likePrefix', () => {
  it('escapes LIKE wildcards', () => {
    expect(likePrefix('a_b%c\\')).toBe('a\\_b\\%c\\\\%');
  });
});

describe('uuidv7', () => {
  it('makes valid, increasing version 7 UUIDs', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    expect(ids.every(isUuid)).toBe(true);
    expect(ids.every((id) => id[14] === '7' && '89ab'.includes(id[19]!))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
