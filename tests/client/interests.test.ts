/** Interest chips: what typing "music, films" adds, and what is refused with a sentence. */
import { describe, expect, it } from 'vitest';
import { addInterests, validInterests } from '../../client/src/lib/validate';

describe('interest chips', () => {
  it('adds each comma-separated interest once, trimmed and lower-cased', () => {
    expect(addInterests(['music'], ' Films,  board   games ,music,,')).toEqual({ interests: ['music', 'films', 'board games'] });
  });

  it('refuses an interest over 24 characters or with other characters, keeping the ones before it', () => {
    const long = addInterests([], 'chess, ' + 'a'.repeat(25));
    expect(long.interests).toEqual(['chess']);
    expect(long.error).toMatch(/at most 24 characters/);
    expect(addInterests([], 'c++').error).toMatch(/letters, numbers, spaces, _ and - only/);
    expect(addInterests([], 'sci-fi, rock_n_roll, música').interests).toEqual(['sci-fi', 'rock_n_roll', 'música']);
  });

  it('stops at ten', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `tag${i}`);
    const r = addInterests(ten, 'one more');
    expect(r.interests).toEqual(ten);
    expect(r.error).toBe('Please choose at most 10 interests.');
  });

  it('forgets a remembered list that is not a list of usable interests', () => {
    expect(validInterests('music')).toEqual([]);
    expect(validInterests(['music', 3, 'Films'])).toEqual(['music', 'films']);
  });
});
