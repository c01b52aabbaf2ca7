// Date.prototype.toISOString for the call-home answers, which carry five or so dates each: V8 formats
// them through a printf-style routine, about half a microsecond a date on this machine, and that was
// 1.4% of the request thread under load (README, "Benchmark"). The same text from arithmetic on the
// epoch milliseconds (Howard Hinnant's days-to-civil algorithm); a property test holds it to
// toISOString. Outside years 1970–9999 it simply calls toISOString.

const MS_PER_DAY = 86_400_000;
/** 10000-01-01T00:00:00.000Z: from here on toISOString writes a six-digit, signed year. */
const YEAR_10000 = 253_402_300_800_000;

const TWO = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
const THREE = Array.from({ length: 1000 }, (_, i) => `${i}`.padStart(3, '0'));

/** new Date(ms).toISOString(), for a whole number of milliseconds. */
export function isoString(ms: number): string {
  if (!(ms >= 0 && ms < YEAR_10000 && Number.isInteger(ms))) return new Date(ms).toISOString();
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  // Days since 0000-03-01 in 400-year eras, so that leap days fall at the end of a year.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${TWO[Math.floor(year / 100)]}${TWO[year % 100]}-${TWO[month]}-${TWO[day]}T${TWO[hours]}:${TWO[minutes]}:${TWO[seconds]}.${THREE[millis]}Z`;
}

/** isoString of a date, or null. */
export function isoOrNull(d: Date | null): string | null {
  return d === null ? null : isoString(d.getTime());
}
