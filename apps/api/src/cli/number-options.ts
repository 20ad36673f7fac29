/**
 * Parsers of numeric command-line options, shared by every command: each takes the flag's name
 * and refuses a value outside its range with a message that names the flag and what it must be.
 */
const numberOption = (what: string, ok: (n: number) => boolean) => (name: string) => (v: string) => {
  const n = Number(v);
  // Number('') and Number(' ') are 0: a blank value is no number
  if (v.trim() === '' || !ok(n)) throw new Error(`${name} must be ${what}, got "${v}"`);
  return n;
};

/** any finite number; the service checks the range of what it is sent */
export const finiteNumber = numberOption('a number', Number.isFinite);
/** any integer; the service checks the range of what it is sent */
export const integer = numberOption('an integer', Number.isInteger);
export const positiveInt = numberOption('a positive integer', (n) => Number.isInteger(n) && n >= 1);
export const nonNegativeInt = numberOption('a non-negative integer', (n) => Number.isInteger(n) && n >= 0);
export const positiveNumber = numberOption('a positive number', (n) => n > 0 && Number.isFinite(n));
export const nonNegative = numberOption('a number >= 0', (n) => Number.isFinite(n) && n >= 0);
/** [0, 1): a rate such as dropout */
export const unitInterval = numberOption('in [0, 1)', (n) => n >= 0 && n < 1);
/** (0, 1]: a fraction such as a momentum */
export const fraction = numberOption('in (0, 1]', (n) => n > 0 && n <= 1);
export const portNumber = numberOption('a port number (0: any free one)', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
