/**
 * Trading hours (lambdas/shared/supervision/trading-hours.ts) in an agent's time zone, across DST.
 */
import { localTime, withinTradingHours } from '../../lambdas/shared/supervision/trading-hours';

describe('trading hours (America/New_York across DST)', () => {
  const nyse = { timezone: 'America/New_York', start: '09:30', end: '16:00', weekdays: [1, 2, 3, 4, 5] };
  it('uses EST (UTC-5) before and EDT (UTC-4) after the 2024-03-10 switch', () => {
    // Friday 2024-03-08 14:30 UTC = 09:30 EST: open (start inclusive)
    expect(withinTradingHours(nyse, Date.parse('2024-03-08T14:30:00Z'))).toBe(true);
    expect(withinTradingHours(nyse, Date.parse('2024-03-08T14:29:00Z'))).toBe(false);
    // Monday 2024-03-11 13:30 UTC = 09:30 EDT: open; 14:30 UTC the same wall-clock rule in EST would also be open, 13:29 is not
    expect(withinTradingHours(nyse, Date.parse('2024-03-11T13:30:00Z'))).toBe(true);
    expect(withinTradingHours(nyse, Date.parse('2024-03-11T13:29:00Z'))).toBe(false);
    // end exclusive: 16:00 EDT = 20:00 UTC closed, 19:59 open
    expect(withinTradingHours(nyse, Date.parse('2024-03-11T20:00:00Z'))).toBe(false);
    expect(withinTradingHours(nyse, Date.parse('2024-03-11T19:59:00Z'))).toBe(true);
  });
  it('weekdays are local: Saturday 00:30 UTC is still Friday evening in New York', () => {
    expect(localTime(Date.parse('2024-03-09T00:30:00Z'), 'America/New_York')).toEqual({ isoWeekday: 5, minutes: 19 * 60 + 30 });
    expect(withinTradingHours(nyse, Date.parse('2024-03-09T15:00:00Z'))).toBe(false); // Saturday 10:00
  });
  it('a window that spans midnight', () => {
    const night = { timezone: 'UTC', start: '22:00', end: '02:00', weekdays: [1, 2, 3, 4, 5, 6, 7] };
    expect(withinTradingHours(night, Date.parse('2024-03-09T23:00:00Z'))).toBe(true);
    expect(withinTradingHours(night, Date.parse('2024-03-09T01:59:00Z'))).toBe(true);
    expect(withinTradingHours(night, Date.parse('2024-03-09T02:00:00Z'))).toBe(false);
  });
});
