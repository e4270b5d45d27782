import { describe, expect, it } from 'vitest';
import { calendarDate } from '../../src/matching/dates.js';

describe('calendarDate', () => {
  it.each([
    ['1987-03-14', '1987-03-14'],
    [' 1987-03-14 ', '1987-03-14'],
    ['1987-3-4', '1987-03-04'],
    ['1987/03/14', '1987-03-14'],
    ['1987.03.14', '1987-03-14'],
    ['19870314', '1987-03-14'],
    ['1987-03-14T00:00:00Z', '1987-03-14'],
    // The date as written, not as it falls in UTC.
    ['1987-03-14T23:30:00-05:00', '1987-03-14'],
    ['14.03.1987', '1987-03-14'],
    ['4.3.1987', '1987-03-04'],
    ['14/03/1987', '1987-03-14'],
    ['03/14/1987', '1987-03-14'],
    ['14-03-1987', '1987-03-14'],
    ['04/04/1987', '1987-04-04'],
    ['14 March 1987', '1987-03-14'],
    ['14th March 1987', '1987-03-14'],
    ['14-Mar-1987', '1987-03-14'],
    ['March 14, 1987', '1987-03-14'],
    ['Sept 1 1987', '1987-09-01'],
    ['2024-02-29', '2024-02-29'],
  ])('reads %j as %s', (text, date) => expect(calendarDate(text)).toBe(date));

  it.each([
    ['03/04/1987', 'day and month could be either'],
    ['14/03/87', 'a two-digit year'],
    ['2023-02-29', 'a day the calendar lacks'],
    ['1987-04-31', 'a day the calendar lacks'],
    ['1987-13-01', 'no month 13'],
    ['0987-03-14', 'a year before 1000'],
    ['Ma 14 1987', 'a month name too short to tell'],
    ['Smarch 14, 1987', 'no such month'],
    ['1987', 'a year alone'],
    ['', 'nothing'],
    ['yesterday', 'words'],
  ])('names no date in %j (%s)', (text) => expect(calendarDate(text)).toBeUndefined());
});
