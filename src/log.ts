// One line per event on stdout/stderr. Configuration values never pass through here.
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: Level = 'info'): Logger {
  const write = (at: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (order[at] < order[level]) return;
    const line = fields ? `${message} ${JSON.stringify(fields, errorReplacer)}` : message;
    (at === 'error' || at === 'warn' ? console.error : console.log)(`${new Date().toISOString()} ${at} ${line}`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function errorReplacer(_key: string, value: unknown) {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
