/** What marquee's exit codes mean. */
export const EXIT = {
  OK: 0,
  /** Something failed at run time (I/O, a database error, shutdown had to force). */
  FAILURE: 1,
  /** The command line or configuration is wrong: unknown flag, bad value. */
  USAGE: 2,
  /** The input data is wrong: a bad header, a corrupt gzip, a bad line under --strict. */
  DATA: 65,
  /** Interrupted by SIGINT. */
  INTERRUPTED: 130,
} as const
