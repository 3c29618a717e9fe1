// The operator's JSON logs (pino). Each line about an object carries its key.
import { type Logger, pino } from 'pino';

export function operatorLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'brewery-operator', level, base: { pid: process.pid } });
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
